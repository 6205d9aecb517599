"""Shanxi's public-service platform (PSPDE) exchange, both ways: its GCJS_* documents as an
input (under the Shanxi overlay), the hub's receiveInfo endpoint called by a real SOAP client
(zeep, from the endpoint's WSDL), and the shanxi target forwarding to a Shanxi-style province:
another hub's endpoint (field for field) and a fake platform that refuses a record."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from fastapi import FastAPI, Request, Response
from lxml import etree
from sqlalchemy import select

from hub.config import NodeConfig, StoreSection, load_config
from hub.dictionary.loader import load_dictionary, use_overlays
from hub.errors import ConfigError
from hub.forward import forward
from hub.ingest.pipeline import default_validator, ingest_stream
from hub.interop.shanxi import message
from hub.sections import ForwardSection, ShanxiSection, ShanxiUser
from hub.service.app import create_app
from hub.store.engine import Store, open_store
from hub.store.models import CurrentRecord, ForwardItem, RecordVersion, table
from tests.conftest import BACKENDS
from tests.httpserver import serve
from tests.packkit import make_pki, receiving_node

SAMPLES = Path(__file__).parent / "interop" / "shanxi"
USER, KEY = "1400000002", "t3st-KEY-only"  # this test's account; not Shanxi's
CUR, VER, ITEM = table(CurrentRecord), table(RecordVersion), table(ForwardItem)
PROJECT, TENDER = "E1401052411200001", "E1401052411200001001"
ENDPOINT = "/pspde/services/pspdews"


@pytest.fixture(autouse=True)
def shanxi_overlay() -> Iterator[None]:
    use_overlays(("shanxi",))
    yield
    use_overlays(())


def _doc(name: str) -> str:
    return (SAMPLES / f"{name}.xml").read_text("utf-8")


def _issues(text: str) -> list[tuple[str, str, str]]:
    [r] = default_validator().iter_bytes(text.encode(), "m.xml", "xml")
    return [(i.rule, i.field, i.severity) for i in r.issues]


def test_the_documents_read_as_national_records_keeping_shanxis_fields() -> None:
    [r] = default_validator().iter_bytes(_doc("GCJS_TENDER_PROJECT").encode(), "t.xml", "xml")
    assert (r.raw.dataset, r.raw.op, r.raw.key) == ("TENDER_PROJECT", "add", None)
    assert r.raw.fields["SUPERVISE_DEPT_TYPE"] == "1" and len(r.raw.fields) == 30
    # what Shanxi has no element for is said, per field, and not filled in
    assert _issues(_doc("GCJS_TENDER_PROJECT")) == [
        ("shanxi.absent", f, "warning") for f in ("IS_TO_LAW", "ISUNION", "PUB_SERVICE_PLAT")
    ]
    assert "IS_TO_LAW" not in r.raw.fields
    assert {i[0] for i in _issues(_doc("GCJS_PROJECT"))} == {"shanxi.absent"}
    # an error stays an error: a broken check character in a Shanxi document
    broken = _doc("GCJS_TENDER_PROJECT").replace("91140100MA0H5T2K0G", "91140100MA0H5T2K0H")
    assert ("check.uscc", "TENDER_AGENCY_CODE", "error") in _issues(broken)


def test_without_the_overlay_shanxis_own_fields_are_unknown() -> None:
    use_overlays(())
    found = _issues(_doc("GCJS_TENDER_PROJECT"))
    assert {f for r, f, _ in found if r == "unknown-field"} == {
        "TENDER_PROJECT_INDUSTRIES_TYPE",
        "TENDER_CODE_TYPE",
        "N_TENDER_AGENCY_CODE_TYPE",
        "N_PUB_SERVICE_PLAT_CODE",
        "SUPERVISE_DEPT_TYPE",
    }


def test_each_documents_absent_list_is_what_the_nation_requires_and_shanxi_lacks() -> None:
    """The decisions of documents.toml stay decisions: a dictionary change that makes another
    field mandatory fails here until someone decides what Shanxi's records do about it."""
    national = load_dictionary(overlays=()).datasets
    raw = tomllib.loads((files("hub.interop.shanxi") / "documents.toml").read_text("utf-8"))
    assert len(raw) == 18
    for root, doc in message.documents().items():
        ds = national[doc.dataset]
        have = set(doc.fields) | set(doc.derive)
        have |= {f.id for f in ds.fields for a in f.aliases if a in doc.fields}
        lacking = {f.id for f in ds.fields if f.required == "Y" and f.id not in have}
        assert lacking == doc.absent, root
        assert set(raw[root].get("absent", ())) == doc.absent


