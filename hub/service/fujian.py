"""Fujian's V4 SOAP service on the hub: ``/fujian/DataService.asmx`` (POST a SOAP 1.1 or 1.2
call of UploadData_G_V4; GET ``?wsdl`` for its description).  A county system configured
for Fujian's hub points its service address here unchanged (docs/interop.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from hub.config import NodeConfig
from hub.interop.fujian import soap
from hub.interop.fujian.receive import upload
from hub.service.soapservice import soap_router
from hub.store.engine import Store

PATH = "/fujian/DataService.asmx"


def fujian_router(cfg: NodeConfig, store: Store) -> APIRouter:
    def answer(body: bytes) -> tuple[str, bytes]:
        c = soap.parse_call(body)
        result = upload(cfg, store, c.validation, c.data, datetime.now(UTC))
        return c.soap_ns, soap.reply(c.soap_ns, result)

    return soap_router(cfg, PATH, "DataService: POST UploadData_G_V4", soap.wsdl, answer)
