"""Where the bundled data lives: ``schemas/`` beside the package, or inside the wheel."""

from __future__ import annotations

import os
from pathlib import Path

import hub


def schemas_dir() -> Path:
    """The schemas folder: $HUB_SCHEMAS_DIR, the wheel's copy, or the source tree's."""
    env = os.environ.get("HUB_SCHEMAS_DIR")
    if env:
        return Path(env)
    pkg = Path(hub.__file__).resolve().parent
    bundled = pkg / "_schemas"
    if bundled.is_dir():
        return bundled
    return pkg.parent / "schemas"


def dictionary_dir(spec_version: str = hub.SPEC_VERSION) -> Path:
    return schemas_dir() / "dictionary" / f"v{spec_version}"


def generated_dir(spec_version: str = hub.SPEC_VERSION) -> Path:
    return schemas_dir() / "generated" / f"v{spec_version}"


def reference_tables(spec_version: str = hub.SPEC_VERSION) -> Path:
    """Appendix A of the reference as data, carried in ``schemas/reference/`` (its README
    names the source)."""
    return schemas_dir() / "reference" / f"appendix-a-v{spec_version}.json"


def mappings_dir() -> Path:
    """The shipped example mappings and their sample exports: the wheel's copy or the
    source tree's ``mappings/``."""
    pkg = Path(hub.__file__).resolve().parent
    bundled = pkg / "_mappings"
    return bundled if bundled.is_dir() else pkg.parent / "mappings"
