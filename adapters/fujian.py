"""fujian: push records upstream to a Fujian-style provincial service, one SOAP call of
``UploadData_G_V4(validation, data)`` per record (docs/interop.md).

The forwarder hands this adapter a signed package like any target's; each of its records
goes as a ``<DES>`` message (DATA_TYPE from the operation, a DATA_KEY this node derives from
the record's data set and business key, so a modify or delete names what the add sent) with
a fresh DES token of this node's SYSTEM_NO.  The service's per-record reply is the verdict:
``{"STATUS":"1"}`` accepted, ``{"STATUS":"-1","MSG":…}`` rejected with its message (Fujian
signs nothing, so these answers are not part of a signed chain).  An add the service already
has ("已存在") is sent again as a modify, so a package pushed twice lands once.  A refused
token or SYSTEM_NO fails the push (FatalError: the node's configuration); transport errors
and HTTP 5xx are retried ``max_attempts`` times with doubling waits, then RetryableError.

The SOAP client is zeep, bound to the WSDL shipped with the hub (no description is fetched
from the peer) at the configured address.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import Field

from adapters import soapcalls
from adapters.soapcalls import SoapOptions
from hub.config import resolve_secret
from hub.dictionary.loader import load_dictionary
from hub.errors import FatalError
from hub.interfaces import Adapter, LineAnswer, PushResult
from hub.interop.fujian import message, token
from hub.reconcile.keys import key_plans

BINDING = "{http://tempuri.org/}DataServiceSoap"
REFUSED_CALLER = ("TOKEN", "SYSTEM_NO")  # words of a refused caller, not of a record


class FujianOptions(SoapOptions):  # url: the service, e.g. https://…/DataService.asmx
    system_no: str = Field(min_length=1, max_length=8)  # the SYSTEM_NO Fujian issued this node
    secret: str  # $env:NAME or $file:PATH: its 8-character DES key


class FujianAdapter(Adapter):
    name = "fujian"
    Options = FujianOptions
    options: FujianOptions
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def push(self, name: str, data: bytes) -> PushResult:
        o = self.options
        secret = resolve_secret(o.secret, f"[{self.context.source}] options.secret")
        service = soapcalls.service("hub.interop.fujian", "DataService.wsdl", BINDING, o)
        self._plans = key_plans(load_dictionary())
        answers: list[LineAnswer] = []
        attempts = 1
        for dataset, line, op, fields in soapcalls.records(data, name):
            ok, msg, tries = self._send(service, secret, dataset, op, fields)
            attempts = max(attempts, tries)
            answers.append(LineAnswer(dataset, line, ok, msg))
        taken = sum(a.accepted for a in answers)
        return PushResult(
            True, f"{taken}/{len(answers)} accepted", answers=answers, attempts=attempts
        )

    def _send(
        self, service: Any, secret: str, dataset: str, op: str, fields: dict[str, Any]
    ) -> tuple[bool, str, int]:
        d, plan = load_dictionary().datasets[dataset], self._plans[dataset]
        key = message.data_key(self.options.system_no, d.data_no, dataset, plan.key(fields) or "")

        def des(as_op: str) -> bytes:
            return message.build(dataset, d.data_no, d.name_cn, as_op, fields, key)

        ok, msg, tries = self._call(service, secret, des(op))
        if not ok and op == "add" and "已存在" in msg:  # it has the record: this is a modify
            ok, msg, more = self._call(service, secret, des("modify"))
            tries += more
        return ok, msg, tries

    def _call(self, service: Any, secret: str, des: bytes) -> tuple[bool, str, int]:
        o = self.options

        def send() -> Any:
            validation = token.validation(o.system_no, secret, datetime.now(UTC))
            return service.UploadData_G_V4(validation, des.decode("utf-8"))

        answer, attempt = soapcalls.call(o, "UploadData_G_V4", send, self.sleep)
        reply = orjson.loads(answer or "{}")
        status, msg = str(reply.get("STATUS", "")), str(reply.get("MSG", ""))
        if status != "1" and any(w in msg for w in REFUSED_CALLER):
            raise FatalError(
                f"{o.url} refused this node as SYSTEM_NO {o.system_no}: {msg}; check "
                "[forward.*] options.system_no and secret with the province"
            )
        return status == "1", msg, attempt
