"""One call of ``UploadData_G_V4(validation, data)``: the caller's token checked, its message
ingested as one record of the system's source, and the answer in Fujian's words.

The reply keeps Fujian's meaning: ``{"STATUS":"1"}`` when the hub has the record (accepted,
a duplicate of what it holds, or held until its parent arrives: MSG says which), and
``{"STATUS":"-1","MSG":…}`` when it does not (a refused token, a message that is not XML,
a record rejected or quarantined: MSG names the rule, field and value).  The message itself
is kept in the raw store either way, as every input is.
"""

from __future__ import annotations

import logging
from datetime import datetime

import orjson

from hub.config import NodeConfig, resolve_secret
from hub.interop.fujian import token
from hub.interop.take import take
from hub.store.engine import Store

log = logging.getLogger("hub.fujian")


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
    got = take(
        cfg, store, data.encode("utf-8"), system.source, f"fujian:UploadData_G_V4/{system_no}", now
    )
    if got.code == "record.missing":
        return _answer(False, "the message holds no record (a <DES> with TITLE and CONTEXT)")
    return _answer(got.ok, got.message)
