"""shanxi: push records upstream to Shanxi's public-service platform (PSPDE), one SOAP call of
``receiveInfo`` per record (docs/interop.md).

Each record of the package goes as the GCJS_* document of its data set (the national sets
500–517; hub/interop/shanxi/documents.toml), with the arguments Shanxi's own client sends
(repository cdut007/vote-system, ServiceClient.receiveInfo):

- USERID and KEY: this node's account at the platform (the key a $env:/$file: reference);
- SERIALNUMBER: the 10-digit ``serial_prefix``, the date (yyyyMMdd) and six digits derived
  from the package and the record's line, so a record sent again repeats its number;
- DATASETCODE: the document's root; XMLCONTENT: the document (UTF-8, as JAXB writes it);
- REQUESTTIME ``yyyy-MM-dd HH:mm:ss`` and VERSIONNUMBER ``yyyyMMddHHmmss``: now, Beijing time;
- PLATID, "the record's identifier in the trading platform": its business key, the same for
  every version, so the platform sees a modify as the same record;
- creditCode: the organisation code this node registered with the platform.

A document carries Shanxi's elements only: national fields Shanxi has no element for are not
sent (docs/interop.md lists them); ``fill`` gives values this node states for Shanxi's own
required fields a national record lacks (REPORT_DUTY …), used only when the record has none.
The answer ``result{success, errorCode, errorMessage}`` is the record's verdict (unsigned:
the signed chain of receipts ends at this hop).  receiveInfo has no delete, and Shanxi has no
document for other data sets: such records are not sent, and their verdict says so.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from adapters import soapcalls
from adapters.soapcalls import SoapOptions
from hub.config import resolve_secret
from hub.dictionary.loader import load_dictionary
from hub.errors import FatalError
from hub.interfaces import Adapter, LineAnswer, PushResult
from hub.interop.shanxi import message
from hub.reconcile.keys import key_plans

BINDING = "{http://server.webservice.pspde.sxca.com/}PspdeWSServiceSoapBinding"
BEIJING = ZoneInfo("Asia/Shanghai")
REFUSED_CALLER = ("shanxi.user", "shanxi.key")  # a hub province's codes for a refused caller


class ShanxiOptions(SoapOptions):  # url: …/pspde/services/pspdews
    user_id: str = Field(min_length=1, max_length=40)  # USERID the platform gave this node
    key: str  # $env:NAME or $file:PATH: its password
    credit_code: str = Field(pattern=r"^[0-9A-Z]{18}$")  # the code registered with it
    serial_prefix: str = Field(default="", pattern=r"^(\d{10})?$")  # default: user_id
    fill: dict[str, str] = Field(default_factory=dict)  # Shanxi's own fields: this node's values


class ShanxiAdapter(Adapter):
    name = "shanxi"
    Options = ShanxiOptions
    options: ShanxiOptions
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def push(self, name: str, data: bytes) -> PushResult:
        o = self.options
        key = resolve_secret(o.key, f"[{self.context.source}] options.key")
        service = soapcalls.service("hub.interop.shanxi", "PspdeWS.wsdl", BINDING, o)
        plans = key_plans(load_dictionary())
        answers: list[LineAnswer] = []
        attempts = 1
        for dataset, line, op, fields in soapcalls.records(data, name):
            doc = message.by_dataset().get(dataset)
            if doc is None:
                why = f"not sent: Shanxi's platform has no document for {dataset}"
                answers.append(LineAnswer(dataset, line, False, why))
                continue
            platid = plans[dataset].key(fields) or ""
            if op == "delete":
                why = (
                    f"not sent: Shanxi's receiveInfo has no delete; withdraw {doc.root} "
                    f"PLATID {platid} at the platform itself"
                )
                answers.append(LineAnswer(dataset, line, False, why))
                continue
            args = self._arguments(key, doc, {**o.fill, **fields}, platid, f"{name}/{line}")
            send = functools.partial(service.receiveInfo, **args)
            result, tries = soapcalls.call(o, "receiveInfo", send, self.sleep)
            attempts = max(attempts, tries)
            ok, code, msg = bool(result.success), result.errorCode or "", result.errorMessage or ""
            if not ok and code in REFUSED_CALLER:
                raise FatalError(
                    f"{o.url} refused this node as USERID {o.user_id}: {msg}; check "
                    "[forward.*] options.user_id and key with the platform"
                )
            said = f"{code}: {msg}" if code and not ok else msg  # accepted: e.g. "held: …"
            answers.append(LineAnswer(dataset, line, ok, said))
        taken = sum(a.accepted for a in answers)
        return PushResult(
            True, f"{taken}/{len(answers)} accepted", answers=answers, attempts=attempts
        )

    def _arguments(
        self, key: str, doc: message.Document, fields: dict[str, Any], platid: str, where: str
    ) -> dict[str, str]:
        o = self.options
        now = datetime.now(BEIJING)
        seq = int.from_bytes(hashlib.sha256(where.encode()).digest()[:8], "big") % 10**6
        values = dict(
            zip(
                message.PARAMS,
                (
                    o.user_id,
                    key,
                    f"{o.serial_prefix or o.user_id[:10]}{now:%Y%m%d}{seq:06d}",
                    doc.root,
                    message.build(doc, fields),
                    f"{now:%Y-%m-%d %H:%M:%S}",
                    f"{now:%Y%m%d%H%M%S}",
                    platid,
                    o.credit_code,
                ),
                strict=True,
            )
        )
        return {f"arg{i}": values[p] for i, p in enumerate(message.PARAMS)}
