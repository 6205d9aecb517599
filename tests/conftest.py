from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.dictionary import Dictionary, load_dictionary
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.validation.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
SHARED_TABLES = ROOT.parent / "shared" / "spec" / "tables.json"


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
