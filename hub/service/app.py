"""The HTTP service: a sending platform POSTs a signed package and gets the signed receipt
as the response body (design §2 step 9).

    POST /v1/packages                       body: the package archive (application/zip;
                                            Content-Encoding: gzip is decoded)
        200  processed, or a replay (the original receipt)   body: the receipt archive
        422  refused (nothing stored): a signed receipt that says why when the sender was
             authenticated; before that (bad archive, bad signature, untrusted signer) a
             JSON {"status", "reason", "message"}: no audit row, no signature, a log line
        408  the body stopped or was too slow  413  over [http].max_body_mb
        415  another Content-Encoding, or a Content-Type that is not an archive's (a form
             upload, JSON, HTML)                503  the store is busy (Retry-After)
    GET  /v1/packages/{package_id}/status   the receipt as things stand now (held lines
                                            updated), for whoever names the archive SHA-256
    GET  /v1/packages/{package_id}/receipt  the stored receipt, for whoever names the
                                            archive's SHA-256 in Hub-Package-Sha256
    GET  /v1/health                         the node, its store and its signing certificate
    GET  /v1/docs                           the API documentation (no CDN)

A push may carry ``Authorization: Bearer TOKEN``, a county user's token: a wrong token is
401, a package whose manifest names another sender 403, and nothing is stored.  With
[http].require_push_token a push without a token is 401.

Status and package id are repeated in the headers ``Hub-Receipt-Status`` and
``Hub-Package-Id``.  The package's own signature authenticates its sender, so the service
needs no login of its own; TLS (and client certificates, if wanted) belong to the reverse
proxy in front of it.  Receiving runs in a worker thread: the store is synchronous.
Connections must send their request headers within [http].header_timeout_seconds
(``hub.service.server``).
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime

from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import func, select

from hub import __version__
from hub.access import users
from hub.config import NodeConfig
from hub.errors import ConfigError, RetryableError
from hub.package.node import identity, trust_store, unsealer
from hub.package.receive import Received, receive_package
from hub.package.status import current_receipt
from hub.package.trust import TrustStore
from hub.service.admin import admin_router
from hub.service.body import check_media_type, read_body
from hub.service.health import health_router
from hub.store.engine import Store, open_store
from hub.store.models import Package

log = logging.getLogger("hub.service")

RECEIPT_TYPE = "application/vnd.hub-receipt+zip"
MB = 1024 * 1024


def create_app(cfg: NodeConfig, store: Store | None = None) -> FastAPI:
    """The app for this node; keys and trust are loaded once, here (a bad config fails now).

    A node that trusts no CA yet (an empty trust/ folder: a county that only sends) still
    serves the console and the API; POST /v1/packages then answers 503 saying so."""
    who, keys = identity(cfg), unsealer(cfg)
    try:
        trust: TrustStore | None = trust_store(cfg)
    except ConfigError as exc:
        if "no trust anchor configured" not in str(exc):
            raise
        log.warning("receiving no packages: %s", exc)
        trust = None
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

    app.include_router(admin_router(cfg, db))
    if cfg.fujian.enabled:  # Fujian's V4 SOAP service, for county systems set up for Fujian
        from hub.service.fujian import fujian_router  # noqa: PLC0415

        app.include_router(fujian_router(cfg, db))
    if cfg.shanxi.enabled:  # Shanxi's receiveInfo, for trading systems set up for Shanxi
        from hub.service.shanxi import shanxi_router  # noqa: PLC0415

        app.include_router(shanxi_router(cfg, db))
    if cfg.console.enabled:
        from hub.console.pages import mount_console  # noqa: PLC0415

        mount_console(app, cfg, db)
    app.include_router(health_router(cfg, db, who))

    def pusher(request: Request) -> str | None:
        """The platform code a push token vouches for (None: no token, none required)."""
        auth = request.headers.get("authorization")
        if not auth and not cfg.http.require_push_token:
            return None
        scheme, _, token = (auth or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401, "this node requires Authorization: Bearer TOKEN (the county user's token)"
            )
        user = users.by_token(db, token.strip())
        if user is None:
            raise HTTPException(401, "unknown, revoked or disabled token")
        if user.role != "county" or not user.platform_code:
            raise HTTPException(403, "a push token belongs to a county user (its platform)")
        return user.platform_code

    @app.post("/v1/packages", response_class=Response)
    async def post_package(request: Request) -> Response:
        if trust is None:
            raise HTTPException(
                503,
                "this node trusts no sender yet: put each sending platform's CA certificate "
                "(*.pem) and CRL (*.crl) in the folder [trust] anchors names, then restart",
            )
        sender = await run_in_threadpool(pusher, request)
        check_media_type(request.headers.get("content-type"))
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, f"a package is at most {cfg.http.max_body_mb} MB")
        body = await read_body(
            request.stream(),
            request.headers.get("content-encoding"),
            limit=limit,
            idle=cfg.http.body_idle_seconds,
            total=cfg.http.body_timeout_seconds,
        )
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
                answer_anonymous=False,
                pusher=sender,
                unsealer=keys,
            )
        except RetryableError as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
        if not got.receipt_bytes:  # refused before anyone was authenticated: no signature
            assert got.reason is not None
            log.warning("refused %s from %s: %s", got.reason.code, peer, got.reason.reason[:200])
            return JSONResponse(
                {"status": "refused", "reason": got.reason.code, "message": got.reason.reason},
                status_code=403 if got.reason.code == "push.sender" else 422,
                headers={"Hub-Receipt-Status": "refused"},
            )
        return _receipt(
            got.receipt_bytes,
            got.status,
            got.receipt.package_id,
            422 if got.status == "refused" else 200,
        )

    @app.get("/v1/packages/{package_id}/receipt", response_class=Response)
    def get_receipt(
        package_id: str, proof: str = Header("", alias="Hub-Package-Sha256")
    ) -> Response:
        """The stored receipt, for its sender: the request proves it holds the package by
        naming the archive's SHA-256 (administrators read receipts through the CLI)."""
        with db.read() as conn:
            row = conn.execute(
                select(Package.receipt, Package.raw_sha256).where(Package.package_id == package_id)
            ).first()
        if (
            row is None
            or row.receipt is None
            or not hmac.compare_digest(proof.lower(), row.raw_sha256)
        ):
            raise HTTPException(
                404,
                f"no receipt for package {package_id!r} and the archive SHA-256 given in "
                "Hub-Package-Sha256",
            )
        return _receipt(row.receipt, "processed", package_id, 200)

    @app.get("/v1/packages/{package_id}/onward", response_class=Response)
    def get_onward(
        package_id: str, proof: str = Header("", alias="Hub-Package-Sha256")
    ) -> Response:
        """What became of the package's records on the next hop up (hub/forward/onward.py),
        signed by this node with the targets' receipts inside; for the package's sender,
        who proves it holds the package by naming the archive's SHA-256."""
        from hub.forward.onward import build as onward  # noqa: PLC0415

        proven(package_id, proof)
        receivers = {n: t.receiver for n, t in cfg.forward.items()}
        body = onward(db, package_id, who, datetime.now(UTC), receivers)
        if body is None:
            raise HTTPException(404, f"package {package_id!r} has no receipt yet")
        return Response(body, media_type=RECEIPT_TYPE, headers={"Hub-Package-Id": package_id})

    @app.get("/v1/packages/{package_id}/status", response_class=Response)
    def get_status(
        package_id: str, proof: str = Header("", alias="Hub-Package-Sha256")
    ) -> Response:
        """The package's receipt as things stand now (hub/package/status.py): lines that were
        held say what became of them; for the package's sender, as the receipt."""
        proven(package_id, proof)
        body = current_receipt(db, package_id, who, datetime.now(UTC))
        if body is None:
            raise HTTPException(404, f"package {package_id!r} has no receipt yet")
        return _receipt(body, "processed", package_id, 200)

    def proven(package_id: str, proof: str) -> None:
        """404 unless the caller names the package's archive SHA-256 (it holds the package)."""
        with db.read() as conn:
            sha = conn.execute(
                select(Package.raw_sha256).where(Package.package_id == package_id)
            ).scalar()
        if sha is None or not hmac.compare_digest(proof.lower(), sha):
            raise HTTPException(
                404,
                f"no package {package_id!r} with the archive SHA-256 given in Hub-Package-Sha256",
            )

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
