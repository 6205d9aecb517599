"""What the CLI does with an error nobody foresaw: one line on stderr naming a log file that
holds the traceback, and exit status 2."""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Iterator
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


# what a full disk (or a file-size or disk quota limit) looks like from each layer
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_FULL_TEXTS = ("database or disk is full", "disk i/o error", "no space left on device",
               "could not extend file", "file too large", "disk quota exceeded")  # fmt: skip


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling."""
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def storage_full(exc: BaseException) -> str | None:
    """The storage error behind ``exc`` when it is a full disk or a limit, else None."""
    for seen in _chain(exc):
        if isinstance(seen, OSError) and seen.errno in _FULL_ERRNOS:
            return os.strerror(seen.errno or 0)
        text = str(seen).lower()
        if hit := next((t for t in _FULL_TEXTS if t in text), None):
            return hit
    return None


def full(why: str) -> NoReturn:
    print(
        f"error: the store could not be written ({why}): the disk is full, a file-size or "
        "quota limit was reached, or the disk is failing. Nothing after the last commit was "
        "kept and the input was not acknowledged; free space, then run the same command "
        "again (what was committed comes back as duplicates). `hub db check` says whether "
        "the store is sound.",
        file=sys.stderr,
    )
    sys.exit(2)


def database_down(exc: BaseException) -> str | None:
    """The driver's first line when ``exc`` is the database server gone away (stopped,
    restarted, the network cut), else None."""
    for seen in _chain(exc):
        if type(seen).__module__.startswith("psycopg") and type(seen).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return str(seen).strip().splitlines()[0][:300]
    return None


def report(exc: BaseException) -> NoReturn:
    if (why := storage_full(exc)) is not None:
        full(why)
    if (why := database_down(exc)) is not None:
        print(
            f"error: the database stopped answering ({why}). Nothing after the last commit "
            "was kept and the input was not acknowledged; when the database is back "
            "(`hub db status`), run the same command again: what was committed comes back "
            "as duplicates.",
            file=sys.stderr,
        )
        sys.exit(2)
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
