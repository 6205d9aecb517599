"""``hub init DIR``: a node folder that works as it is.

It holds a commented ``node.toml``, a TEST PKI in ``keys/`` (its own CA names and serials, so
several nodes' CAs can sit in one trust folder), an empty ``trust/`` folder for the CA
certificates and CRLs of the platforms this node receives from, the shipped example mappings
with a county system's sample exports, and an inbox for that example source.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub import __version__
from hub.dictionary.paths import mappings_dir
from hub.errors import UsageError
from hub.package import testpki

LEVELS = ("county", "city", "province", "national")
EXAMPLE_SOURCE = "county-qingshan"

_TRUST_README = """\
Put here the CA certificate (*.pem) and its CRL (*.crl) of every platform whose signed
packages or receipts this node accepts; node.toml's [trust] reads every *.pem and *.crl in
this folder.  Exchange them with the other centre out of band (not over the data channel).
"""


@dataclass(frozen=True)
class NodeFolder:
    directory: Path
    config: Path
    written: list[Path]


def init_node(
    directory: Path,
    platform: str,
    level: str,
    now: datetime,
    *,
    name: str | None = None,
    upstream: str | None = None,
    examples: bool = True,
) -> NodeFolder:
    """Write a node folder; refuse to overwrite an existing node.toml."""
    if level not in LEVELS:
        raise UsageError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if not platform.strip():
        raise UsageError("--platform needs this node's platform code (an 18-character USCC)")
    config = directory / "node.toml"
    if config.exists():
        raise UsageError(f"{config} exists already; choose another folder or remove it first")
    directory.mkdir(parents=True, exist_ok=True)
    written = testpki.init(directory / "keys", platform, now)
    trust = directory / "trust"
    trust.mkdir(exist_ok=True)
    (trust / "README.txt").write_text(_TRUST_README, "utf-8")
    written.append(trust / "README.txt")
    if examples:
        written += _copy_examples(directory)
    config.write_text(
        _node_toml(name or directory.resolve().name, platform, level, now, upstream, examples),
        "utf-8",
    )
    written.append(config)
    return NodeFolder(directory, config, written)


def _copy_examples(directory: Path) -> list[Path]:
    src = mappings_dir()
    out: list[Path] = []
    (directory / "mappings").mkdir(exist_ok=True)
    for m in sorted(src.glob("*.toml")):
        out.append(Path(shutil.copy2(m, directory / "mappings" / m.name)))
    samples = directory / "samples" / "qingshan"
    samples.mkdir(parents=True, exist_ok=True)
    for f in sorted((src / "samples" / "qingshan").glob("*.csv")):
        out.append(Path(shutil.copy2(f, samples / f.name)))
    (directory / "inbox" / EXAMPLE_SOURCE).mkdir(parents=True, exist_ok=True)
    return out


def _node_toml(
    name: str, platform: str, level: str, now: datetime, upstream: str | None, examples: bool
) -> str:
    up = (
        f"[upstream]              # the platform above: `hub package push` sends there\n"
        f'adapter = "http"\n[upstream.options]\nurl = "{upstream}"\n'
        if upstream
        else "# [upstream]            # the platform above: `hub package push` sends there\n"
        '# adapter = "http"\n# [upstream.options]\n# url = "https://ggzy.province.example"\n'
    )
    example = (
        f"""
[sources.{EXAMPLE_SOURCE}]   # EXAMPLE: a county system's own GBK CSV export, read by its
adapter = "files"                 # mapping; try: cp samples/qingshan/*.csv inbox/{EXAMPLE_SOURCE}/
mapping = "mappings/qingshan-csv.toml"   # then: hub sync {EXAMPLE_SOURCE}
[sources.{EXAMPLE_SOURCE}.options]
inbox = "inbox/{EXAMPLE_SOURCE}"
pattern = ["*.csv"]
min_age_seconds = 0   # the example copies whole files; real drops: keep 5 s or a done_marker
# Replace it with your own sources: files, sftp, sql or http (docs/adapters.md).

[schedules.qingshan-inbox]        # EXAMPLE: `hub serve` syncs the example source by itself
source = "{EXAMPLE_SOURCE}"     # (hub schedule list; hub run qingshan-inbox runs it now)
every = "15m"                     # or cron = "30 2 * * *" (docs/operations.md)
"""
        if examples
        else "\n# [sources.NAME]: the systems below this node (docs/adapters.md)\n"
    )
    return f"""\
# Node configuration, written by `hub init` (hub {__version__}) on {now:%Y-%m-%d}.
# Every key is optional; docs/configuration.md lists them all.  Relative paths are taken
# from this file's folder.  Use it with --config node.toml or HUB_CONFIG=node.toml (inside
# this folder, `hub` finds ./node.toml by itself).

[node]
name = "{name}"
platform_code = "{platform}"   # this platform's code: the sender of what it signs
level = "{level}"

[store]
# url = "postgresql://hub@127.0.0.1/hub"   # production: PostgreSQL; empty: SQLite below
data_dir = "hub-data"                      # the SQLite store and the raw batches

[signing]   # TEST keys made by `hub init`: use keys issued by your CA in production
key = "keys/node-ecdsa.TEST-ONLY.key"   # ECDSA P-256: plain OpenSSL verifies what it signs
cert = "keys/node-ecdsa.pem"
# 国密 SM2/SM3: key = "keys/node-sm2.TEST-ONLY.key", cert = "keys/node-sm2.pem"
# (its receivers verify with the hub or Tongsuo; stock OpenSSL 3 cannot check SM2 chains)

# [encryption]   # packages sealed to this node (senders set encrypt_to) open with this key
# cert = "keys/node-ecdsa-enc.pem"
# key = "keys/node-ecdsa-enc.TEST-ONLY.key"
# require = true   # refuse packages that come unencrypted

[trust]     # whose signatures this node accepts: every *.pem and *.crl in trust/
anchors = ["trust"]
crls = ["trust"]

[http]      # hub serve: POST /v1/packages answers with the signed receipt; the console is
host = "127.0.0.1"   # at http://127.0.0.1:8480/console/ (hub users add NAME --role administrator)
port = 8480
{example}
{up}"""
