"""What the CLI does with an error nobody foresaw: one line on stderr naming a log file that
holds the traceback, and exit status 2."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from hub import __version__

ENV_LOG_DIR = "HUB_LOG_DIR"


def log_dir() -> Path:
    """$HUB_LOG_DIR, else the XDG state folder (~/.local/state/hub)."""
    if os.environ.get(ENV_LOG_DIR):
        return Path(os.environ[ENV_LOG_DIR])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hub"


def report(exc: BaseException) -> NoReturn:
    when = datetime.now().astimezone()
    what = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    where = "(no log could be written)"
    try:
        d = log_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / "errors.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {when.isoformat()} hub {__version__}: {' '.join(sys.argv)}\n")
            fh.write("".join(traceback.format_exception(exc)))
        where = str(path)
    except OSError:
        pass
    print(
        f"error: unexpected failure ({what}); the details are in {where}: "
        "please report them with the command you ran",
        file=sys.stderr,
    )
    sys.exit(2)
