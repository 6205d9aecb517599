"""Evaluating rule packs against current records: pure reading, no writes.

``evaluate`` takes the records runs touched (or None: every record of the data sets a rule
reads) and returns, for everything a rule looked at, whether it broke the rule and with what
evidence.  Each kind lives in a module of its own: ``interval`` (days or working days between
two dates), ``groups`` (``count``: too few bids; ``same_value``: equal values in a section),
``amounts`` (``ratio``: a bond against the estimate), ``credit`` (``listed``: a party on a
blacklist on the event's date), ``parties`` (``shared``: one party on two sides),
``screens`` (``screen``: price patterns) and ``rings`` (``rotation``: firms winning by
turns across sections).
"""

from __future__ import annotations

import gc

from sqlalchemy import Connection

from hub.supervise.amounts import ratio
from hub.supervise.credit import listed
from hub.supervise.groups import count, same_value
from hub.supervise.interval import interval
from hub.supervise.pack import Pack
from hub.supervise.parties import shared
from hub.supervise.reading import Key, Looked, Seen
from hub.supervise.rings import rotation
from hub.supervise.screens import screen

KINDS = {"interval": interval, "count": count, "same_value": same_value, "ratio": ratio,
         "listed": listed, "shared": shared, "screen": screen, "rotation": rotation}  # fmt: skip


def evaluate(conn: Connection, packs: list[Pack], touched: set[Key] | None) -> list[Looked]:
    """Every (rule, start, end) the touched records take part in, judged.

    The cycle collector is paused meanwhile: an evaluation allocates a dict per record read
    and an object per judgement, none in a cycle (refcounting frees them), and each
    automatic collection walks all of them again: 40% of the time on 110,000 records
    (bench/findings.py)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(conn, packs, touched)
    finally:
        if paused:
            gc.enable()


def _evaluate(conn: Connection, packs: list[Pack], touched: set[Key] | None) -> list[Looked]:
    by_dataset: dict[str, list[Key]] | None = None
    if touched is not None:
        by_dataset = {}
        for k in touched:
            by_dataset.setdefault(k[0], []).append(k)
    seen = Seen(conn, by_dataset)
    out: list[Looked] = []
    for pack in packs:
        for rule in pack.rule:
            out += KINDS[rule.kind](seen, pack.pack.name, rule)
    return out
