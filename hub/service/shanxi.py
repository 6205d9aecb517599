"""Shanxi's platform service on the hub: ``/pspde/services/pspdews`` (POST a SOAP call of
receiveInfo; GET ``?wsdl`` for its description).  A trading system configured for Shanxi's
platform points its address here unchanged (docs/interop.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from hub.config import NodeConfig
from hub.interop.shanxi import soap
from hub.interop.shanxi.receive import receive
from hub.service.soapservice import soap_router
from hub.store.engine import Store

PATH = "/pspde/services/pspdews"


def shanxi_router(cfg: NodeConfig, store: Store) -> APIRouter:
    def answer(body: bytes) -> tuple[str, bytes]:
        ns, args = soap.parse_call(body)
        return ns, soap.reply(ns, receive(cfg, store, args, datetime.now(UTC)))

    return soap_router(cfg, PATH, "PspdeWSService: POST receiveInfo", soap.wsdl, answer)
