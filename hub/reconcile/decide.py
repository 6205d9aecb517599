"""The order rule, as a pure function: which version is current, and is there a conflict.

The current state of a key is a function of the *set* of its versions, never of their
arrival order: the greatest DATA_TIMESTAMP wins; versions tied on the greatest timestamp
with different contents are a conflict, and the current view shows the one with the
smallest content hash, flagged, until an administrator resolves it.  A delete that wins
makes the key a tombstone.  ``advance`` applies one new version to a state and gives the
same answer as ``settle`` over the whole set (a property test checks this).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple


class Placement(StrEnum):
    CURRENT = "current"  # the new version is now the current one
    HISTORY = "history"  # older than the current one: kept, does not overwrite
    CONFLICT = "conflict"  # same timestamp as the current one, other content


class Version(NamedTuple):  # tuples: built once per record on the hot path
    data_timestamp: str
    content_hash: str
    deleted: bool


class State(NamedTuple):
    current: Version
    conflict: bool
    versions: int


def settle(versions: Iterable[Version]) -> State:
    vs = list(versions)
    if not vs:
        raise ValueError("a key with no versions has no state")
    top = max(v.data_timestamp for v in vs)
    tied = {v.content_hash: v for v in vs if v.data_timestamp == top}
    pick = tied[min(tied)]
    return State(pick, len(tied) > 1, len({v.content_hash for v in vs}))


def advance(state: State | None, v: Version) -> tuple[State, Placement]:
    """Apply one version that is not already among the state's versions."""
    if state is None:
        return State(v, False, 1), Placement.CURRENT
    cur, n = state.current, state.versions + 1
    if v.data_timestamp > cur.data_timestamp:
        return State(v, False, n), Placement.CURRENT
    if v.data_timestamp < cur.data_timestamp:
        return state._replace(versions=n), Placement.HISTORY
    pick = v if v.content_hash < cur.content_hash else cur
    return State(pick, True, n), Placement.CONFLICT
