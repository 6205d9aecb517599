#!/usr/bin/env bash
# The console's browser tests: Debian's chromium (Playwright drives it through its executable
# path; Playwright's own browser download is not used) and a CJK font, so that the pages'
# Chinese renders in the screenshots saved under artifacts/console/.  Safe to run again.
set -euo pipefail
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk" || need_apt+=(fonts-wqy-microhei)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
chromium --version >/dev/null 2>&1 || { echo "browser: chromium does not start" >&2; exit 1; }
