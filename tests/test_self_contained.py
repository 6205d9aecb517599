"""The repository carries everything its tests and commands read: nothing outside its tree.

A user's clone has nothing beside it: the dictionary checks run here from a copy of the
repository placed alone in an empty folder, so a read of anything beside the repository fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _repository_files() -> list[str]:
    """What a clone holds: git's tracked files plus new ones it does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]


def test_dictionary_checks_pass_from_a_lone_copy_of_the_repository(tmp_path: Path) -> None:
    alone = tmp_path / "empty" / "repo"
    for rel in _repository_files():
        (alone / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, alone / rel)
    assert sorted(p.name for p in alone.parent.iterdir()) == ["repo"]
    # the copy's own package is the one imported (the current directory comes first)
    where = subprocess.run(
        [sys.executable, "-c", "import hub; print(hub.__file__)"],
        cwd=alone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(alone), where
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_dictionary.py",
        ],
        cwd=alone,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
