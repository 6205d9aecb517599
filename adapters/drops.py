"""Which dropped files may be taken now: shared by the folder adapters (files, sftp), with
how much of a receipt left beside a drop they read.

A county's job writes a file, then (optionally) a done-marker beside it.  A file is takeable
when it matches a pattern and either its marker exists or, without markers, it has not
changed for ``min_age`` seconds.  Hidden files, markers and sidecars are never inputs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

MAX_RECEIPT = 256 * 1024 * 1024  # read no more of a file said to be a receipt (it is verified)


def takeable(
    files: Iterable[tuple[str, float]],
    patterns: Sequence[str],
    done_marker: str | None,
    min_age: float,
    now: float,
    sidecars: Sequence[str] = (),
) -> list[str]:
    """Names of the regular files ``(name, mtime)`` that may be taken, in name order."""
    entries = dict(files)
    skip = tuple(s for s in (done_marker, *sidecars) if s)
    out = []
    for name in sorted(entries):
        if name.startswith(".") or (skip and name.endswith(skip)):
            continue
        if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        if done_marker:
            if name + done_marker not in entries:
                continue
        elif now - entries[name] < min_age:
            continue  # may still be being written
        out.append(name)
    return out
