"""Plugins through entry points (design §7): adapters in ``hub.adapters``, value transforms in
``hub.transforms``.  A plugin is loaded lazily by its short name; an unknown name is a
ConfigError that lists the valid ones.  The hub never imports ``adapters`` itself: the
built-in adapters are found the same way as a third party's.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hub.errors import ConfigError

ADAPTERS = "hub.adapters"
TRANSFORMS = "hub.transforms"


@functools.cache
def available(group: str) -> dict[str, EntryPoint]:
    """Short name → entry point, for every installed distribution."""
    return {ep.name: ep for ep in entry_points(group=group)}


@functools.cache
def load(group: str, name: str) -> Any:
    """The object registered as ``name`` in ``group``."""
    eps = available(group)
    if name not in eps:
        kind = {ADAPTERS: "adapter", TRANSFORMS: "transform"}.get(group, group)
        valid = ", ".join(sorted(eps)) or "none installed"
        raise ConfigError(f"unknown {kind} {name!r}; the installed ones are: {valid}")
    try:
        return eps[name].load()
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"the {name!r} plugin ({eps[name].value}) cannot be loaded: {exc}"
        ) from exc
