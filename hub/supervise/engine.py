"""Evaluating rule packs against current records: pure reading, no writes.

``evaluate`` takes the records runs touched (or None: every record of the data sets a rule
reads) and returns, for everything a rule looked at, whether it broke the rule and with what
evidence.  Each kind lives in a module of its own: ``interval`` (days or working days between
two dates), ``groups`` (``count``: too few bids; ``same_value``: equal values in a section),
``amounts`` (``ratio``: a bond against the estimate), ``credit`` (``listed``: a party on a
blacklist on the event's date), ``parties`` (``shared``: one party on two sides),
``screens`` (``screen``: price patterns) and ``rings`` (``rotation``: firms winning by
turns across sections).  Records are read through ``seen`` (what the runs wrote in one
pass, each other record once) and paired across data sets by ``pairs``.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from sqlalchemy import Connection

from hub.supervise.amounts import ratio
from hub.supervise.credit import listed
from hub.supervise.groups import count, same_value
from hub.supervise.interval import interval
from hub.supervise.pack import Pack
from hub.supervise.parties import shared
from hub.supervise.reading import Looked
from hub.supervise.rings import rotation
from hub.supervise.screens import screen
from hub.supervise.seen import Seen, Touched

KINDS = {"interval": interval, "count": count, "same_value": same_value, "ratio": ratio,
         "listed": listed, "shared": shared, "screen": screen, "rotation": rotation}  # fmt: skip


# read from every record, whatever its data set: its date and the fields ``region_of`` reads
# (and whether a list entry was revoked)
COMMON = ("DATA_TIMESTAMP", "REGION_CODE", "TRA_PLACE_CODE", "BID_SECTION_CODE",
          "TENDER_PROJECT_CODE", "PROJECT_CODE", "REVOCATION_STATUS")  # fmt: skip


def fields_read(packs: list[Pack]) -> dict[str, frozenset[str]]:
    """The fields the rules of ``packs`` read, per data set (only these data sets are read,
    and of their records only these fields)."""
    out: dict[str, set[str]] = {}
    for pack in packs:
        for rule in pack.rule:
            for ds, f in rule.reads():
                fs = out.setdefault(ds, set(COMMON))
                if f:
                    fs.add(f)
    return {ds: frozenset(fs) for ds, fs in out.items()}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector paused while records are read and judged: an evaluation allocates
    a dict per record read and an object per judgement, none in a cycle (refcounting frees
    them), and each automatic collection walks all of them again, and every object the
    process holds besides: 40% of the time on 110,000 records (bench/findings.py)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def evaluate(conn: Connection, packs: list[Pack], touched: Touched | None) -> list[Looked]:
    """Every (rule, start, end) the touched records take part in, judged."""
    seen = Seen(conn, touched, fields_read(packs))
    out: list[Looked] = []
    for pack in packs:
        for rule in pack.rule:
            out += KINDS[rule.kind](seen, pack.pack.name, rule)
    return out
