"""The HTTP service: a sending platform POSTs a signed package and gets the signed receipt
as the response body (design §2 step 9).

    POST /v1/packages                       body: the package archive (application/zip)
        200  processed, or a replay (the original receipt)   body: the receipt archive
        422  refused (the receipt says why; nothing stored)   body: the receipt archive
        413  over [http].max_body_mb      503  the store is busy (Retry-After)
    GET  /v1/packages/{package_id}/receipt  the stored receipt of a received package
    GET  /v1/health                         the node, its store and its signing certificate

Status and package id are repeated in the headers ``Hub-Receipt-Status`` and
``Hub-Package-Id``.  The package's own signature authenticates its sender, so the service
needs no login of its own; TLS (and client certificates, if wanted) belong to the reverse
proxy in front of it.  Receiving runs in a worker thread: the store is synchronous.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline
from sqlalchemy import func, select

from hub import __version__
from hub.config import NodeConfig
from hub.errors import RetryableError
from hub.package.node import identity, trust_store
from hub.package.receive import Received, receive_package
from hub.store.engine import Store, open_store
from hub.store.models import Package

RECEIPT_TYPE = "application/vnd.hub-receipt+zip"
MB = 1024 * 1024


def create_app(cfg: NodeConfig, store: Store | None = None) -> FastAPI:
    """The app for this node; keys and trust are loaded once, here (a bad config fails now)."""
    trust, who = trust_store(cfg), identity(cfg)
    db = store or open_store(cfg, migrate=False)
    limit = cfg.http.max_body_mb * MB
    # the API documentation's Swagger UI is served from files installed with the package:
    # the hub runs on government networks with no internet (no CDN)
    app = FastAPIOffline(
        title="hub",
        version=__version__,
        docs_url="/v1/docs",
        redoc_url=None,
        openapi_url="/v1/openapi.json",
        static_url="/v1/docs-static",
    )

    @app.post("/v1/packages", response_class=Response)
    async def post_package(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"a package is at most {cfg.http.max_body_mb} MB")
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise HTTPException(413, f"a package is at most {cfg.http.max_body_mb} MB")
        peer = request.client.host if request.client else "unknown"
        try:
            got: Received = await run_in_threadpool(
                receive_package,
                db,
                bytes(body),
                f"http://{peer}/v1/packages",
                trust,
                who,
                settings=cfg.ingest,
            )
        except RetryableError as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
        return _receipt(
            got.receipt_bytes,
            got.status,
            got.receipt.package_id,
            422 if got.status == "refused" else 200,
        )

    @app.get("/v1/packages/{package_id}/receipt", response_class=Response)
    def get_receipt(package_id: str) -> Response:
        with db.read() as conn:
            row = conn.execute(
                select(Package.receipt, Package.status).where(Package.package_id == package_id)
            ).first()
        if row is None or row.receipt is None:
            raise HTTPException(404, f"no receipt for package {package_id!r}")
        return _receipt(row.receipt, "processed", package_id, 200)

    @app.get("/v1/health")
    def health() -> dict[str, object]:
        with db.read() as conn:
            rows = conn.execute(select(Package.status, func.count()).group_by(Package.status)).all()
        return {
            "status": "ok",
            "version": __version__,
            "platform_code": who.platform_code,
            "store": db.dialect,
            "packages": dict(rows),
            "signing_certificate_not_after": who.cert.not_after.isoformat(),
        }

    return app


def _receipt(body: bytes, status: str, package_id: str | None, code: int) -> Response:
    headers = {"Hub-Receipt-Status": status}
    if package_id:
        headers["Hub-Package-Id"] = package_id
    return Response(body, status_code=code, media_type=RECEIPT_TYPE, headers=headers)
