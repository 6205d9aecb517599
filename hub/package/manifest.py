"""manifest.json: what a package holds, signed as exact bytes (see docs/package-format.md)."""

from __future__ import annotations

import json
from typing import Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.errors import InputError
from hub.validation.decode import reject_duplicate_keys

FORMAT = "hub-package/1"
MANIFEST, SIGNATURE = "manifest.json", "signature.p7s"
HEX = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileEntry(_Strict):
    path: str
    kind: Literal["data", "attachment"]
    size: int = Field(ge=0)
    digest: str = Field(pattern=HEX)
    dataset: str | None = None  # data files: one data set each
    records: list[str] = Field(default_factory=list)  # data files: each line's digest


class Manifest(_Strict):
    format: Literal["hub-package/1"]
    package_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{7,99}$")
    sender: str = Field(min_length=1, max_length=64)
    receiver: str = Field(min_length=1, max_length=64)
    spec_version: str
    created: AwareDatetime
    digest: Literal["sha256", "sm3"]
    files: list[FileEntry]
    merkle_root: str = Field(pattern=HEX)
    counts: dict[str, int]
    # the sender's number for its packages to this receiver, 1, 2, 3 … (set by the
    # forwarder): a receiver that lacks one knows a package never arrived (全面性); absent
    # from the manifest's bytes when not set, so packages built without one are unchanged
    sequence: int | None = Field(default=None, ge=1)

    def leaves(self) -> list[bytes]:
        return [bytes.fromhex(h) for f in self.files if f.kind == "data" for h in f.records]

    def encode(self) -> bytes:
        data = self.model_dump(mode="json")
        if data.get("sequence") is None:
            data.pop("sequence", None)
        return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


M = TypeVar("M", bound=BaseModel)


def strict_json(model: type[M], data: bytes, origin: str, name: str, code: str) -> M:
    """A signed JSON document as ``model``: UTF-8, no duplicate keys, no unknown fields."""
    try:
        raw = json.loads(data.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
        return model.model_validate(raw)
    except (ValueError, ValidationError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(origin, f"{name} is not valid: {exc}", code=code) from exc


def parse(data: bytes, origin: str) -> Manifest:
    return strict_json(Manifest, data, origin, MANIFEST, "manifest.invalid")
