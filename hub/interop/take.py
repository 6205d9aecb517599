"""One provincial call's message ingested as one run of the caller's source, and what became
of it in a form a reply can say (Fujian's STATUS/MSG, Shanxi's success/errorCode/…).

The hub "has" a record when it was accepted, is a duplicate of what it holds, or is held until
its parent arrives; anything else (rejected, quarantined, an input that cannot be read) is a
refusal naming the rule, field and value.  The message is kept in the raw store either way.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from hub.config import NodeConfig
from hub.errors import InputError
from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import ingest_stream
from hub.store.engine import Store

KEPT = (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.HELD)


@dataclass(frozen=True)
class Taken:
    ok: bool  # the hub has the record
    code: str  # "" when ok; else the rule (or the input's error code)
    message: str  # why not, or (held) what it waits for; "" when simply accepted
    held: bool = False


def take(
    cfg: NodeConfig, store: Store, data: bytes, source: str, origin: str, now: datetime
) -> Taken:
    verdicts: list[Verdict] = []
    try:
        ingest_stream(
            store,
            io.BytesIO(data),
            source,
            origin,
            fmt="xml",
            settings=cfg.ingest,
            now=now,
            on_verdict=verdicts.append,
        )
    except InputError as exc:
        return Taken(False, exc.code, f"{exc.code}: {exc.reason}")
    if not verdicts:
        return Taken(False, "record.missing", "the message holds no record")
    bad = [v for v in verdicts if v.outcome not in KEPT]
    if bad:
        v = bad[0]
        where = f" {v.field}" if v.field else ""
        value = f" = {v.value!r}" if v.value is not None else ""
        return Taken(False, v.rule or "", f"{v.rule}{where}{value}: {v.message}")
    held = [v for v in verdicts if v.outcome == Outcome.HELD]
    if held:
        return Taken(True, "", f"held: {held[0].message}", held=True)
    return Taken(True, "", "")
