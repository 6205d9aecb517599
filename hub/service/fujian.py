"""Fujian's V4 SOAP service on the hub: ``/fujian/DataService.asmx`` (POST a SOAP 1.1 or 1.2
call of UploadData_G_V4; GET ``?wsdl`` for its description).  A county system configured
for Fujian's hub points its service address here unchanged (docs/interop.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from hub.config import NodeConfig
from hub.interop.fujian import soap
from hub.interop.fujian.receive import upload
from hub.service.body import read_body
from hub.store.engine import Store

PATH = "/fujian/DataService.asmx"
MB = 1 << 20


def fujian_router(cfg: NodeConfig, store: Store) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PATH)
    def describe(request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.query_params}:
            return Response("DataService: POST UploadData_G_V4; ?wsdl describes it\n")
        location = str(request.url.replace(query=""))
        return Response(soap.wsdl(location), media_type="text/xml; charset=utf-8")

    @r.post(PATH)
    async def call(request: Request) -> Response:
        body = await read_body(
            request.stream(),
            request.headers.get("content-encoding"),
            limit=cfg.http.max_body_mb * MB,
            idle=cfg.http.body_idle_seconds,
            total=cfg.http.body_timeout_seconds,
        )
        try:
            c = soap.parse_call(body)
        except soap.SoapError as exc:
            ns = (
                soap.SOAP12
                if "soap+xml" in request.headers.get("content-type", "")
                else soap.SOAP11
            )
            return Response(soap.fault(ns, str(exc)), 500, media_type=soap.MEDIA[ns])
        result = await run_in_threadpool(
            upload, cfg, store, c.validation, c.data, datetime.now(UTC)
        )
        return Response(soap.reply(c.soap_ns, result), media_type=soap.MEDIA[c.soap_ns])

    return r
