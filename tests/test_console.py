"""The web console in headless Chromium (Debian's chromium, driven by Playwright through its
executable path): sign in, the sources page with a generated batch's real figures, a
quarantined record replayed before and after its mapping is fixed, a record's lifecycle, and
every page once.  Each page's screenshot is saved in artifacts/console/ (a test artifact).

Beside the browser: sign-in throttling, CSRF, roles and a county's scope over plain HTTP."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hub.access import users
from hub.config import (
    ConsoleSection,
    NodeConfig,
    ScheduleSection,
    SigningSection,
    SourceSection,
    StoreSection,
)
from hub.forward import forward
from hub.ingest.pipeline import ingest_file
from hub.mapping import load_mapping
from hub.package import testpki
from hub.query.fates import Window
from hub.sections import ForwardSection
from hub.store.engine import Store, open_store
from hub.store.models import AuditEntry, CurrentRecord, RecordRef, RecordVersion, SyncRun
from hub.supervise.findings import check, listing, review
from tests.legacy import with_dotted_update_time
from tests.packkit import NOW, RECEIVER
from tests.webkit import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "console"
SAMPLES = ROOT / "mappings" / "samples" / "qingshan"
PASSWORD = "青山-correct-horse-9"


@dataclass
class Node:
    url: str
    store: Store
    cfg: NodeConfig
    mapping: Path  # the county's mapping file, which the test fixes on disk
    project: str  # a PROJECT_CODE of the generated batch
    data_key: str  # the key its sender gave it (a Fujian-style DATA_KEY)
    dotted: str  # the update time of the quarantined CSV row, as the county wrote it


@pytest.fixture
def node(database_url: str, tmp_path: Path, run: Any) -> Iterator[Node]:
    ca = testpki.make_ca("ecdsa", NOW, "console test CA")
    me = testpki.make_node(ca, "ecdsa", RECEIVER, NOW, 7)
    (tmp_path / "me.key").write_bytes(me.key.pem())
    (tmp_path / "me.pem").write_bytes(me.cert.pem())
    mapping = tmp_path / "qingshan-csv.toml"
    shutil.copy(ROOT / "mappings" / "qingshan-csv.toml", mapping)
    (tmp_path / "inbox").mkdir()
    cfg = NodeConfig(
        store=StoreSection(url=database_url, data_dir=tmp_path / "data"),
        signing=SigningSection(key=tmp_path / "me.key", cert=tmp_path / "me.pem"),
        sources={
            "county-qingshan": SourceSection(
                adapter="files",
                mapping=str(mapping),
                platform_code="12330100MB0000001Q",
                options={"inbox": str(tmp_path / "inbox"), "pattern": ["*.csv"]},
            )
        },
        schedules={"qingshan-inbox": ScheduleSection(source="county-qingshan", every="1h")},
        console=ConsoleSection(max_failures=3),
        forward={  # a province that does not answer: the Upstream page shows its breaker
            "province": ForwardSection(
                receiver="12330000MB0000000P",
                options={"url": f"http://127.0.0.1:{free_port()}", "max_attempts": 1},
            )
        },
    )
    store = open_store(cfg)
    # a generated batch from one county, with realistic defects
    batch = tmp_path / "dongshan.jsonl"
    assert (
        run(
            "generate", "-n", "6", "--invalid-rate", "0.05", "--seed", "11", "-o", str(batch)
        ).exit_code
        == 0
    )
    ingest_file(store, batch, "county-dongshan")
    assert forward(cfg, store, "province").status == "stopped"  # one dead package
    # what the defects cause (a section whose rejected bids leave fewer than three) was
    # reviewed already: the findings page lists open findings
    check(store)
    with store.read() as conn:
        earlier = [f["id"] for f in listing(conn, Window(limit=100)).rows]
    for fid in earlier:
        review(store, fid, "县中心已补报投标人名单", "test")
    # one candidates' publicity of one day (the law asks three): a supervision finding
    lines = [json.loads(x) for x in batch.read_text("utf-8").splitlines()]
    pub = next(r for r in lines if r["dataset"] == "TENDER_CANDIDATE_ANNOUNCE")
    rec = dict(pub["record"])
    rec["PUBLICITY_END_TIME"] = rec["PUBLICITY_START_TIME"][:8] + "235900"
    rec["DATA_TIMESTAMP"] = "20240501000000"
    short = tmp_path / "short.jsonl"
    short.write_text(json.dumps({**pub, "op": "modify", "record": rec}, ensure_ascii=False))
    ingest_file(store, short, "county-dongshan")
    assert check(store).opened == 1
    # another county's CSV export, one row of which the mapping cannot read yet
    m = load_mapping(mapping)
    for name in ("XM_20240301.csv", "ZBXM_20240301.csv"):
        ingest_file(store, SAMPLES / name, "county-qingshan", mapping=m)
    lines = (SAMPLES / "BD_20240301.csv").read_bytes().decode("gbk").split("\r\n")
    lines[1], dotted = with_dotted_update_time(lines[1])
    bd = tmp_path / "BD_20240302.csv"
    bd.write_bytes("\r\n".join(lines).encode("gbk"))
    assert ingest_file(store, bd, "county-qingshan", mapping=m).counts.quarantined == 1
    with store.read() as conn:
        # the county's project with the most records tied to it (a project whose tender
        # project carries a planted defect has its children held)
        mine = select(CurrentRecord.business_key).where(
            CurrentRecord.dataset == "PROJECT", CurrentRecord.source == "county-dongshan"
        )
        project = conn.execute(
            select(RecordRef.value)
            .where(RecordRef.field == "PROJECT_CODE", RecordRef.value.in_(mine))
            .group_by(RecordRef.value)
            .order_by(func.count().desc(), RecordRef.value)
        ).scalar()
        data_key = conn.execute(
            select(RecordVersion.sender_key).where(
                RecordVersion.dataset == "PROJECT", RecordVersion.business_key == project
            )
        ).scalar()
    assert project and data_key
    users.add(store, "li.na", "administrator", PASSWORD, None, "test")
    users.add(store, "zhao.obs", "observer", PASSWORD, None, "test")
    users.add(store, "qingshan", "county", PASSWORD, "12330100MB0000001Q", "test")
    with serving(cfg, store) as (url, _):
        yield Node(url, store, cfg, mapping, project, data_key, dotted)
    store.dispose()


def _chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is not installed: scripts/test.sh installs it"
    return path


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        yield b
        b.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/console/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/console/sign-in'] button")


def test_an_administrator_works_through_the_console(node: Node, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{node.url}/console/quarantine")
    assert "/console/sign-in" in page.url  # nothing without signing in
    _shot(page, "01-sign-in")
    _sign_in(page, node.url, "li.na", "wrong password 1")
    assert "wrong" in page.inner_text(".error")
    _sign_in(page, node.url, "li.na")
    assert page.url.endswith("/console/")

    # sources at a glance: the figures are the store's
    with node.store.read() as conn:
        accepted = conn.execute(
            select(func.sum(SyncRun.accepted)).where(SyncRun.source == "county-dongshan")
        ).scalar()
    row = page.locator("#sources tr", has_text="county-dongshan")
    assert f"{accepted:,}" in row.inner_text() and accepted > 300
    qs = page.locator("#sources tr", has_text="county-qingshan").inner_text()
    assert "qingshan-inbox" in qs and "every 1h" in qs
    _shot(page, "02-sources")

    page.click("text=county-qingshan")
    assert page.locator("#runs tbody tr").count() == 3
    assert "mapping.value (1)" in page.inner_text("#runs")
    _shot(page, "03-source-runs")

    # a quarantined row: replayed with today's mapping, then after the mapping is fixed
    page.click("nav >> text=Quarantine")
    page.click("#quarantine tbody tr >> nth=0 >> a")
    assert node.dotted in page.inner_text("#raw")
    page.click("#replay")
    assert "replayed: quarantined" in page.inner_text(".said")
    text = node.mapping.read_text("utf-8")
    node.mapping.write_text(
        text.replace('"%Y-%m-%d %H:%M"], to', '"%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S"], to'),
        "utf-8",
    )
    page.click("#replay")
    assert "replayed: accepted" in page.inner_text(".said")
    assert page.locator("#replay").count() == 0  # it is closed now
    _shot(page, "04-quarantine-replayed")

    # find a transaction by its project code; open a record and its lifecycle
    page.fill("nav input[name=q]", node.project)
    page.press("nav input[name=q]", "Enter")
    tied = page.locator("#tied tbody tr").count()
    assert tied >= 4  # the project, its tender project, sections, notices ...
    _shot(page, "05-find")
    page.goto(f"{node.url}/console/find?q={node.data_key}")  # the sender's own key finds it too
    assert node.project in page.inner_text("#found")
    page.click(f"#found >> text={node.project}")
    assert "PROJECT_CODE" in page.inner_text("#current") and "项目" in page.inner_text("h1")
    assert page.locator("#versions tbody tr").count() >= 1
    assert page.locator("#lifecycle tbody tr").count() == tied
    assert "county-dongshan" in page.inner_text("#versions")
    _shot(page, "06-record-lifecycle")

    page.click("nav >> a[href='/console/findings']")
    assert "TL-CANDIDATE-PUBLICITY" in page.inner_text("#findings")
    assert "第五十四条" in page.inner_text("#findings")
    _shot(page, "07-findings")
    page.click("#findings tbody tr >> nth=0 >> td >> nth=5 >> a")
    assert "0 day(s)" in page.inner_text("#record-findings")
    page.go_back()
    page.fill("#findings input[name=note]", "县中心已核实：公示期录入有误")
    page.click("#findings button")
    assert "reviewed" in page.inner_text(".said")
    assert page.locator("#findings tbody td.empty").count() == 1  # no open finding left
    upstream = page.goto(f"{node.url}/console/forward").text()
    assert "12330000MB0000000P" in upstream and "dead" in upstream and "failing" in upstream
    _shot(page, "07-forward")
    for name in ("rejected", "held", "conflicts", "trust", "alerts", "audit"):
        page.click(f"nav >> a[href='/console/{name}']")
        assert page.locator("main h1").count() == 1 and "500" not in page.title()
        _shot(page, f"07-{name}")
    assert "signing certificate" in page.goto(f"{node.url}/console/trust").text()
    audit = page.goto(f"{node.url}/console/audit").text()
    assert "console:li.na" in audit and "quarantine.replay" in audit
    assert "finding.review" in audit
    with node.store.read() as conn:
        actors = set(conn.execute(select(AuditEntry.actor)).scalars())
    assert "console:li.na" in actors
    rejected = page.goto(f"{node.url}/console/rejected").text()
    assert re.search(r"\w+\.\w+", rejected)  # rule codes of the generated defects


def test_an_observer_reads_and_a_county_sees_only_its_own(node: Node, browser: Any) -> None:
    page = browser.new_page()
    _sign_in(page, node.url, "zhao.obs")
    page.goto(f"{node.url}/console/quarantine")
    page.click("#quarantine tbody tr >> nth=0 >> a")
    assert page.locator("#replay").count() == 0  # no button for an observer ...
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    qid = page.url.rsplit("/", 1)[1]
    r = page.request.post(f"{node.url}/console/quarantine/{qid}/replay", form={"csrf": csrf})
    assert r.status == 403  # ... and no way around it
    _shot(page, "08-observer-quarantine")

    county = browser.new_page()
    _sign_in(county, node.url, "qingshan")
    text = county.inner_text("#sources")
    assert "county-qingshan" in text and "county-dongshan" not in text
    assert county.goto(f"{node.url}/console/sources/county-dongshan").status == 403
    assert county.goto(f"{node.url}/console/find?q={node.project}").ok
    assert county.locator("#tied tbody tr td.empty").count() == 1  # another county's project
    assert county.goto(f"{node.url}/console/audit").status == 403
    _shot(county, "09-county-sources")


def test_forms_need_the_session_csrf_token_and_sign_in_is_throttled(node: Node) -> None:
    with httpx.Client(base_url=node.url, timeout=30) as http:
        for i in range(3):
            bad = http.post("/console/sign-in", data={"name": "li.na", "password": f"guess {i}"})
            assert bad.status_code == 401
        locked = http.post("/console/sign-in", data={"name": "li.na", "password": PASSWORD})
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    with httpx.Client(base_url=node.url, timeout=30) as http:  # another user, same address
        other = http.post("/console/sign-in", data={"name": "zhao.obs", "password": PASSWORD})
        assert other.status_code == 429  # the address is locked too
    with node.store.write() as conn:
        from hub.store.models import LoginFailure

        conn.execute(LoginFailure.__table__.delete())
    with httpx.Client(base_url=node.url, timeout=30, follow_redirects=False) as http:
        ok = http.post("/console/sign-in", data={"name": "li.na", "password": PASSWORD})
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
        sid = re.search(r"hub_session=([^;]+)", cookie)
        assert sid
        jar = {"Cookie": f"hub_session={sid.group(1)}"}  # Secure: sent by hand over http
        page = http.get("/console/quarantine", headers=jar)
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        qid = re.search(r'href="/console/quarantine/(\d+)"', page.text)
        assert qid
        forged = http.post(f"/console/quarantine/{qid.group(1)}/discard", headers=jar,
                           data={"reason": "forged"})  # fmt: skip
        assert forged.status_code == 403 and "CSRF" in forged.text
        evil = http.get("/console/sign-in", params={"next": "https://evil.example/"})
        assert 'value="/console/"' in evil.text  # no open redirect
        out = http.post("/console/sign-out", headers=jar, data={"csrf": _csrf(page.text)})
        assert out.status_code == 303
        assert http.get("/console/", headers=jar).status_code == 303  # the session is gone


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m
    return m.group(1)
