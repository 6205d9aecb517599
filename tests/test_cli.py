"""The CLI as a user runs it: exit codes and the JSON issue format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hub.validation.issues import ISSUE_KEYS
from tests.conftest import ROOT


def hub(*args: str) -> subprocess.CompletedProcess[str]:
    return hub_env({}, *args)


def hub_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``hub ARGS`` in a fresh process, as a user runs it (wide output, no node config)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**base, "COLUMNS": "200", **env},
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


def test_unreadable_or_misnamed_input_is_refused_whole_with_advice(tmp_path: Path) -> None:
    xml = tmp_path / "b.xml"
    assert hub("generate", "-n", "1", "--format", "xml", "-o", str(xml)).returncode == 0
    missing = hub("validate", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2
    assert "missing.jsonl" in missing.stderr and "[input.unreadable]" in missing.stderr
    assert "summary" not in missing.stdout  # nothing was read: no empty table
    wrong = hub("validate", str(xml), "--input-format", "jsonl")
    assert wrong.returncode == 2
    assert "[input.format]" in wrong.stderr and "--input-format xml" in wrong.stderr
    db = tmp_path / "hub.db"
    env_db = {"HUB_DATABASE_URL": f"sqlite:///{db}"}
    res = hub_env(env_db, "ingest", str(xml), "--source", "s", "--input-format", "jsonl")
    assert res.returncode == 2 and "is XML, expected a JSONL batch" in res.stderr
    q = hub_env(env_db, "quarantine", "list", "--format", "json")
    assert json.loads(q.stdout)["rows"] == []  # refused whole: nothing quarantined line by line
    csv = tmp_path / "XM.csv"
    csv.write_bytes("项目编号,项目名称\r\nE1,道路工程\r\n".encode("gbk"))
    res = hub_env(env_db, "ingest", str(csv), "--source", "s")
    assert res.returncode == 2 and "--mapping" in res.stderr and "GBK" in res.stderr


def test_close_matches_for_data_sets_sources_and_configuration_keys(tmp_path: Path) -> None:
    assert "did you mean 'SECTION'?" in hub("dictionary", "show", "SECTON").stderr
    assert hub("dictionary", "show", "标段").returncode == 0  # the Chinese name works too
    cfg = tmp_path / "node.toml"
    cfg.write_text('[node]\nplatfrom_code = "x"\n[stroe]\n[sources.a]\nmappnig = "m.toml"\n')
    res = hub("stats", "--config", str(cfg))
    assert res.returncode == 2
    assert "[node.platfrom_code] unknown key 'platfrom_code'; did you mean 'platform_code'?" in (
        " ".join(res.stderr.split())
    )
    assert "unknown section 'stroe'; did you mean 'store'" in " ".join(res.stderr.split())
    assert "did you mean 'mapping'?" in res.stderr
    ok = tmp_path / "ok.toml"
    ok.write_text(f'[store]\ndata_dir = "{tmp_path}"\n[sources.county-qingshan]\n')
    res = hub("sync", "county-qingshn", "--config", str(ok))
    assert res.returncode == 2 and "did you mean 'county-qingshan'?" in res.stderr


def test_an_unforeseen_failure_is_one_line_and_a_log_not_a_traceback(tmp_path: Path) -> None:
    code = (
        "import sys, hub.cli.validate_cmd as v\n"
        "def boom(*a, **k): raise RuntimeError('boom in the validator')\n"
        "v.validate_file = boom\n"
        "sys.argv = ['hub', 'validate', 'x.jsonl']\n"
        "from hub.cli import main; main()\n"
    )
    env = {**os.environ, "HUB_LOG_DIR": str(tmp_path / "logs")}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "RuntimeError: boom in the validator" in res.stderr
    log = (tmp_path / "logs" / "errors.log").read_text("utf-8")
    assert "Traceback" in log and "boom in the validator" in log and "validate x.jsonl" in log


def test_unreadable_configuration_and_mapping_files_are_errors_not_tracebacks(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[node]\nname = "青山县"\n'.encode("gbk"))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x00\x01\x02 not text")
    for cfg, says in (
        (deep, "nests arrays or tables too deeply"),
        (gbk, "is not UTF-8 text"),
        (binary, "NUL"),
    ):
        res = hub("stats", "--config", str(cfg))
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr and says in " ".join(res.stderr.split())
        assert cfg.name in res.stderr
    mapping = (ROOT / "mappings" / "qingshan-csv.toml").read_text("utf-8")
    bad = tmp_path / "zlib.toml"
    bad.write_text(mapping.replace('encoding = "gbk"', 'encoding = "zlib_codec"'), "utf-8")
    res = hub("mapping", "check", str(bad))
    assert res.returncode != 0 and "not a text encoding" in " ".join(
        res.stdout.split() + res.stderr.split()
    )
    res = hub(
        "mapping",
        "preview",
        str(bad),
        "--sample",
        str(ROOT / "mappings" / "samples" / "qingshan" / "BD_20240301.csv"),
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr
    deep_mapping = tmp_path / "deep-mapping.toml"
    deep_mapping.write_text(deep.read_text())
    res = hub("mapping", "check", str(deep_mapping))
    assert res.returncode != 0 and "Traceback" not in res.stderr


def test_codes_and_values_print_as_written_never_as_markup(tmp_path: Path) -> None:
    dtd = tmp_path / "bl.xml"
    dtd.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><BATCH/>')
    res = hub("validate", str(dtd))
    assert res.returncode == 2 and "[xml.dtd]" in res.stderr
    from hub.generate.generator import Generator

    rec = next(r for r in Generator(seed=2).batch(1) if r["dataset"] == "PROJECT")
    rec["record"]["REGION_CODE"] = "[red]99[/red]"
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", "utf-8")
    res = hub("validate", str(path))
    assert res.returncode == 1 and "[red]99[/red]" in res.stdout
    db = {"HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    hub_env(db, "ingest", str(path), "--source", "[bold]county[/bold]")
    assert "[red]99[/red]" in hub_env(db, "rejected").stdout
    assert "[bold]county[/bold]" in hub_env(db, "runs").stdout
