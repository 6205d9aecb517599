"""The one place that says who may do what.

administrator: everything; operator: run, replay, discard, pause and resume, mark alerts
seen; observer: read
only; county: read only, and only what its own platform sent (its sources).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ROLES = ("administrator", "operator", "observer", "county")

MAY: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "run": frozenset({"administrator", "operator"}),
    "replay": frozenset({"administrator", "operator"}),
    "discard": frozenset({"administrator", "operator"}),
    "pause": frozenset({"administrator", "operator"}),
    "resolve": frozenset({"administrator"}),
    "acknowledge": frozenset({"administrator", "operator"}),  # mark alerts seen
    "review": frozenset({"administrator", "operator"}),  # mark supervision findings reviewed
    "users": frozenset({"administrator"}),
}


def may(role: str, action: str) -> bool:
    return role in MAY.get(action, frozenset())


def scope_of(role: str, code: str | None, sources: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What a user sees: None (everything), or a county's sources (``sources``: the node's
    [sources] sections, each with its ``platform_code``)."""
    if role != "county":
        return None
    return county_sources(code or "", [(n, s.platform_code) for n, s in sources.items()])


def county_sources(code: str, sources: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """The sources a county sees: the ones configured for its platform code, and its code
    itself (packages it pushes are recorded under the sender's code)."""
    return (code, *sorted(name for name, pc in sources if pc == code))
