"""The console's forms (POST): sign in and out, run / pause / resume a schedule, replay or
discard a quarantined record, resolve a conflict, mark an alert seen.  Each needs a session,
its CSRF token and the right role, lands in the audit log with the user as actor
(``console:NAME``) and sends the browser back with what happened."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.actions import discard_quarantine, resolve_conflict
from hub.console import session as sessions
from hub.console.web import Console, form
from hub.errors import UsageError
from hub.service.admin import RowId

SAFE_NEXT = "/console/"


def _back(path: str, said: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?said={quote(said)}", status_code=303)


def _next(url: str | None) -> str:
    """Only a path of this console (no open redirect to another site)."""
    if url and url.startswith("/console") and not url.startswith("//") and "\\" not in url:
        return url
    return SAFE_NEXT


def _plain_remote(request: Request) -> bool:
    """Plain HTTP to a host name that is not this machine (browsers keep Secure cookies from
    https and from localhost only); a proxy that terminates TLS says so in X-Forwarded-Proto."""
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = (request.url.hostname or "").strip("[]")
    return proto == "http" and host not in ("127.0.0.1", "localhost", "::1")


def forms_router(c: Console) -> APIRouter:
    r = APIRouter(prefix="/console")

    @r.get("/sign-in", response_class=HTMLResponse)
    def sign_in_page(request: Request, next: str = SAFE_NEXT) -> HTMLResponse:
        return c.page(None, "sign_in.html", next=_next(next), error=None)

    @r.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        f = await form(request, None)
        name, password = f.get("name", "").strip(), f.get("password", "")
        addr = request.client.host if request.client else "unknown"
        target = _next(f.get("next"))
        wait = await run_in_threadpool(sessions.locked_for, c.db, c.cfg, name, addr)
        if wait > 0:
            return c.page(None, "sign_in.html", status=429, next=target,
                          error=f"Too many failed sign-ins: try again in {int(wait // 60) + 1} "
                          "minute(s), or ask an administrator (hub users).")  # fmt: skip
        if c.cfg.console.secure_cookies and _plain_remote(request):
            return c.page(None, "sign_in.html", status=400, next=target,
                          error="This console is reached over plain HTTP from another host: "
                          "the browser would drop its Secure session cookie. Reach it over "
                          "HTTPS (the TLS proxy in front of hub serve), or set [console] "
                          "secure_cookies = false on a trusted network.")  # fmt: skip
        sid = await run_in_threadpool(sessions.sign_in, c.db, c.cfg, name, password, addr)
        if sid is None:
            return c.page(None, "sign_in.html", status=401, next=target,
                          error="The name or the password is wrong.")  # fmt: skip
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(
            sessions.COOKIE,
            sid,
            max_age=int(c.cfg.console.session_hours * 3600),
            httponly=True,
            secure=c.cfg.console.secure_cookies,
            samesite="strict",
            path="/console",
        )
        return resp

    @r.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        s = c.who(request)
        await form(request, s)
        sessions.sign_out(c.db, request.cookies.get(sessions.COOKIE, ""), s.user)
        resp = RedirectResponse("/console/sign-in", status_code=303)
        resp.delete_cookie(sessions.COOKIE, path="/console")
        return resp

    @r.post("/schedules/{name}/{what}")
    async def schedule_action(request: Request, name: str, what: str) -> Response:
        s = c.who(request)
        f = await form(request, s)
        if name not in c.cfg.schedules or what not in ("run", "pause", "resume"):
            raise HTTPException(404, f"no {what!r} for schedule {name!r}")
        c.need(s, "run" if what == "run" else "pause")
        from hub.schedule import ledger  # noqa: PLC0415
        from hub.schedule.runner import tick  # noqa: PLC0415

        actor = f"console:{s.user.name}"
        source = c.cfg.schedules[name].source
        if what == "run":  # in the background: the source page shows its progress
            threading.Thread(
                target=tick,
                args=(c.cfg, c.db, name, f"{actor}:{ledger.owner()}"),
                kwargs={"by_hand": True},
                daemon=True,
                name=f"console-run-{name}",
            ).start()
            return _back(f"/console/sources/{quote(source)}", f"{name}: run started")
        ledger.ensure(c.db, list(c.cfg.schedules), datetime.now(UTC))
        why = f.get("reason", "").strip()[:500] or "paused in the console"
        ledger.pause(c.db, name, what == "pause", why, actor)
        return _back(f"/console/sources/{quote(source)}", f"{name}: {what}d")

    @r.post("/quarantine/{qid}/{what}")
    async def quarantine_action(request: Request, qid: RowId, what: str) -> Response:
        s = c.who(request)
        f = await form(request, s)
        actor = f"console:{s.user.name}"
        if what == "discard":
            c.need(s, "discard")
            reason = f.get("reason", "").strip()
            if not reason:
                return _back(f"/console/quarantine/{qid}", "say why it is discarded")

            try:
                await run_in_threadpool(discard_quarantine, c.db, [qid], reason[:500], actor)
            except UsageError as exc:
                return _back(f"/console/quarantine/{qid}", str(exc))
            return _back(f"/console/quarantine/{qid}", "discarded (the raw record is kept)")
        if what != "replay":
            raise HTTPException(404, f"no action {what!r}")
        c.need(s, "replay")
        from hub.ingest.replay import replay  # noqa: PLC0415
        from hub.sources import mapping_of  # noqa: PLC0415

        _, outcomes = await run_in_threadpool(
            replay, c.db, [qid], c.cfg.ingest,
            mappings=lambda src: mapping_of(c.cfg, src), actor=actor,
        )  # fmt: skip
        if not outcomes:
            return _back(f"/console/quarantine/{qid}", "it is no longer open")
        return _back(f"/console/quarantine/{qid}", f"replayed: {outcomes[qid]}")

    async def acting(request: Request, action: str) -> tuple[sessions.Session, dict[str, str]]:
        """The signed-in user, the form (its CSRF token checked) and the right to ``action``."""
        s = c.who(request)
        f = await form(request, s)
        c.need(s, action)
        return s, f

    @r.post("/conflicts/{cid}/resolve")
    async def resolve(request: Request, cid: RowId) -> Response:
        s, f = await acting(request, "resolve")

        try:
            take = int(f.get("take", ""))
            await run_in_threadpool(
                resolve_conflict, c.db, cid, take, f"console:{s.user.name}", f.get("note", "")
            )
        except (ValueError, UsageError) as exc:
            return _back(f"/console/conflicts/{cid}", f"not resolved: {exc}")
        return _back("/console/conflicts", f"conflict {cid} resolved: version {take} is current")

    @r.post("/findings/{fid}/review")
    async def review_finding(request: Request, fid: RowId) -> Response:
        s, f = await acting(request, "review")
        from hub.supervise.findings import review  # noqa: PLC0415

        try:
            review(c.db, fid, f.get("note", ""), f"console:{s.user.name}")
        except UsageError as exc:
            return _back("/console/findings", f"not reviewed: {exc}")
        return _back("/console/findings", f"finding {fid} reviewed")

    @r.post("/alerts/{aid}/seen")
    async def alert_seen(request: Request, aid: RowId) -> Response:
        s = c.who(request)
        await form(request, s)
        c.need(s, "acknowledge")
        from hub.watch.alerts import mark_seen  # noqa: PLC0415

        mark_seen(c.db, [aid], f"console:{s.user.name}")
        return RedirectResponse("/console/alerts", status_code=303)

    return r
