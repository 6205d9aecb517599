"""One call of ``UploadData_G_V4(validation, data)``: the caller's token checked, its message
ingested as one record of the system's source, and the answer in Fujian's words.

The reply keeps Fujian's meaning: ``{"STATUS":"1"}`` when the hub has the record (accepted,
a duplicate of what it holds, or held until its parent arrives: MSG says which), and
``{"STATUS":"-1","MSG":…}`` when it does not (a refused token, a message that is not XML,
a record rejected or quarantined: MSG names the rule, field and value).  The message itself
is kept in the raw store either way, as every input is.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

import orjson

from hub.config import NodeConfig, resolve_secret
from hub.errors import InputError
from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import ingest_stream
from hub.interop.fujian import token
from hub.store.engine import Store

log = logging.getLogger("hub.fujian")
KEPT = (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.HELD)


def _answer(ok: bool, msg: str = "") -> str:
    body: dict[str, str] = {"STATUS": "1" if ok else "-1"}
    if msg:
        body["MSG"] = msg
    return orjson.dumps(body).decode()


def upload(cfg: NodeConfig, store: Store, validation: str, data: str, now: datetime) -> str:
    """The reply string of one call."""
    f = cfg.fujian
    try:
        system_no, tok = token.system_of(validation)
        system = f.systems.get(system_no)
        if system is None:
            raise token.TokenError(f"SYSTEM_NO无效 (system {system_no!r} is not configured here)")
        secret = resolve_secret(system.secret, f"[fujian.systems.{system_no}].secret")
        token.check(tok, system_no, secret, now, f.token_hours)
    except token.TokenError as exc:
        log.warning("Fujian call refused: %s", exc)
        return _answer(False, str(exc))
    verdicts: list[Verdict] = []
    try:
        ingest_stream(
            store,
            io.BytesIO(data.encode("utf-8")),
            system.source,
            f"fujian:UploadData_G_V4/{system_no}",
            fmt="xml",
            settings=cfg.ingest,
            now=now,
            on_verdict=verdicts.append,
        )
    except InputError as exc:
        return _answer(False, f"{exc.code}: {exc.reason}")
    if not verdicts:
        return _answer(False, "the message holds no record (a <DES> with TITLE and CONTEXT)")
    bad = [v for v in verdicts if v.outcome not in KEPT]
    if bad:
        v = bad[0]
        where = f" {v.field}" if v.field else ""
        value = f" = {v.value!r}" if v.value is not None else ""
        return _answer(False, f"{v.rule}{where}{value}: {v.message}")
    held = [v for v in verdicts if v.outcome == Outcome.HELD]
    if held:
        return _answer(True, f"held: {held[0].message}")
    return _answer(True)
