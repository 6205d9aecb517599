"""Write (or compare) every generated schema file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.dictionary import overlay
from hub.dictionary.loader import Dictionary, load_dictionary
from hub.dictionary.paths import schemas_dir
from hub.schemagen import jsonschema, xsd


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def render(d: Dictionary) -> dict[str, str]:
    """Relative path (under schemas/generated/vX) -> file text."""
    files = {"xsd/common.xsd": xsd.common_xsd(), "xsd/batch.xsd": xsd.batch_xsd(d)}
    for name, ds in sorted(d.datasets.items()):
        files[f"xsd/{name}.xsd"] = xsd.dataset_xsd(ds, d)
        files[f"json/{name}.schema.json"] = _json(jsonschema.dataset_schema(ds, d))
    files["json/record.schema.json"] = _json(jsonschema.envelope_schema(d))
    files["json/batch.schema.json"] = _json(jsonschema.batch_schema(d))
    return files


def stale(d: Dictionary, out_dir: Path) -> list[str]:
    """Files that differ from what the dictionary generates (or are missing or extra)."""
    want = render(d)
    problems = []
    for rel, text in want.items():
        p = out_dir / rel
        if not p.is_file() or p.read_text("utf-8") != text:
            problems.append(rel)
    if out_dir.is_dir():
        for p in out_dir.rglob("*"):
            if p.is_file() and p.relative_to(out_dir).as_posix() not in want:
                problems.append(p.relative_to(out_dir).as_posix())
    return sorted(problems)


def write(d: Dictionary, out_dir: Path) -> int:
    files = render(d)
    for rel, text in files.items():
        p = out_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
    return len(files)


def profiles() -> list[Dictionary]:
    """Every dictionary the hub ships schemas for: national, and national + each overlay."""
    return [load_dictionary(overlays=())] + [
        load_dictionary(overlays=(name,)) for name in overlay.available(schemas_dir())
    ]
