"""Pairs of records a rule across two data sets judges: each touched record on either side
with its partners sharing a link code (a section and its award)."""

from __future__ import annotations

from collections.abc import Callable

from hub.supervise.reading import Key, Linked, Looked, Rec, links
from hub.supervise.seen import Seen, partners


def keyed_pairs(
    seen: Seen, start: Linked, end: Linked
) -> tuple[dict[Key, Rec], set[tuple[Key, Key, str]]]:
    """Pairs (start record, end record, link code) of two data sets linked by a code, from
    every touched record on either side to its partners; and the records read."""
    mine = {**seen.mine(start.dataset), **seen.mine(end.dataset)}
    pairs: set[tuple[Key, Key, str]] = set()
    for here, there, is_start in ((start, end, True), (end, start, False)):
        values: dict[str, set[Key]] = {}
        for k, r in mine.items():
            if k[0] == here.dataset:
                for v in links(r, here):
                    values.setdefault(v, set()).add(k)
        for v, others in partners(seen.conn, there, set(values)).items():
            for mine_key in values[v]:
                for o in others:
                    pairs.add((mine_key, o, v) if is_start else (o, mine_key, v))
    recs = {**mine, **seen.records({k for p in pairs for k in p[:2]} - set(mine))}
    return recs, pairs


def each_pair(
    seen: Seen, start: Linked, end: Linked, judge: Callable[[Rec, Rec, str | None], Looked | None]
) -> list[Looked]:
    """``judge(start record, end record, link code)`` over what a rule reads: each touched
    record of one data set, or every linked pair across two."""
    if start.dataset == end.dataset:
        recs = seen.mine(end.dataset)
        return [x for r in recs.values() if (x := judge(r, r, None)) is not None]
    recs, pairs = keyed_pairs(seen, start, end)
    return [
        x for s, e, v in sorted(pairs)
        if s in recs and e in recs and (x := judge(recs[s], recs[e], v)) is not None
    ]  # fmt: skip