def test_a_tender_project_code_is_taken_from_the_section_code() -> None:
    doc = (
        "<GCJS_CONTRACT_PERFORMANCE><PROJECT_CODE>E1401052411200001</PROJECT_CODE>"
        "<BID_SECTION_CODE>E1401052411200001001002</BID_SECTION_CODE>"
        "</GCJS_CONTRACT_PERFORMANCE>"
    )
    [r] = default_validator().iter_bytes(doc.encode(), "c.xml", "xml")
    assert r.raw.fields["TENDER_PROJECT_CODE"] == TENDER
    [derived] = [i for i in r.issues if i.rule == "shanxi.derived"]
    assert derived.field == "TENDER_PROJECT_CODE" and derived.severity == "warning"
    assert "BID_SECTION_CODE" in derived.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '<receiveInfo DATASETCODE="GCJS_SECTION">' + "<GCJS_PROJECT/></receiveInfo>",
            "DATASETCODE is 'GCJS_SECTION' but XMLCONTENT's root is <GCJS_PROJECT>",
        ),
        ("<WEB_UNICODE_RECORD><PROJECT_CODE>x</PROJECT_CODE></WEB_UNICODE_RECORD>", "unified"),
        ("<GCJS_ATTACHMENTS><URL>x</URL></GCJS_ATTACHMENTS>", "pspdefilews"),
        ("<GCJS_SECTION><BID_SECTION_CODE><a/></BID_SECTION_CODE></GCJS_SECTION>", "contains"),
    ],
)
def test_what_is_not_a_record_is_refused_with_a_reason(text: str, words: str) -> None:
    [r] = default_validator().iter_bytes(text.encode(), "m.xml", "xml")
    assert [i.rule for i in r.issues] == ["record.malformed"]
    assert words in r.issues[0].message


def _shanxi(source: str = "sx-county", user: str = USER, env: str = "SX_KEY") -> ShanxiSection:
    return ShanxiSection(enabled=True, users={user: ShanxiUser(key=f"$env:{env}", source=source)})


