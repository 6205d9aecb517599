"""The README's tour, run as written: the README cannot drift from what the hub does.

The block after ``<!-- tour -->`` in README.md is extracted (not copied) and run line by line
in one bash process, as a new user would type it after the set-up: from the repository's
folder, with HOME in a temporary folder (the tour works in ``~/hub-tour``), no node
configuration and no database in the environment.  A comment's ``exit N`` is the expected
exit status (0 when none is given); text in double quotes in a comment must appear in what the
command prints.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

_EXIT = re.compile(r"#\s*exit (\d+)")
_QUOTED = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class Step:
    line: int
    command: str
    exit: int
    expect: tuple[str, ...]


def tour_steps(readme: str) -> list[Step]:
    start = readme.index("<!-- tour -->")
    body = readme[start:].split("```sh\n", 1)[1].split("\n```", 1)[0]
    first = readme[:start].count("\n") + 3
    steps = []
    for n, raw in enumerate(body.splitlines(), start=first):
        if not raw.strip():
            continue
        command, _, comment = raw.partition("  # ")
        m = _EXIT.search("# " + comment)
        steps.append(
            Step(n, command.strip(), int(m[1]) if m else 0, tuple(_QUOTED.findall(comment)))
        )
    return steps


def test_the_tour_is_extracted_whole() -> None:
    steps = tour_steps((ROOT / "README.md").read_text("utf-8"))
    assert len(steps) >= 40
    assert steps[0].command == "source .venv/bin/activate"
    assert all("#" not in s.command for s in steps), "a comment needs two spaces before #"
    assert any(s.exit == 1 for s in steps) and any(s.exit == 2 for s in steps)


@pytest.mark.slow
def test_every_tour_command_runs_as_the_readme_says(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.fail("the tour needs the set-up's .venv: run scripts/setup.sh")
    if shutil.which("openssl") is None:
        pytest.fail("the tour needs openssl (Debian's openssl package)")
    steps = tour_steps((ROOT / "README.md").read_text("utf-8"))
    out = tmp_path / "out"
    out.mkdir()
    script = ["set +e"]
    for i, s in enumerate(steps):
        script.append(
            f"{{ {s.command}\n}} > {out}/{i}.txt 2>&1 < /dev/null; echo $? > {out}/{i}.rc"
        )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUB_", "VIRTUAL_ENV", "PYTHON")) and k != "COLUMNS"
    }
    env |= {"HOME": str(tmp_path / "home"), "COLUMNS": "200", "PATH": os.defpath}
    (tmp_path / "home").mkdir()
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, check=True, timeout=600)
    failures = []
    for i, s in enumerate(steps):
        text = (out / f"{i}.txt").read_text("utf-8", errors="replace")
        rc = int((out / f"{i}.rc").read_text())
        missing = [e for e in s.expect if e not in " ".join(text.split()) and e not in text]
        if rc != s.exit or missing:
            failures.append(
                f"README.md:{s.line}: {s.command}\n  exit {rc} (README says {s.exit})"
                + (f"; missing {missing}" if missing else "")
                + "\n  "
                + text[-1500:].replace("\n", "\n  ")
            )
    assert not failures, "\n".join(failures)
    assert (tmp_path / "home" / "hub-tour" / "city" / "node.toml").is_file()
