"""A bench's scratch folder, removed when the bench's process ends: its stores and generated
files reach gigabytes at a million records, and runs left them in /tmp (40 GB after one
day's benching).  ``HUB_BENCH_KEEP=1`` keeps it, to look inside."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def scratch(prefix: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    if os.environ.get("HUB_BENCH_KEEP"):
        print(f"(kept: {tmp})")
    else:
        atexit.register(shutil.rmtree, tmp, True)
    return tmp
