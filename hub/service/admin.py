"""The administration API under /v1 (bearer tokens: `hub users token NAME`).

Every route names the action it takes (``hub.access.roles``): reads are open to every role,
a county's reads are scoped to its own sources; actions need an operator or administrator
and land in the audit log with the user as actor.  Lists are the CLI's keyset pages.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool

from hub.access import users
from hub.access.roles import may, scope_of
from hub.actions import discard_quarantine, resolve_conflict
from hub.config import NodeConfig
from hub.errors import UsageError
from hub.query import conflicts, fates
from hub.store.engine import Store
from hub.supervise import findings

MAX_ID = 2**63 - 1  # ids are 64-bit in the store
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def admin_router(cfg: NodeConfig, db: Store) -> APIRouter:
    r = APIRouter(prefix="/v1")

    def who(
        authorization: Annotated[str, Header(description="Bearer TOKEN")] = "",
    ) -> users.Who:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "send Authorization: Bearer TOKEN (hub users token NAME)")
        user = users.by_token(db, token.strip())
        if user is None:
            raise HTTPException(401, "unknown, revoked or disabled token")
        return user

    def need(user: users.Who, action: str) -> None:
        if not may(user.role, action):
            raise HTTPException(403, f"a {user.role} may not {action}")

    def window(
        user: users.Who,
        source: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        before: int | None,
    ) -> fates.Window:
        scope = scope_of(user.role, user.platform_code, cfg.sources)
        if scope is not None and source is not None and source not in scope:
            raise HTTPException(403, f"source {source!r} is not this county's")
        return fates.Window(source, since, until, limit, before, scope, count=True)

    def page(query: Callable[[Any, fates.Window], fates.Page]) -> Callable[..., Any]:
        def route(
            user: Annotated[users.Who, Depends(who)],
            source: str | None = None,
            since: datetime | None = None,
            until: datetime | None = None,
            limit: int = Query(50, ge=1, le=1000),
            before: int | None = Query(None, ge=1, le=MAX_ID),
        ) -> dict[str, Any]:
            need(user, "read")
            w = window(user, source, since, until, limit, before)
            with db.read() as conn:
                return query(conn, w).as_dict()

        return route

    r.add_api_route("/runs", page(fates.runs), methods=["GET"], summary="Sync runs")
    r.add_api_route("/rejected", page(fates.rejected), methods=["GET"], summary="Rejections")
    r.add_api_route("/held", page(fates.held), methods=["GET"], summary="Held records")
    r.add_api_route("/quarantine", page(fates.quarantine), methods=["GET"], summary="Quarantine")
    r.add_api_route("/conflicts", page(conflicts.conflicts), methods=["GET"], summary="Conflicts")
    r.add_api_route(
        "/findings", page(findings.listing), methods=["GET"], summary="Supervision findings"
    )

    @r.post("/findings/{fid}/review", summary="Mark a supervision finding reviewed, with a note")
    def review_finding(
        fid: RowId, note: str, user: Annotated[users.Who, Depends(who)]
    ) -> dict[str, Any]:
        need(user, "review")
        try:
            return findings.review(db, fid, note, f"api:{user.name}")
        except UsageError as exc:
            raise HTTPException(404 if "no finding" in str(exc) else 400, str(exc)) from exc

    @r.get("/sources", summary="Sources with health: freshness, last run, counts, issue rate")
    def sources(user: Annotated[users.Who, Depends(who)]) -> list[dict[str, Any]]:
        need(user, "read")
        from hub.query.overview import sources as overview  # noqa: PLC0415

        return overview(cfg, db, scope_of(user.role, user.platform_code, cfg.sources))

    @r.get("/schedules", summary="Schedules with freshness")
    def schedules(user: Annotated[users.Who, Depends(who)]) -> list[dict[str, Any]]:
        need(user, "read")
        from hub.schedule.scheduler import statuses  # noqa: PLC0415

        rows = [asdict(s) for s in statuses(cfg, db)]
        mine = scope_of(user.role, user.platform_code, cfg.sources)
        if mine is not None:
            rows = [x for x in rows if x["source"] in mine]
        return rows

    @r.post("/schedules/{name}/run", summary="Run a scheduled sync now")
    async def run_now(name: str, user: Annotated[users.Who, Depends(who)]) -> dict[str, str]:
        need(user, "run")
        from hub.schedule import ledger  # noqa: PLC0415
        from hub.schedule.runner import tick  # noqa: PLC0415

        if name not in cfg.schedules:
            raise HTTPException(404, f"no schedule {name!r}")
        outcome = await run_in_threadpool(
            tick, cfg, db, name, f"api:{user.name}:{ledger.owner()}", by_hand=True
        )
        return {"schedule": name, "outcome": outcome}

    @r.get("/quarantine/{qid}", summary="One quarantined record: why, its issues, the raw record")
    def quarantine_one(qid: RowId, user: Annotated[users.Who, Depends(who)]) -> dict[str, Any]:
        need(user, "read")
        with db.read() as conn:
            got = fates.quarantined(conn, qid)
        scope = scope_of(user.role, user.platform_code, cfg.sources)
        if got is None or (scope is not None and got["source"] not in scope):
            raise HTTPException(404, f"no quarantined record {qid}")
        return got

    @r.get("/lifecycle/{code}", summary="A transaction across data sets, from a link code")
    def lifecycle(code: str, user: Annotated[users.Who, Depends(who)]) -> list[dict[str, Any]]:
        need(user, "read")
        from hub.dictionary.loader import load_dictionary  # noqa: PLC0415
        from hub.query.records import lifecycle as tied  # noqa: PLC0415

        scope = scope_of(user.role, user.platform_code, cfg.sources)
        with db.read() as conn:
            rows = tied(conn, load_dictionary(), code)
        return [x for x in rows if scope is None or x["source"] in scope]

    @r.post("/quarantine/{qid}/discard", summary="Discard a quarantined record (raw kept)")
    def discard(
        qid: RowId, reason: str, user: Annotated[users.Who, Depends(who)]
    ) -> dict[str, Any]:
        need(user, "discard")
        try:
            done = discard_quarantine(db, [qid], reason, f"api:{user.name}")
        except UsageError as exc:
            raise HTTPException(409, str(exc)) from exc
        return {"discarded": done}

    @r.post("/quarantine/{qid}/replay", summary="Validate and reconcile a quarantined record again")
    async def replay_one(qid: RowId, user: Annotated[users.Who, Depends(who)]) -> dict[str, Any]:
        need(user, "replay")
        from hub.ingest.replay import replay  # noqa: PLC0415
        from hub.sources import mapping_of  # noqa: PLC0415

        counts, outcomes = await run_in_threadpool(
            replay,
            db,
            [qid],
            cfg.ingest,
            mappings=lambda src: mapping_of(cfg, src),
            actor=f"api:{user.name}",
        )
        if not outcomes:
            raise HTTPException(404, f"no open quarantine row {qid}")
        return {**counts.as_dict(), "outcome": outcomes[qid]}

    @r.post("/schedules/{name}/{what}", summary="Pause or resume a schedule")
    def pause(
        name: str, what: str, user: Annotated[users.Who, Depends(who)], reason: str = ""
    ) -> dict[str, str]:
        need(user, "pause")
        from hub.schedule import ledger  # noqa: PLC0415

        if what not in ("pause", "resume") or name not in cfg.schedules:
            raise HTTPException(404, f"no {what!r} for schedule {name!r}")
        ledger.ensure(db, list(cfg.schedules), datetime.now(UTC))
        ledger.pause(db, name, what == "pause", reason or "paused over the API", f"api:{user.name}")
        return {"schedule": name, "state": "paused" if what == "pause" else "resumed"}

    @r.post("/conflicts/{cid}/resolve", summary="Make one of the tied versions current")
    def resolve(
        cid: RowId,
        take: Annotated[int, Query(ge=1, le=2**31 - 1)],
        user: Annotated[users.Who, Depends(who)],
        note: str = "",
    ) -> dict[str, Any]:
        need(user, "resolve")
        try:
            return resolve_conflict(db, cid, take, f"api:{user.name}", note)
        except UsageError as exc:
            raise HTTPException(409, str(exc)) from exc

    @r.get("/alerts", summary="Alerts: open ones, unseen and most severe first")
    def alerts(
        user: Annotated[users.Who, Depends(who)], everything: bool = False
    ) -> list[dict[str, Any]]:
        need(user, "read")
        if user.role == "county":
            return []  # alerts are about the node, not about a county's data
        from hub.watch.alerts import listing  # noqa: PLC0415

        return listing(db, everything=everything)

    @r.post("/alerts/{aid}/seen", summary="Mark an alert seen")
    def alert_seen(aid: RowId, user: Annotated[users.Who, Depends(who)]) -> dict[str, int]:
        need(user, "acknowledge")
        from hub.watch.alerts import mark_seen  # noqa: PLC0415

        return {"marked": mark_seen(db, [aid], f"api:{user.name}")}

    @r.get("/records/{dataset}/{key}", summary="One record: current version, history, provenance")
    def record(dataset: str, key: str, user: Annotated[users.Who, Depends(who)]) -> dict[str, Any]:
        need(user, "read")
        from hub.dictionary.loader import load_dictionary  # noqa: PLC0415
        from hub.query.records import as_seen_by, show  # noqa: PLC0415

        try:
            with db.read() as conn:
                rec = show(conn, load_dictionary(), dataset, key)
        except UsageError as exc:
            raise HTTPException(404, str(exc)) from exc
        mine = scope_of(user.role, user.platform_code, cfg.sources)
        if mine is not None:  # only what its own platform sent
            seen = as_seen_by(rec, set(mine))
            if seen is None:
                raise HTTPException(404, f"no {dataset} {key!r} sent by this county")
            rec = seen
        return rec

    return r
