"""Fujian's V4 exchange, inbound: the <DES> message as an input format (contract tests on the
Fujian hub's own sample messages), its DES token, and the hub's UploadData_G_V4 SOAP endpoint
called by a real SOAP client (zeep, from the endpoint's WSDL) over SOAP 1.1 and 1.2."""

from __future__ import annotations

import hashlib
import io
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import zeep
from fastapi import FastAPI, Request, Response
from lxml import etree
from sqlalchemy import select

from hub.config import NodeConfig, StoreSection, load_config
from hub.dictionary.loader import load_dictionary
from hub.errors import ConfigError
from hub.forward import forward
from hub.forward import target as target_state
from hub.ingest.pipeline import default_validator, ingest_stream
from hub.interop.fujian import token
from hub.query.records import show
from hub.sections import ForwardSection, FujianSection, FujianSystem
from hub.service.app import create_app
from hub.store.engine import Store, open_store
from hub.store.models import CurrentRecord, ForwardItem, RecordVersion, table
from tests.conftest import BACKENDS
from tests.httpserver import serve
from tests.packkit import make_pki, receiving_node

SAMPLES = Path(__file__).parent / "interop" / "fujian"
SECRET = "518BrH3y"  # the Fujian hub's test client's key (BaseTest.cs); this test's system too
SYSTEM = "9120"
KEY = "9120500201903050000050"
CUR, VER, ITEM = table(CurrentRecord), table(RecordVersion), table(ForwardItem)


def _sample(n: int, *, valid: bool = False) -> str:
    text = (SAMPLES / f"{n}.xml").read_text("utf-8")
    # the samples' invented PUB_SERVICE_PLAT_CODE fails GB 32100; a valid copy fixes that alone
    return text.replace("M35000007031234567", "M3500000703123456T") if valid else text


def _delete(key: str) -> str:
    return (
        "<DES><TITLE><DATA_CN>项目</DATA_CN><DATA_EN>PROJECT</DATA_EN>"
        f"<DATA_KEY>{key}</DATA_KEY><DATA_NO>500</DATA_NO><DATA_TYPE>3</DATA_TYPE></TITLE></DES>"
    )


def _check(text: str) -> list[tuple[str, str]]:
    results = list(default_validator().iter_bytes(text.encode(), "m.xml", "xml"))
    assert len(results) == 1
    return [(i.rule, i.field) for i in results[0].issues]


def test_the_samples_decode_with_their_operation_key_and_attachments() -> None:
    v = default_validator()
    [r1] = v.iter_bytes(_sample(1).encode(), "1.xml", "xml")
    assert (r1.raw.dataset, r1.raw.op, r1.raw.key) == ("PROJECT", "add", KEY)
    assert r1.raw.fields["PROJECT_CODE"] == "M3500001234567890" and len(r1.raw.fields) == 23
    # the sample's invented platform code is refused by its check character, nothing else
    assert [(i.rule, i.field) for i in r1.issues] == [("check.uscc", "PUB_SERVICE_PLAT_CODE")]
    assert _check(_sample(1, valid=True)) == []
    [r4] = v.iter_bytes(_sample(4, valid=True).encode(), "4.xml", "xml")
    assert r4.issues == [] and r4.raw.extra is not None
    assert [a["FILE_NAME"] for a in r4.raw.extra["attachments"]] == [
        "公共资源交易入场登记表",
        "招标代理机构承诺书",
    ]
    assert r4.raw.extra["attachments"][1]["BINARY_CONTENT"] == "目录1/招标代理机构承诺书.docx"
    # Fujian's own test expects 5 to be refused for its over-long FUND_SOURCE: so does the hub
    assert _check(_sample(5, valid=True)) == [("length", "FUND_SOURCE")]
    # a delete names its record by DATA_KEY alone: valid here, placed by reconcile
    assert _check(_delete(KEY)) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("<DATA_NO>500</DATA_NO>", "<DATA_NO>501</DATA_NO>"), "must name the same data set"),
        (("<DATA_TYPE>1</DATA_TYPE>", "<DATA_TYPE>4</DATA_TYPE>"), "DATA_TYPE is '4'"),
        (("<DATA_EN>PROJECT</DATA_EN>", "<DATA_EN></DATA_EN>"), None),  # DATA_NO 500 names it
        (("<TITLE>", "<TITLEX>"), "no TITLE"),
    ],
)
def test_a_title_that_does_not_fit_is_refused_with_a_reason(
    change: tuple[str, str], words: str | None
) -> None:
    text = _sample(1, valid=True).replace(*change)
    if change[0] == "<TITLE>":
        text = text.replace("</TITLE>", "</TITLEX>")
    [r] = default_validator().iter_bytes(text.encode(), "m.xml", "xml")
    if words is None:
        assert r.issues == [] and r.raw.dataset == "PROJECT"
        return
    assert [i.rule for i in r.issues] == ["record.malformed"]
    assert words in r.issues[0].message and "m.xml" in r.issues[0].message


