"""One call of ``receiveInfo``: the caller's USERID and KEY checked, XMLCONTENT ingested as one
record of the user's source, and the answer as Shanxi's ``result``.

``success`` is true when the hub has the record (accepted, a duplicate of what it holds, or
held until its parent arrives: errorMessage says so); otherwise errorCode is the hub's rule
(``check.uscc``, ``record.malformed`` …, or ``shanxi.user`` / ``shanxi.key`` for a refused
caller) and errorMessage names the field and value.  receiveTime is when the hub took the call
(Beijing time, ``yyyy-MM-dd HH:mm:ss``): for a notice, Shanxi's platform answers with its
publication time; the hub publishes nothing, so it gives the time of receipt.  What is kept of
the call is the XMLCONTENT document inside a ``<receiveInfo>`` element carrying the other
arguments, KEY left out (hub/interop/shanxi/message.py).
"""

from __future__ import annotations

import hmac
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.config import NodeConfig, resolve_secret
from hub.errors import InputError
from hub.interop.shanxi import message
from hub.interop.shanxi.soap import Result
from hub.interop.take import take
from hub.store.engine import Store
from hub.validation.decode import parse_xml

log = logging.getLogger("hub.shanxi")
BEIJING = ZoneInfo("Asia/Shanghai")
DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")  # the text is already decoded: drop its label


def receive(cfg: NodeConfig, store: Store, args: dict[str, str], now: datetime) -> Result:
    when = now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    uid = args.get("USERID", "")
    user = cfg.shanxi.users.get(uid)
    if user is None:
        log.warning("Shanxi call refused: USERID %r is not configured", uid)
        return Result(
            False, "shanxi.user", f"USERID {uid!r} is not a user of this hub ([shanxi.users])", when
        )
    key = resolve_secret(user.key, f"[shanxi.users.{uid}].key")
    if not hmac.compare_digest(args.get("KEY", "").encode(), key.encode()):
        log.warning("Shanxi call refused: wrong KEY for USERID %r", uid)
        return Result(False, "shanxi.key", f"KEY is not the password of USERID {uid}", when)
    content = DECLARATION.sub("", args.get("XMLCONTENT", ""), count=1)
    try:
        doc = parse_xml(content.encode("utf-8"), "XMLCONTENT").getroot()
    except InputError as exc:
        return Result(False, exc.code, f"XMLCONTENT {exc.reason}", when)
    serial = args.get("SERIALNUMBER", "") or "-"
    got = take(
        cfg, store, message.wrap(args, doc), user.source, f"shanxi:receiveInfo/{uid}/{serial}", now
    )
    return Result(got.ok, got.code, got.message, when)