@pytest.fixture
def endpoint(
    node_config: NodeConfig, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    monkeypatch.setenv("SX_KEY", KEY)
    cfg = receiving_node(node_config, make_pki(tmp_path)).model_copy(update={"shanxi": _shanxi()})
    with serve(create_app(cfg, store)) as url:
        yield f"{url}{ENDPOINT}"


def _call(client: Any, document: str, *, platid: str, key: str = KEY, user: str = USER) -> Any:
    root = document.split("<GCJS_", 1)[1].split(">", 1)[0]
    return client.service.receiveInfo(
        arg0=user,
        arg1=key,
        arg2=f"{USER}20241120000001",
        arg3=f"GCJS_{root}",
        arg4=document,
        arg5="2024-11-20 10:20:00",
        arg6="20241120102000",
        arg7=platid,
        arg8="91140100MA0GTCLY49",
    )


def _current(store: Store, dataset: str, key: str) -> tuple[bool, int] | None:
    with store.read() as conn:
        row = conn.execute(
            select(CUR.c.deleted, CUR.c.versions).where(
                CUR.c.dataset == dataset, CUR.c.business_key == key
            )
        ).first()
    return None if row is None else (bool(row.deleted), int(row.versions))


@BACKENDS
def test_a_trading_system_set_up_for_shanxi_calls_the_hub_unchanged(
    endpoint: str, store: Store, node_config: NodeConfig, database_url: str
) -> None:
    client = zeep.Client(f"{endpoint}?wsdl")  # the description the hub serves
    ok = _call(client, _doc("GCJS_PROJECT"), platid="XM-2024-0117")
    assert (ok.success, ok.errorCode, ok.errorMessage) == (True, None, None)
    assert len(ok.receiveTime) == 19 and ok.receiveTime[4] == "-"
    tender = _call(client, _doc("GCJS_TENDER_PROJECT"), platid="ZBXM-2024-0117-01")
    assert tender.success is True
    assert _current(store, "TENDER_PROJECT", TENDER) == (False, 1)
    with store.read() as conn:
        v = conn.execute(
            select(VER.c.op, VER.c.sender_key, VER.c.source, VER.c.content).where(
                VER.c.dataset == "TENDER_PROJECT"
            )
        ).one()
    assert (v.op, v.sender_key, v.source) == ("add", "ZBXM-2024-0117-01", "sx-county")
    assert '"SUPERVISE_DEPT_TYPE":"1"' in v.content  # Shanxi's own field is kept
    # the same call again: the hub has it; a later version of it replaces it
    assert _call(client, _doc("GCJS_TENDER_PROJECT"), platid="ZBXM-2024-0117-01").success
    later = (
        _doc("GCJS_TENDER_PROJECT")
        .replace("20241120101530", "20241121083000")
        .replace("<TENDER_MODE>1<", "<TENDER_MODE>2<")
    )
    assert _call(client, later, platid="ZBXM-2024-0117-01").success
    assert _current(store, "TENDER_PROJECT", TENDER) == (False, 2)
    # what the hub does not take, with the rule, field and value
    bad = _call(
        client,
        _doc("GCJS_PROJECT").replace("12140000MB17012303", "12140000MB17012304"),
        platid="XM-2024-0118",
    )
    assert (bad.success, bad.errorCode) == (False, "check.uscc")
    assert "PUB_SERVICE_PLAT_CODE" in bad.errorMessage and "12140000MB17012304" in bad.errorMessage
    # refused callers, and a document that is not XML: nothing stored
    other = _doc("GCJS_PROJECT").replace(PROJECT, "E1401052411200002")
    wrong = _call(client, other, platid="XM-2", key="guess")
    assert (wrong.success, wrong.errorCode) == (False, "shanxi.key")
    stranger = _call(client, other, platid="XM-2", user="1499999999")
    assert (stranger.success, stranger.errorCode) == (False, "shanxi.user")
    broken = _call(client, "<GCJS_PROJECT><PROJECT_CODE>", platid="XM-3")
    assert (broken.success, broken.errorCode) == (False, "xml.syntax")
    assert _current(store, "PROJECT", "E1401052411200002") is None
    # the password is never kept: the raw store has the calls without it
    raw = [p.read_bytes() for p in node_config.raw_dir.rglob("*") if p.is_file()]
    assert raw and not any(KEY.encode() in b for b in raw)
    assert any(b'PLATID="ZBXM-2024-0117-01"' in b for b in raw)


def test_what_is_not_a_call_gets_a_soap_fault(endpoint: str) -> None:
    r = httpx.post(endpoint, content=b"<notsoap/>", headers={"Content-Type": "text/xml"})
    assert r.status_code == 500 and b"faultstring" in r.content and b"not a SOAP" in r.content
    assert httpx.get(endpoint).status_code == 200
    assert b"PspdeWSService" in httpx.get(f"{endpoint}?wsdl").content


def test_the_configuration_asks_for_the_overlay_and_a_key_reference(tmp_path: Path) -> None:
    conf = tmp_path / "node.toml"
    users = f'[shanxi.users.{USER}]\nsource = "x"\n'
    conf.write_text(f'[shanxi]\nenabled = true\n{users}key = "$env:SX_KEY"\n')
    with pytest.raises(ConfigError, match=r'overlays = \["shanxi"\]'):
        load_config(conf)
    conf.write_text(f'[shanxi]\nenabled = true\n{users}key = "plain-password"\n')
    with pytest.raises(ConfigError, match=r"reference \(\$env:NAME"):
        load_config(conf)
    conf.write_text('[dictionary]\noverlays = ["fujian", "shanxi"]\n')
    with pytest.raises(ConfigError, match="configure one overlay"):
        load_config(conf)
    load_config(None)


CITY_USER, CITY_KEY = "1400000009", "c1ty-key-TEST"


def _target(url: str) -> ForwardSection:
    options = {
        "url": url,
        "user_id": CITY_USER,
        "key": "$env:SX_CITY_KEY",
        "credit_code": "91140100MA0GTCLY49",
        "backoff_seconds": 0,
    }
    return ForwardSection(receiver="12140000MB17012303", adapter="shanxi", options=options)


def _node(tmp: Path, name: str, **update: object) -> NodeConfig:
    cfg = NodeConfig().model_copy(update={"store": StoreSection(data_dir=tmp / name), **update})
    (tmp / f"{name}-pki").mkdir()
    return receiving_node(cfg, make_pki(tmp / f"{name}-pki"))


def _content(store: Store) -> dict[tuple[str, str], tuple[str, bool]]:
    with store.read() as conn:
        rows = conn.execute(
            select(CUR.c.dataset, CUR.c.business_key, VER.c.content, CUR.c.deleted).join(
                VER, VER.c.id == CUR.c.version_id
            )
        )
        return {(r.dataset, r.business_key): (r.content, bool(r.deleted)) for r in rows}


def test_a_shanxi_record_goes_through_the_city_to_a_shanxi_style_province(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trading system → the city's receiveInfo → the city's store → the city's shanxi target
    → the province's receiveInfo → the province's store, field for field; a delete the city
    has from elsewhere is not sent (receiveInfo has none), and its verdict says so."""
    monkeypatch.setenv("SX_KEY", KEY)
    monkeypatch.setenv("SX_CITY_KEY", CITY_KEY)  # the city's copy of its password ...
    monkeypatch.setenv("SX_PROVINCE_KNOWS_CITY", CITY_KEY)  # ... and the province's
    prov_cfg = _node(
        tmp_path, "province", shanxi=_shanxi("city", CITY_USER, "SX_PROVINCE_KNOWS_CITY")
    )
    prov = open_store(prov_cfg)
    try:
        with serve(create_app(prov_cfg, prov)) as prov_url:
            city_cfg = _node(
                tmp_path,
                "city",
                shanxi=_shanxi(),
                forward={"province": _target(f"{prov_url}{ENDPOINT}")},
            )
            city = open_store(city_cfg)
            try:
                with serve(create_app(city_cfg, city)) as city_url:
                    client = zeep.Client(f"{city_url}{ENDPOINT}?wsdl")
                    assert _call(client, _doc("GCJS_PROJECT"), platid="XM-1").success
                    assert _call(client, _doc("GCJS_TENDER_PROJECT"), platid="ZB-1").success
                    sent = forward(city_cfg, city, "province")
                    assert sent.status == "done" and sent.ops == {"add": 2}, sent.error
                    assert [p.verdicts for p in sent.packages] == [{"accepted": 2}]
                    assert _content(prov) == _content(city) and len(_content(prov)) == 2
                    with prov.read() as conn:
                        keys = set(conn.execute(select(VER.c.sender_key, VER.c.source)).all())
                    assert keys == {(PROJECT, "city"), (TENDER, "city")}  # PLATID: the key
                    # the county withdraws the tender project by its PLATID in a file of
                    # envelopes: the city has the delete; Shanxi's interface cannot take it
                    delete = '{"dataset":"TENDER_PROJECT","op":"delete","key":"ZB-1","record":{}}\n'
                    ingest_stream(city, _bytes(delete), "sx-county", "d.jsonl", fmt="jsonl")
                    assert _content(city)[("TENDER_PROJECT", TENDER)][1] is True
                    again = forward(city_cfg, city, "province")
                    assert again.ops == {"delete": 1}
                    with city.read() as conn:
                        item = conn.execute(
                            select(ITEM.c.outcome, ITEM.c.message).where(ITEM.c.op == "delete")
                        ).one()
                    assert item.outcome == "rejected" and "has no delete" in item.message
                    assert _content(prov)[("TENDER_PROJECT", TENDER)][1] is False
                    # a city whose password the province does not know: the push fails
                    monkeypatch.setenv("SX_CITY_KEY", "wrong")
                    later = _doc("GCJS_PROJECT").replace("20241120093512", "20241123090000")
                    assert _call(client, later, platid="XM-1").success
                    refused = forward(city_cfg, city, "province")
                    assert refused.status == "stopped" and refused.packages[0].status == "dead"
                    assert "refused this node as USERID 1400000009" in (refused.error or "")
            finally:
                city.dispose()
    finally:
        prov.dispose()


def _bytes(text: str) -> Any:
    import io

    return io.BytesIO(text.encode())


def _fake_platform(seen: list[dict[str, str]]) -> FastAPI:
    """A Shanxi-style platform that is not the hub: it refuses a PROJECT_NAME with 拒绝 and
    takes anything else, answering as the JAX-WS service does."""
    app = FastAPI()

    @app.post("/pspde/services/pspdews")
    async def call(request: Request) -> Response:
        env = etree.fromstring(await request.body())
        op = env.find(".//{http://server.webservice.pspde.sxca.com/}receiveInfo")
        args = {c.tag: c.text or "" for c in op}
        seen.append(args)
        refused = "拒绝" in args["arg4"]
        result = (
            "<errorCode>-2</errorCode><errorMessage>PROJECT_NAME不合法</errorMessage>"
            if refused
            else "<errorCode>0</errorCode><errorMessage>成功</errorMessage>"
        )
        body = (
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<ns2:receiveInfoResponse xmlns:ns2="http://server.webservice.pspde.sxca.com/">'
            f"<return>{result}<receiveTime>2024-11-20 10:30:00</receiveTime>"
            f"<success>{'false' if refused else 'true'}</success></return>"
            "</ns2:receiveInfoResponse></soap:Body></soap:Envelope>"
        )
        return Response(body, media_type="text/xml; charset=utf-8")

    return app


def test_a_shanxi_target_sends_jaxbs_arguments_and_keeps_each_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SX_CITY_KEY", CITY_KEY)
    seen: list[dict[str, str]] = []
    with serve(_fake_platform(seen)) as url:
        cfg = _node(tmp_path, "city", forward={"province": _target(f"{url}{ENDPOINT}")})
        city = open_store(cfg)
        try:
            refused = _doc("GCJS_PROJECT").replace(
                "小店区第三中学教学楼改扩建项目</PROJECT_NAME>", "拒绝</PROJECT_NAME>"
            )
            refused = refused.replace(PROJECT, "E1401052411200002")
            for n, text in enumerate((_doc("GCJS_PROJECT"), refused)):
                ingest_stream(city, _bytes(text), "county", f"{n}.xml", fmt="xml")
            sent = forward(cfg, city, "province")
            assert [p.verdicts for p in sent.packages] == [{"accepted": 1, "rejected": 1}]
            with city.read() as conn:
                items = dict(conn.execute(select(ITEM.c.business_key, ITEM.c.message)).all())
            assert items[PROJECT] == "成功"  # the platform's word, kept with the verdict
            assert items["E1401052411200002"] == "-2: PROJECT_NAME不合法"
        finally:
            city.dispose()
    first = seen[0]
    assert (first["arg0"], first["arg1"], first["arg3"]) == (CITY_USER, CITY_KEY, "GCJS_PROJECT")
    assert first["arg2"].startswith(CITY_USER) and len(first["arg2"]) == 24
    assert first["arg7"] == PROJECT and first["arg8"] == "91140100MA0GTCLY49"
    doc = etree.fromstring(first["arg4"].encode())
    assert doc.tag == "GCJS_PROJECT" and doc.findtext("IS_ENTER") == "1"
    order = [c.tag for c in doc]
    assert order == [f for f in message.documents()["GCJS_PROJECT"].fields if f in order]