def test_the_token_is_fujians_and_openssl_reads_it(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    tok = token.make(SYSTEM, SECRET, now)
    assert token.check(tok, SYSTEM, SECRET, now + timedelta(hours=11), 12).system_no == SYSTEM
    # an independent DES: OpenSSL's legacy provider decrypts it to SYSTEM_NO + time + MD5
    hexkey = SECRET.encode().hex()
    (tmp_path / "t.b64").write_text(tok + "\n")
    r = subprocess.run(
        ["openssl", "enc", "-d", "-des-cbc", "-a", "-provider", "legacy", "-provider",
         "default", "-K", hexkey, "-iv", hexkey, "-in", str(tmp_path / "t.b64")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode()
    assert text.startswith(SYSTEM) and len(text) == 4 + 14 + 32
    assert text[18:] == hashlib.md5(SYSTEM.encode()).hexdigest().upper()
    for bad, words in [
        ((tok, SYSTEM, SECRET, now + timedelta(hours=13)), "TOKEN过期"),
        ((tok, SYSTEM, "12345678", now), "TOKEN无效"),
        ((token.make("9121", SECRET, now), SYSTEM, SECRET, now), "another SYSTEM_NO"),
        (("not base64!", SYSTEM, SECRET, now), "TOKEN无效"),
    ]:
        with pytest.raises(token.TokenError, match=words):
            token.check(*bad, 12)  # type: ignore[arg-type]


@pytest.fixture
def endpoint(
    node_config: NodeConfig, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    monkeypatch.setenv("FJ_9120_SECRET", SECRET)
    node_config = receiving_node(node_config, make_pki(tmp_path))  # a node signs its receipts
    fj = FujianSection(
        enabled=True, systems={SYSTEM: FujianSystem(secret="$env:FJ_9120_SECRET", source="fj-9120")}
    )
    cfg = node_config.model_copy(update={"fujian": fj})
    with serve(create_app(cfg, store)) as url:
        yield f"{url}/fujian/DataService.asmx"


def _current(store: Store, key: str) -> tuple[bool, int] | None:
    with store.read() as conn:
        row = conn.execute(
            select(CUR.c.deleted, CUR.c.versions).where(
                CUR.c.dataset == "PROJECT", CUR.c.business_key == key
            )
        ).first()
    return None if row is None else (bool(row.deleted), int(row.versions))


@BACKENDS
def test_a_county_system_set_up_for_fujian_calls_the_hub_unchanged(
    endpoint: str, store: Store, database_url: str
) -> None:
    client = zeep.Client(f"{endpoint}?wsdl")  # the description the hub serves
    now = datetime.now(UTC)

    def call(data: str, *, when: datetime = now, system: str = SYSTEM) -> dict[str, str]:
        answer = client.service.UploadData_G_V4(token.validation(system, SECRET, when), data)
        return dict(orjson.loads(answer))

    assert call(_sample(1, valid=True)) == {"STATUS": "1"}
    assert _current(store, "M3500001234567890") == (False, 1)
    with store.read() as conn:
        v = conn.execute(select(VER.c.op, VER.c.sender_key, VER.c.source)).one()
    assert (v.op, v.sender_key, v.source) == ("add", KEY, "fj-9120")
    # the same message again: the hub has it (Fujian answers a repeated add with an error;
    # the hub keeps re-sends idempotent)
    assert call(_sample(1, valid=True)) == {"STATUS": "1"}
    # its delete: a TITLE and the DATA_KEY, no CONTEXT
    assert call(_delete(KEY)) == {"STATUS": "1"}
    assert _current(store, "M3500001234567890") == (True, 2)
    # what the hub does not take, with the rule, field and value
    bad = call(_sample(1))
    assert bad["STATUS"] == "-1" and "check.uscc PUB_SERVICE_PLAT_CODE" in bad["MSG"]
    assert "M35000007031234567" in bad["MSG"]
    unknown = call(_delete("9120500201903059999999"))
    assert unknown["STATUS"] == "-1" and "delete.unknown" in unknown["MSG"]
    # refused callers: an old token, a system not configured here
    old = call(_sample(4, valid=True), when=now - timedelta(hours=13))
    assert old["STATUS"] == "-1" and "TOKEN过期" in old["MSG"]
    stranger = call(_sample(4, valid=True), system="9999")
    assert stranger["STATUS"] == "-1" and "SYSTEM_NO无效" in stranger["MSG"]
    assert _current(store, "M3500001234567891") is None  # neither refused call stored it
    # SOAP 1.2, the same operation on the description's other port
    soap12 = client.bind("DataService", "DataServiceSoap12")
    answer = soap12.UploadData_G_V4(token.validation(SYSTEM, SECRET, now), _sample(4, valid=True))
    assert orjson.loads(answer) == {"STATUS": "1"}
    assert _current(store, "M3500001234567891") == (False, 1)
    # its FILECONTEXT is kept with the version: what came, and where the files lie
    with store.read() as conn:
        rec = show(conn, load_dictionary(), "PROJECT", "M3500001234567891")
    listed = rec["current"]["attachments"]
    assert [(a["name"], a["removed"]) for a in listed] == [
        ("公共资源交易入场登记表", False),
        ("招标代理机构承诺书", False),
    ]
    assert listed[1]["location"] == "目录1/招标代理机构承诺书.docx" and listed[1]["code"]
    assert rec["history"][0]["attachments"] == listed
    with store.read() as conn:
        plain = show(conn, load_dictionary(), "PROJECT", "M3500001234567890")
    assert plain["history"][0]["attachments"] == []  # sample 1 lists none


def test_what_is_not_a_call_gets_a_soap_fault(endpoint: str) -> None:
    r = httpx.post(endpoint, content=b"<notsoap/>", headers={"Content-Type": "text/xml"})
    assert r.status_code == 500 and b"faultstring" in r.content and b"not a SOAP" in r.content
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'
    r = httpx.post(endpoint, content=dtd, headers={"Content-Type": "text/xml"})
    assert r.status_code == 500 and b"DTD" in r.content
    assert httpx.get(endpoint).status_code == 200


def test_a_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "node.toml"
    conf.write_text(
        '[fujian]\nenabled = true\n[fujian.systems.9120]\nsecret = "518BrH3y"\nsource = "x"\n'
    )
    with pytest.raises(ConfigError, match=r"reference \(\$env:NAME"):
        load_config(conf)


CITY_SYSTEM, CITY_SECRET = "9130", "c1tyK3y!"


def _fujian_target(url: str) -> ForwardSection:
    """The city's target: a Fujian-style service that knows it as SYSTEM_NO 9130."""
    options = {"url": url, "system_no": CITY_SYSTEM, "secret": "$env:FJ_CITY_SECRET"}
    return ForwardSection(
        receiver="12350000MB0100001C", adapter="fujian", options=options | {"backoff_seconds": 0}
    )


def _node(base: NodeConfig, tmp: Path, name: str, **update: object) -> NodeConfig:
    cfg = base.model_copy(
        update={"store": StoreSection(data_dir=tmp / name), **update}  # each its own SQLite
    )
    return receiving_node(cfg, make_pki(tmp / f"{name}-pki"))


def _content(store: Store) -> dict[str, tuple[str, bool]]:
    with store.read() as conn:
        rows = conn.execute(
            select(CUR.c.business_key, VER.c.content, CUR.c.deleted)
            .join(VER, VER.c.id == CUR.c.version_id)
            .where(CUR.c.dataset == "PROJECT")
        )
        return {r.business_key: (r.content, bool(r.deleted)) for r in rows}


def test_a_fujian_message_goes_through_the_city_to_a_fujian_style_province(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """County (a Fujian client) → the city's UploadData_G_V4 → the city's store → the city's
    fujian target → the province's UploadData_G_V4 → the province's store, field for field;
    then the county's delete by DATA_KEY travels the same way."""
    monkeypatch.setenv("FJ_COUNTY_SECRET", SECRET)
    monkeypatch.setenv("FJ_CITY_SECRET", CITY_SECRET)  # the city's copy of its key ...
    monkeypatch.setenv("FJ_PROVINCE_KNOWS_9130", CITY_SECRET)  # ... and the province's
    for d in ("city-pki", "province-pki"):
        (tmp_path / d).mkdir()
    base = NodeConfig()
    prov_cfg = _node(
        base,
        tmp_path,
        "province",
        fujian=FujianSection(
            enabled=True,
            systems={
                CITY_SYSTEM: FujianSystem(secret="$env:FJ_PROVINCE_KNOWS_9130", source="city")
            },
        ),
    )
    prov = open_store(prov_cfg)
    try:
        with serve(create_app(prov_cfg, prov)) as prov_url:
            target = _fujian_target(f"{prov_url}/fujian/DataService.asmx")
            county = FujianSystem(secret="$env:FJ_COUNTY_SECRET", source="county-9120")
            city_cfg = _node(
                base,
                tmp_path,
                "city",
                fujian=FujianSection(enabled=True, systems={SYSTEM: county}),
                forward={"province": target},
            )
            city = open_store(city_cfg)
            try:
                with serve(create_app(city_cfg, city)) as city_url:
                    client = zeep.Client(f"{city_url}/fujian/DataService.asmx?wsdl")
                    now = datetime.now(UTC)

                    def county_sends(data: str) -> dict[str, str]:
                        v = token.validation(SYSTEM, SECRET, now)
                        return dict(orjson.loads(client.service.UploadData_G_V4(v, data)))

                    assert county_sends(_sample(1, valid=True)) == {"STATUS": "1"}
                    assert county_sends(_sample(4, valid=True)) == {"STATUS": "1"}
                    sent = forward(city_cfg, city, "province")
                    assert sent.status == "done" and sent.ops == {"add": 2}, sent.error
                    assert [p.verdicts for p in sent.packages] == [{"accepted": 2}]
                    # the province holds what the city holds, field for field
                    assert _content(prov) == _content(city) and len(_content(prov)) == 2
                    with prov.read() as conn:
                        keys = conn.execute(select(VER.c.sender_key, VER.c.source)).all()
                    assert {(len(k), k[:7], s) for k, s in keys} == {(22, "9130500", "city")}
                    # the county deletes by its DATA_KEY; the delete goes up the same way
                    assert county_sends(_delete(KEY)) == {"STATUS": "1"}
                    again = forward(city_cfg, city, "province")
                    assert again.ops == {"delete": 1} and again.status == "done", again.error
                    assert _content(prov)["M3500001234567890"][1] is True
                    assert _content(prov)["M3500001234567891"][1] is False
                    with city.read() as conn:
                        outcomes = conn.execute(select(ITEM.c.op, ITEM.c.outcome)).all()
                    assert sorted(outcomes) == [("add", "accepted"), ("delete", "accepted")]
                    # a city whose key the province does not know: the push fails, dead
                    monkeypatch.setenv("FJ_CITY_SECRET", "wr0ngKey")
                    later = _sample(4, valid=True).replace("20190327012400", "20190401090000")
                    assert county_sends(later) == {"STATUS": "1"}
                    refused = forward(city_cfg, city, "province")
                    assert refused.status == "stopped" and refused.packages[0].status == "dead"
                    assert "refused this node as SYSTEM_NO 9130" in (refused.error or "")
            finally:
                city.dispose()
    finally:
        prov.dispose()


def _fake_fujian(seen: dict[str, str]) -> Any:
    """A Fujian-style province that is not the hub: it answers an add whose DATA_KEY it has
    with 已存在 (as Fujian's DataKeyValidator does) and refuses a PROJECT_NAME with 拒绝."""
    app = FastAPI()

    @app.post("/DataService.asmx")
    async def call(request: Request) -> Response:
        env = etree.fromstring(await request.body())
        ns = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "t": "http://tempuri.org/"}
        des = etree.fromstring(env.findtext("s:Body/t:UploadData_G_V4/t:data", namespaces=ns))
        key, kind = des.findtext("TITLE/DATA_KEY"), des.findtext("TITLE/DATA_TYPE")
        if kind == "1" and key in seen:
            answer = {"STATUS": "-1", "MSG": f"DATA_KEY为{key}已存在"}
        elif "拒绝" in (des.findtext("CONTEXT/PROJECT_NAME") or ""):
            answer = {"STATUS": "-1", "MSG": "[PROJECT_NAME]不合法"}
        else:
            seen[str(key)] = kind or ""
            answer = {"STATUS": "1"}
        body = (
            '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
            '"http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><UploadData_G_V4Response '
            'xmlns="http://tempuri.org/"><UploadData_G_V4Result>'
            + orjson.dumps(answer).decode()
            + "</UploadData_G_V4Result></UploadData_G_V4Response></soap:Body></soap:Envelope>"
        )
        return Response(body, media_type="text/xml; charset=utf-8")

    return app


def test_a_fujian_target_keeps_each_records_answer_and_lands_a_resend_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FJ_CITY_SECRET", CITY_SECRET)
    (tmp_path / "city-pki").mkdir()
    seen: dict[str, str] = {}
    with serve(_fake_fujian(seen)) as url:
        target = _fujian_target(f"{url}/DataService.asmx")
        cfg = _node(NodeConfig(), tmp_path, "city", forward={"province": target})
        city = open_store(cfg)
        try:
            refused = _sample(4, valid=True).replace("测试项目测试项目测试项目", "拒绝项目")
            for n, text in enumerate((_sample(1, valid=True), refused)):
                ingest_stream(city, io.BytesIO(text.encode()), "county", f"{n}.xml", fmt="xml")
            sent = forward(cfg, city, "province")
            assert [p.verdicts for p in sent.packages] == [{"accepted": 1, "rejected": 1}]
            with city.read() as conn:
                items = {
                    r.business_key: (r.outcome, r.rule, r.message)
                    for r in conn.execute(
                        select(ITEM.c.business_key, ITEM.c.outcome, ITEM.c.rule, ITEM.c.message)
                    )
                }
            assert items["M3500001234567890"] == ("accepted", None, None)
            assert items["M3500001234567891"] == ("rejected", "peer", "[PROJECT_NAME]不合法")
            # everything again (hub forward reset): the accepted add is 已存在 there, and goes
            # again as a modify; the province holds it once
            target_state.forget(city, "province", "test")
            again = forward(cfg, city, "province")
            assert [p.verdicts for p in again.packages] == [{"accepted": 1, "rejected": 1}]
            assert list(seen.values()) == ["2"]  # first the add, then the modify it became
        finally:
            city.dispose()
