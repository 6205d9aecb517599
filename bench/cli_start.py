"""How long a `hub` call takes before it does anything, against the eager start it replaced.

Baseline, in the same run: a process that imports every command module up front, as `hub`
did before commands were loaded lazily (``hub.cli.groups.LazyGroup``), then prints the version.
The hub: the installed ``hub`` script itself.  Each figure is the median wall time of
``--repeat`` fresh processes.

    .venv/bin/python bench/cli_start.py --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HUB = str(Path(sys.executable).with_name("hub"))
EAGER = (
    "import hub.cli as c; from hub import __version__; "
    "[c.cli.get_command(None, n) for n in c.COMMANDS]; print('hub, version', __version__)"
)


def wall(argv: list[str], repeat: int, cwd: Path) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        subprocess.run(
            [HUB, "generate", "-n", "1", "-o", "one.jsonl"],
            cwd=cwd,
            check=True,
            capture_output=True,
        )
        first = (cwd / "one.jsonl").read_text("utf-8").splitlines()[0]
        (cwd / "r1.jsonl").write_text(first + "\n", "utf-8")
        baseline = wall([sys.executable, "-c", EAGER], args.repeat, cwd)
        rows = [
            ("eager import of every command (baseline)", baseline, None),
            ("hub --version", wall([HUB, "--version"], args.repeat, cwd), 0.3),
            ("hub --help", wall([HUB, "--help"], args.repeat, cwd), 0.3),
            (
                "hub validate (one record)",
                wall([HUB, "validate", "r1.jsonl"], args.repeat, cwd),
                0.6,
            ),
        ]
    print(f"{'command':44} {'median s':>9} {'goal s':>7} {'vs baseline':>12}")
    for name, secs, goal in rows:
        g = f"{goal:.1f}" if goal else ""
        print(f"{name:44} {secs:9.3f} {g:>7} {secs / baseline:11.2f}x")


if __name__ == "__main__":
    main()
