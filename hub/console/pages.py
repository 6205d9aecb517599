"""The console's pages (GET): sources, a source's runs, one run, find, a record, the lists of
what was not taken, conflicts, trust, alerts, the audit log.  Forms: ``hub.console.forms``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.config import NodeConfig
from hub.console import forms, views
from hub.console import session as sessions
from hub.console.web import Console, SignInFirst, environment
from hub.dictionary.loader import load_dictionary
from hub.errors import UsageError
from hub.query import conflicts, fates, overview
from hub.query.records import as_seen_by, show
from hub.service.admin import MAX_ID, RowId
from hub.store.engine import Store
from hub.supervise import findings


def mount_console(app: FastAPI, cfg: NodeConfig, db: Store) -> None:
    """The console under /console, its files under /console/static."""
    from importlib.resources import files  # noqa: PLC0415

    c = Console(cfg, db, environment(cfg))
    app.mount(
        "/console/static",
        StaticFiles(directory=str(files("hub.console") / "static")),
        name="console-static",
    )
    app.include_router(console_router(c), include_in_schema=False)
    app.include_router(forms.forms_router(c), include_in_schema=False)

    @app.exception_handler(SignInFirst)
    async def sign_in_first(request: Request, exc: SignInFirst) -> Response:
        return RedirectResponse(f"/console/sign-in?next={exc.next_url}", status_code=303)

    default = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/console") or default is None:
            from fastapi.exception_handlers import http_exception_handler  # noqa: PLC0415

            return await http_exception_handler(request, exc)
        s = sessions.session(db, request.cookies.get(sessions.COOKIE))
        return c.page(s, "error.html", status=exc.status_code, code=exc.status_code,
                      detail=exc.detail)  # fmt: skip


def _dt(v: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(v) if v else None
    except ValueError as exc:
        raise HTTPException(
            400, f"{v!r} is not a date or time (2026-12-01 or 2026-12-01T08:00)"
        ) from exc


def console_router(c: Console) -> APIRouter:
    r = APIRouter(prefix="/console")
    d = load_dictionary()

    @r.get("/", response_class=HTMLResponse)
    def sources_page(request: Request) -> HTMLResponse:
        s = c.who(request)
        rows = overview.sources(c.cfg, c.db, c.scope(s))
        return c.page(
            s, "sources.html", here="sources", rows=rows, said=request.query_params.get("said")
        )

    @r.get("/sources/{name}", response_class=HTMLResponse)
    def source_page(
        request: Request, name: str, before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
    ) -> HTMLResponse:
        s = c.who(request)
        scope = c.scope(s)
        if scope is not None and name not in scope:
            raise HTTPException(403, f"source {name!r} is not this county's")
        schedules = [n for n, x in c.cfg.schedules.items() if x.source == name]
        from hub.schedule.ledger import events  # noqa: PLC0415

        with c.db.read() as conn:
            runs = views.source_runs(conn, name, before)
            live = views.running(conn, name)
            evs = [e for n in schedules for e in events(conn, n, 20)]
        if not runs.rows and name not in c.cfg.sources:
            raise HTTPException(404, f"no source {name!r}")
        status = {x["name"]: x for x in overview.sources(c.cfg, c.db, (name,))}.get(name)
        return c.page(s, "source.html", here="sources", name=name, runs=runs, live=live,
                      schedules=schedules, events=evs, st=status,
                      said=request.query_params.get("said"))  # fmt: skip

    @r.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: RowId) -> HTMLResponse:
        s = c.who(request)
        with c.db.read() as conn:
            try:
                run = fates.run_detail(conn, run_id, limit=500)
            except UsageError as exc:
                raise HTTPException(404, str(exc)) from exc
        scope = c.scope(s)
        if scope is not None and run["run"]["source"] not in scope:
            raise HTTPException(403, "this run is not this county's")
        return c.page(s, "run.html", here="sources", r=run)

    @r.get("/find", response_class=HTMLResponse)
    def find_page(request: Request, q: str = "") -> HTMLResponse:
        s = c.who(request)
        with c.db.read() as conn:
            found = views.search(conn, d, q[:400], c.scope(s))
        return c.page(s, "find.html", here="find", f=found)

    @r.get("/records/{dataset}/{key:path}", response_class=HTMLResponse)
    def record_page(request: Request, dataset: str, key: str) -> HTMLResponse:
        s = c.who(request)
        scope = c.scope(s)
        with c.db.read() as conn:
            try:
                rec: dict[str, Any] | None = show(conn, d, dataset, key)
            except UsageError as exc:
                raise HTTPException(404, str(exc)) from exc
            if scope is not None:
                rec = as_seen_by(rec, set(scope)) if rec else None
                if rec is None:
                    raise HTTPException(404, f"no {dataset} {key!r} sent by this county")
            assert rec is not None
            extra = views.record_extras(conn, d, rec)
            if scope is not None:
                extra["lifecycle"] = [x for x in extra["lifecycle"] if x["source"] in scope]
        return c.page(s, "record.html", here="find", rec=rec, x=extra)

    def listing(name: str, query: Any, template: str, **kw: Any) -> None:
        def handler(
            request: Request,
            source: str | None = None,
            since: str | None = None,
            until: str | None = None,
            before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        ) -> HTMLResponse:
            s = c.who(request)
            scope = c.scope(s)
            if scope is not None and name in {"conflicts", "audit"}:
                raise HTTPException(403, f"a county does not see the {name} page")
            w = fates.Window(source or None, _dt(since), _dt(until), 50, before, scope, count=True)
            with c.db.read() as conn:
                page = query(conn, w)
            return c.page(s, template, here=name, page=page, source=source or "",
                          since=since or "", until=until or "",
                          said=request.query_params.get("said"), **kw)  # fmt: skip

        r.add_api_route(f"/{name}", handler, methods=["GET"], response_class=HTMLResponse)

    listing("quarantine", fates.quarantine, "quarantine.html")
    listing("rejected", fates.rejected, "rejected.html")
    listing("held", fates.held, "held.html")
    listing("conflicts", conflicts.conflicts, "conflicts.html")
    listing("audit", fates.audit_entries, "audit.html")
    listing("findings", findings.listing, "findings.html")

    @r.get("/quarantine/{qid}", response_class=HTMLResponse)
    def quarantine_one(request: Request, qid: RowId) -> HTMLResponse:
        s = c.who(request)
        with c.db.read() as conn:
            q = fates.quarantined(conn, qid)
        scope = c.scope(s)
        if q is None or (scope is not None and q["source"] not in scope):
            raise HTTPException(404, f"no quarantined record {qid}")
        return c.page(s, "quarantine_one.html", here="quarantine", q=q, issues=q["issues"],
                      said=request.query_params.get("said"))  # fmt: skip

    @r.get("/conflicts/{cid}", response_class=HTMLResponse)
    def conflict_page(request: Request, cid: RowId) -> HTMLResponse:
        s = c.who(request)
        if c.scope(s) is not None:
            raise HTTPException(403, "a county does not see conflicts")
        with c.db.read() as conn:
            got = conflicts.conflict(conn, cid)
        if got is None:
            raise HTTPException(404, f"no conflict {cid}")
        differ = set(conflicts.differing_fields(got["versions"]))
        fields = sorted({k for v in got["versions"] for k in v["content"]})
        ds = d.datasets.get(got["dataset"])
        names = {f.id: f.name_cn for f in ds.fields} if ds else {}
        return c.page(s, "conflict.html", here="conflicts", cf=got, fields=fields,
                      differ=differ, names=names)  # fmt: skip

    @r.get("/trust", response_class=HTMLResponse)
    def trust_page(request: Request) -> HTMLResponse:
        s = c.who(request)
        if c.scope(s) is not None:
            raise HTTPException(403, "a county does not see this node's trust material")
        return c.page(s, "trust.html", here="trust", rows=views.trust(c.cfg))

    @r.get("/forward", response_class=HTMLResponse)
    def forward_page(request: Request) -> HTMLResponse:
        s = c.who(request)
        if c.scope(s) is not None:
            raise HTTPException(403, "a county does not see where this node forwards")
        from hub.forward.status import deliveries, targets  # noqa: PLC0415

        return c.page(s, "forward.html", here="forward", rows=targets(c.cfg, c.db),
                      sent=deliveries(c.db))  # fmt: skip

    @r.get("/alerts", response_class=HTMLResponse)
    def alerts_page(request: Request, all: bool = False) -> HTMLResponse:
        s = c.who(request)
        if c.scope(s) is not None:
            raise HTTPException(403, "a county does not see the node's alerts")
        from hub.watch.alerts import listing as alerts  # noqa: PLC0415

        return c.page(s, "alerts.html", here="alerts", rows=alerts(c.db, everything=all),
                      everything=all)  # fmt: skip

    return r
