from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hub.config import NodeConfig, StoreSection
from hub.dictionary import Dictionary, load_dictionary
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.store.engine import Store, open_store
from hub.validation.validator import Validator

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def dictionary() -> Dictionary:
    return load_dictionary()


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clean generated batch in each format (same records)."""
    out = tmp_path_factory.mktemp("gen")
    records = Generator(seed=7).batch(8)
    return {
        fmt: out / f"batch.{fmt}"
        for fmt in ("xml", "jsonl", "json")
        if write_batch(records, out / f"batch.{fmt}", fmt)
    }


@pytest.fixture(scope="session")
def xmllint() -> str:
    path = shutil.which("xmllint")
    if path is None:
        pytest.fail("xmllint is missing: scripts/setup.sh installs Debian's libxml2-utils")
    return path


def run_xmllint(xmllint: str, xsd: Path, doc: Path) -> subprocess.CompletedProcess[str]:
    """libxml2's own command-line validator, with the network off: the independent check."""
    return subprocess.run(
        [xmllint, "--noout", "--nonet", "--schema", str(xsd), str(doc)],
        capture_output=True,
        text=True,
        check=False,
    )


# -- the store, on SQLite and on the local PostgreSQL ------------------------------------
PG_ADMIN_URL = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(
        PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as c:
        c.execute(sql)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    name = f"hubtest_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc}); run scripts/services.sh"
        )
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def node_config(database_url: str, tmp_path: Path) -> NodeConfig:
    return NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path / "data"))


@pytest.fixture
def store(node_config: NodeConfig) -> Iterator[Store]:
    s = open_store(node_config)
    yield s
    s.dispose()


BACKENDS = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``run(*args)``: the ``hub`` command in this process, on this test's store."""
    from click.testing import CliRunner, Result

    from hub.cli import cli

    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # raw batches go to ./hub-data/raw

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke
