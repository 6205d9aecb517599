"""A provincial SOAP service on the hub (Fujian's UploadData_G_V4, Shanxi's receiveInfo): POST
a call, GET ``?wsdl`` for its description.  Each province gives its path, its description and
how a request body becomes a reply; a request that is not a call of its operation gets a SOAP
fault (HTTP 500) in the SOAP version its Content-Type names."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from hub.config import NodeConfig
from hub.interop.soap import MEDIA, SoapError, fault, media_of
from hub.service.body import read_body

MB = 1 << 20


def soap_router(
    cfg: NodeConfig,
    path: str,
    name: str,
    wsdl: Callable[[str], bytes],
    answer: Callable[[bytes], tuple[str, bytes]],  # body -> (SOAP namespace, reply); SoapError
) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(path)
    def describe(request: Request) -> Response:
        if "wsdl" not in {k.lower() for k in request.query_params}:
            return Response(f"{name}; ?wsdl describes it\n")
        location = str(request.url.replace(query=""))
        return Response(wsdl(location), media_type="text/xml; charset=utf-8")

    @r.post(path)
    async def call(request: Request) -> Response:
        body = await read_body(
            request.stream(),
            request.headers.get("content-encoding"),
            limit=cfg.http.max_body_mb * MB,
            idle=cfg.http.body_idle_seconds,
            total=cfg.http.body_timeout_seconds,
        )
        try:
            ns, reply = await run_in_threadpool(answer, body)
        except SoapError as exc:
            ns = media_of(request.headers.get("content-type", ""))
            return Response(fault(ns, str(exc)), 500, media_type=MEDIA[ns])
        return Response(reply, media_type=MEDIA[ns])

    return r
