"""Load the dictionary files written by the importer into one frozen Dictionary.

A node may enable provincial overlays (``[dictionary] overlays`` in its configuration,
``hub.dictionary.overlay``).  The configuration loader calls ``use_overlays`` once; from then
on ``load_dictionary()`` in that process returns the national dictionary with those overlays,
and everything built on it (schemas, validation, reconcile, the generator) follows.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

import hub
from hub.dictionary.model import CodeSet, DataSet
from hub.dictionary.overlay import apply_overlay, read_overlay
from hub.dictionary.paths import dictionary_dir, generated_dir, schemas_dir
from hub.errors import ConfigError, UsageError
from hub.suggest import hint


def _bare(name_cn: str) -> str:
    """标段(包) -> 标段: a Chinese name without its parenthesised part."""
    return name_cn.split("(", 1)[0].split("（", 1)[0]


@dataclass(frozen=True)
class Dictionary:
    spec_version: str
    datasets: dict[str, DataSet]
    codesets: dict[str, CodeSet]
    by_data_no: dict[str, DataSet] = field(default_factory=dict)
    overlays: tuple[str, ...] = ()  # provincial overlays applied, in order

    @property
    def profile(self) -> str:
        """``2.0``, or ``2.0+fujian`` with an overlay: names the generated schemas' folder."""
        return "+".join((self.spec_version, *self.overlays))

    def dataset(self, name: str) -> DataSet:
        """Find a data set by name (``PROJECT``) or DATA_NO (``500``)."""
        ds = self.datasets.get(name) or self.by_data_no.get(name)
        if ds is None:
            ds = next(
                (d for d in self.datasets.values() if name in (d.name_cn, _bare(d.name_cn))), None
            )
        if ds is None:
            raise UsageError(
                f"unknown data set {name!r}{hint(name, self.datasets)}; expected a name, "
                f"DATA_NO or Chinese name such as PROJECT, 500 or 项目 "
                f"(`hub dictionary list` shows all {len(self.datasets)})"
            )
        return ds

    @property
    def field_count(self) -> int:
        return sum(len(d.fields) for d in self.datasets.values())


def read_dictionary(
    directory: Path, spec_version: str, overlays: tuple[str, ...] = ()
) -> Dictionary:
    problems: list[str] = []
    datasets: dict[str, DataSet] = {}
    files = sorted((directory / "datasets").glob("*.json"))
    if not files:
        raise ConfigError(
            f"no data set files in {directory / 'datasets'}; run `hub dictionary import`"
        )
    for path in files:
        try:
            ds = DataSet.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            problems.append(f"{path}: {exc}")
            continue
        datasets[ds.name] = ds
    if problems:
        raise ConfigError(problems)
    for name in overlays:
        datasets = apply_overlay(datasets, read_overlay(schemas_dir(), name), spec_version)
    try:
        raw = json.loads((directory / "codesets.json").read_text("utf-8"))
        codesets = {c["name"]: CodeSet.model_validate(c) for c in raw}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{directory / 'codesets.json'}: {exc}") from exc
    for ds in datasets.values():
        for f in ds.fields:
            if f.codeset and f.codeset not in codesets:
                problems.append(f"{ds.name}.{f.id}: code set {f.codeset!r} is not defined")
        if ds.parent and ds.parent.dataset not in datasets:
            problems.append(f"{ds.name}: parent {ds.parent.dataset!r} is not a data set")
    if problems:
        raise ConfigError(problems)
    return Dictionary(
        spec_version=spec_version,
        datasets=datasets,
        codesets=codesets,
        by_data_no={d.data_no: d for d in datasets.values()},
        overlays=overlays,
    )


_node: dict[str, tuple[str, ...]] = {"overlays": ()}  # set once, from the configuration


def use_overlays(overlays: tuple[str, ...]) -> None:
    """Make ``overlays`` this process's default; checks that they load (ConfigError)."""
    usable(overlays)
    _node["overlays"] = overlays


def usable(overlays: tuple[str, ...]) -> Dictionary:
    """The dictionary with ``overlays``, if the hub has its generated schemas (ConfigError:
    it ships them for the national dictionary and for each overlay alone)."""
    d = load_dictionary(overlays=overlays)
    if not generated_dir(d.profile).is_dir():
        raise ConfigError(
            f"overlays {list(overlays)}: no schemas are generated for the dictionary "
            f"{d.profile}; the hub ships the national dictionary and each overlay alone, so "
            "configure one overlay"
        )
    return d


def load_dictionary(
    spec_version: str = hub.SPEC_VERSION, overlays: tuple[str, ...] | None = None
) -> Dictionary:
    """The bundled dictionary for a spec version, with ``overlays`` (default: the node's,
    see ``use_overlays``); each combination is read once per process."""
    return _load(spec_version, _node["overlays"] if overlays is None else tuple(overlays))


@functools.cache
def _load(spec_version: str, overlays: tuple[str, ...]) -> Dictionary:
    return read_dictionary(dictionary_dir(spec_version), spec_version, overlays)
