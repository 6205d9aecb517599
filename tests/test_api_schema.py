"""Schemathesis against the administration API's own published OpenAPI (/v1/openapi.json):
for every operation, generated requests (valid and invalid by the schema), sent as an
administrator, never give a server error and always get a response that fits what the
schema says of it (status codes, content types, bodies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from hub.access import users
from hub.config import (
    NodeConfig,
    ScheduleSection,
    SigningSection,
    SourceSection,
    StoreSection,
    TrustSection,
)
from hub.ingest.pipeline import ingest_file
from hub.package import testpki
from hub.service.app import create_app
from hub.store.engine import open_store
from tests.packkit import NOW, RECEIVER, make_pki

TOKEN: dict[str, str] = {}


@pytest.fixture
def api(tmp_path: Path) -> Any:
    pki = make_pki(tmp_path)
    me = testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 9)
    (tmp_path / "me.key").write_bytes(me.key.pem())
    (tmp_path / "me.pem").write_bytes(me.cert.pem())
    (tmp_path / "inbox").mkdir()
    cfg = NodeConfig(
        store=StoreSection(url=f"sqlite:///{tmp_path / 'hub.db'}", data_dir=tmp_path / "data"),
        signing=SigningSection(key=tmp_path / "me.key", cert=tmp_path / "me.pem"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        sources={"county-a": SourceSection(options={"inbox": str(tmp_path / "inbox")})},
        schedules={"a-inbox": ScheduleSection(source="county-a", every="1h")},
    )
    store = open_store(cfg)
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"dataset": "NO_SUCH_SET", "record": {}}\n')
    ingest_file(store, odd, "county-a")
    users.add(store, "root", "administrator", None, None, "test")
    TOKEN["admin"] = users.new_token(store, "root", "schemathesis", "test")
    return schemathesis.openapi.from_asgi("/v1/openapi.json", create_app(cfg, store))


def test_the_api_keeps_to_its_published_schema(api: Any) -> None:
    ops = [r.ok() for r in api.get_all_operations()]
    seen: dict[str, set[int]] = {}
    assert len(ops) >= 15  # the whole administration API, health and packages
    for op in ops:

        @given(case=op.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def one(case: Any) -> None:
            got = case.call_and_validate(
                headers={"Authorization": f"Bearer {TOKEN['admin']}"},
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            )

            seen.setdefault(case.operation.label, set()).add(got.status_code)

        one()
    answered = {label for label, codes in seen.items() if codes & {200, 204}}
    assert len(answered) >= 10, seen  # most operations were really exercised, not only refused
    assert any(codes & {400, 401, 403, 404, 409, 422} for codes in seen.values())
