"""The console's plumbing: templates and their filters, who is signed in, CSRF, scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from hub import __version__
from hub.access.roles import may, scope_of
from hub.config import NodeConfig
from hub.console import session as sessions
from hub.store.engine import Store, utc

HEADERS = {
    # everything the pages use is served by the hub itself: no inline script, no CDN
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
NAV = (
    ("sources", "/console/", "Sources 数据源"),
    ("find", "/console/find", "Find 查找"),
    ("quarantine", "/console/quarantine", "Quarantine 隔离"),
    ("rejected", "/console/rejected", "Rejected 驳回"),
    ("held", "/console/held", "Held 暂挂"),
    ("conflicts", "/console/conflicts", "Conflicts 冲突"),
    ("findings", "/console/findings", "Findings 预警"),
    ("forward", "/console/forward", "Upstream 上报"),
    ("trust", "/console/trust", "Trust 证书"),
    ("alerts", "/console/alerts", "Alerts 告警"),
    ("audit", "/console/audit", "Audit 审计"),
)
NOT_FOR_COUNTIES = {"conflicts", "forward", "trust", "alerts", "audit"}


class SignInFirst(Exception):
    """Raised by ``Console.who``: the handler sends the browser to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


@dataclass
class Console:
    cfg: NodeConfig
    db: Store
    env: Environment

    def who(self, request: Request) -> sessions.Session:
        s = sessions.session(self.db, request.cookies.get(sessions.COOKIE))
        if s is None:
            raise SignInFirst(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        return s

    def scope(self, s: sessions.Session) -> tuple[str, ...] | None:
        """The sources a county user sees; None: everything."""
        return scope_of(s.user.role, s.user.platform_code, self.cfg.sources)

    def need(self, s: sessions.Session, action: str) -> None:
        if not may(s.user.role, action):
            raise HTTPException(403, f"a {s.user.role} may not {action}")

    def page(
        self, s: sessions.Session | None, template: str, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        nav = [
            n for n in NAV if s is None or s.user.role != "county" or n[0] not in NOT_FOR_COUNTIES
        ]
        unseen = 0
        if s is not None and s.user.role != "county":
            from hub.watch.alerts import unseen as count  # noqa: PLC0415

            unseen = count(self.db)
        body = self.env.get_template(template).render(
            s=s, nav=nav, node=self.cfg.node, version=__version__, unseen=unseen,
            may=lambda action: s is not None and may(s.user.role, action), **ctx
        )  # fmt: skip
        return HTMLResponse(body, status_code=status, headers=HEADERS)


async def form(request: Request, s: sessions.Session | None) -> dict[str, str]:
    """A POSTed form's fields (urlencoded); with a session, its CSRF token must match."""
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise HTTPException(413, "a console form is at most 64 KB")
    fields = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    if s is not None and not sessions.csrf_ok(s, fields.get("csrf")):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    return fields


def environment(cfg: NodeConfig) -> Environment:
    env = Environment(
        loader=PackageLoader("hub.console", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = ZoneInfo(cfg.console.timezone)

    def when(ts: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        t = utc(ts)
        return t.astimezone(zone).strftime(fmt) if t is not None else "—"

    env.filters["when"] = when
    env.filters["num"] = lambda n: "—" if n is None else f"{int(n):,}"
    env.filters["pct"] = lambda x: "—" if x is None else f"{100 * x:.1f}%"
    env.filters["q"] = lambda s: quote(str(s), safe="")
    env.globals["zone"] = cfg.console.timezone
    return env
