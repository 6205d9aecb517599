#!/usr/bin/env bash
# Install everything the hub and its tests need on a fresh Debian machine:
# Debian's libxml2-utils (xmllint, the independent XSD validator the tests call), Debian's
# openssh-server and openssh-client (the sftp adapter's tests start their own sshd on a
# loopback port and compare with OpenSSH's sftp client) and a virtualenv in .venv with the
# package and its dev extras.  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

need_apt=()
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v sftp >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)  # the README tour checks a receipt with it
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import hub, lxml, xmlschema, jsonschema_rs, stdnum, pycountry" \
  || { echo "setup: the install did not complete" >&2; exit 1; }
