"""The CLI as a user runs it: exit codes and the JSON issue format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hub.validation.issues import ISSUE_KEYS


def hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, check=False
    )


def test_validate_exit_codes_and_json(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.xml", tmp_path / "bad.jsonl"
    assert hub("generate", "-n", "2", "--format", "xml", "-o", str(good)).returncode == 0
    res = hub("validate", str(good))
    assert res.returncode == 0, res.stdout + res.stderr
    assert (
        hub(
            "generate", "-n", "2", "--format", "jsonl", "--invalid-rate", "0.3", "-o", str(bad)
        ).returncode
        == 0
    )
    res = hub("validate", "--format", "json", str(bad))
    assert res.returncode == 1
    issues = json.loads(res.stdout)
    assert issues
    assert all(tuple(i) == ISSUE_KEYS for i in issues)
    assert isinstance(issues[0]["record"], int)
    missing = hub("validate", str(tmp_path / "nope.xml"))
    assert missing.returncode == 2
    assert "nope.xml" in missing.stderr
    assert hub("validate").returncode == 2


def test_schemas_build_check_passes() -> None:
    res = hub("schemas", "build", "--check")
    assert res.returncode == 0, res.stdout


def test_every_listed_command_loads_with_its_sub_commands() -> None:
    import click

    from hub.cli import COMMANDS, cli

    ctx = click.Context(cli)
    for name, (_target, line, extra) in COMMANDS.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None, name
        assert cmd.help, name
        assert line.endswith("."), name
        if isinstance(cmd, click.Group):
            assert len(extra) <= len(cmd.commands), name


def test_version_and_help_import_no_command_module() -> None:
    code = (
        "import sys; from hub.cli import cli\n"
        "try:\n cli(['--help'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('hub.cli.') or "
        "m.split('.')[0] in ('sqlalchemy', 'pydantic', 'rich', 'lxml')))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip().splitlines()[-1] == "['hub.cli.groups']"


def test_a_mistyped_command_gets_the_close_match() -> None:
    res = hub("valdate", "x.jsonl")
    assert res.returncode == 2
    assert "did you mean 'validate'?" in res.stderr
    res = hub("quarantine", "lst")
    assert "did you mean 'list'?" in res.stderr
