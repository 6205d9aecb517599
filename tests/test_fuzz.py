"""Fuzzing (issue 21) with Hypothesis: inputs made by mutating real ones (a generated JSONL
and XML batch, a signed package, a county's GBK CSV export, a Fujian SOAP call) and plain
random bytes, through the doors they come in by.  Whatever arrives ends in a coded refusal
(InputError and its kin) or in records that each have a fate (conservation); nothing else
is raised, and a package that verifies is the one that was signed.

Bounded in the normal run (FUZZ_EXAMPLES per target); longer on demand:

    HUB_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_fuzz.py \\
        -p no:cacheprovider --hypothesis-show-statistics

Every input that ever failed here is kept in tests/hostile/ with its expected outcome.
"""

from __future__ import annotations

import io
import os
from base64 import b64encode
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config import NodeConfig, StoreSection
from hub.errors import InputError
from hub.generate.batch import jsonl_bytes, write_batch
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.interop.fujian import soap, token
from hub.mapping import load_mapping
from hub.mapping.records import iter_mapped
from hub.store.engine import Store, open_store
from hub.validation.validator import Validator
from tests.packkit import Pki, make_pki, package, verify

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="HUB_FUZZ_EXAMPLES" not in os.environ,  # the normal run is repeatable
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# what a mutation inserts: the bytes parsers trip over, and any bytes
TOKENS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\x00", b"\xff",
          b"\xe4\xb8", b"\n", b"\r\n", b"NaN", b"1e999", b"-0", b"9" * 30, b"null", b"<",
          b">", b"&", b"&#0;", b"]]>", b"<!--", b"<![CDATA[", b"<!DOCTYPE x>",
          b"\xef\xbb\xbf"]  # fmt: skip


def _apply(base: bytes, ops: list[tuple[str, int, bytes, int]]) -> bytes:
    data = base
    for op, where, payload, n in ops:
        at = where % (len(data) + 1)
        if op == "flip" and data:
            at = where % len(data)
            data = data[:at] + bytes([data[at] ^ (n % 255 + 1)]) + data[at + 1 :]
        elif op == "insert":
            data = data[:at] + payload + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + n :]
        elif op == "repeat":
            data = data[:at] + data[at : at + n] * 3 + data[at:]
        elif op == "cut":
            data = data[:at]
    return data


def mutated(base: bytes) -> st.SearchStrategy[bytes]:
    op = st.tuples(
        st.sampled_from(["flip", "insert", "delete", "repeat", "cut"]),
        st.integers(0, max(len(base), 1)),
        st.sampled_from(TOKENS) | st.binary(max_size=12),
        st.integers(1, 200),
    )
    return st.lists(op, min_size=1, max_size=5).map(lambda ops: _apply(base, ops))


def inputs(base: bytes) -> st.SearchStrategy[bytes]:
    return mutated(base) | st.binary(max_size=400)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    d = tmp_path_factory.mktemp("fuzz")
    s = open_store(NodeConfig(store=StoreSection(url=f"sqlite:///{d / 'hub.db'}", data_dir=d)))
    yield s
    s.dispose()


def _batch(fmt: str) -> bytes:
    g = Generator(seed=5)
    recs = g.batch(1)[:12]
    if fmt == "jsonl":
        return jsonl_bytes(recs)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"hub-fuzz-{os.getpid()}.xml"
    write_batch(recs, path, "xml")
    try:
        return path.read_bytes()
    finally:
        path.unlink()


JSONL, XML = _batch("jsonl"), _batch("xml")


def _ingest(store: Store, data: bytes, fmt: str) -> None:
    try:
        got = ingest_stream(store, io.BytesIO(data), "fuzz", f"fuzz.{fmt}", fmt=fmt)
    except InputError as exc:  # the whole input refused: with its code and its name
        assert exc.code and "fuzz." in str(exc)
        return
    c = got.counts
    assert c.records_in == c.accepted + c.rejected + c.quarantined + c.held + c.duplicate


@FUZZ
@given(data=inputs(JSONL))
def test_jsonl_ends_in_fates_or_a_coded_refusal(store: Store, data: bytes) -> None:
    _ingest(store, data, "jsonl")


@FUZZ
@given(data=inputs(XML))
def test_xml_ends_in_fates_or_a_coded_refusal(store: Store, data: bytes) -> None:
    _ingest(store, data, "xml")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


GOOD: dict[str, bytes] = {}


@FUZZ
@given(data=st.data())
def test_a_package_verifies_only_as_it_was_signed(pki: Pki, data: st.DataObject) -> None:
    good = GOOD.setdefault("p", package(pki.good))
    bad = data.draw(mutated(good))
    try:
        verify(bad, pki)
    except InputError as exc:
        assert exc.code
        return
    assert bad == good  # accepted: then not changed at all


QINGSHAN = ROOT / "mappings" / "qingshan-csv.toml"
CSV = (ROOT / "mappings" / "samples" / "qingshan" / "XM_20240301.csv").read_bytes()


@FUZZ
@given(data=inputs(CSV))
def test_a_county_export_maps_to_records_or_a_coded_refusal(data: bytes) -> None:
    mapping, v = load_mapping(QINGSHAN), Validator()
    try:
        results = list(iter_mapped(mapping, v, io.BytesIO(data), "XM_20240301.csv"))
    except InputError as exc:
        assert exc.code
        return
    for r in results:  # each row: a record, or a problem that names what is wrong
        assert r.raw.dataset or r.raw.problem


DES = (ROOT / "tests" / "interop" / "fujian" / "1.xml").read_bytes()  # Fujian's own sample
VALIDATION = token.validation("350100001", "Mh7#kq2Z", datetime(2024, 3, 1))
CALL = (
    f'<soap:Envelope xmlns:soap="{soap.SOAP11}"><soap:Body><{soap.OPERATION} xmlns="{soap.TNS}">'
    f"<validation>{escape(VALIDATION)}</validation>"
    f"<data>{escape(DES.decode())}</data></{soap.OPERATION}></soap:Body></soap:Envelope>"
).encode()


@FUZZ
@given(data=inputs(DES))
def test_a_fujian_message_ends_in_fates_or_a_coded_refusal(store: Store, data: bytes) -> None:
    _ingest(store, data, "xml")


@FUZZ
@given(data=inputs(CALL))
def test_a_fujian_soap_call_parses_or_is_refused_with_a_reason(data: bytes) -> None:
    try:
        call = soap.parse_call(data)
    except soap.SoapError as exc:
        assert str(exc)
        return
    try:
        token.system_of(call.validation)
    except token.TokenError as exc:
        assert str(exc)


@FUZZ
@given(tok=st.text(max_size=80) | st.binary(max_size=60).map(lambda b: b64encode(b).decode()))
def test_a_forged_fujian_token_is_refused(tok: str) -> None:
    with pytest.raises(token.TokenError):
        token.check(tok, "350100001", "Mh7#kq2Z", datetime(2024, 3, 1, 12), 24)


def test_the_fuzzers_mutate_what_they_say() -> None:
    """The mutation helpers do change inputs (a fuzzer that never mutates proves nothing)."""
    assert _apply(b"abcdef", [("flip", 0, b"", 1)]) != b"abcdef"
    assert _apply(b"abcdef", [("insert", 3, b"XY", 1)]) == b"abcXYdef"
    assert _apply(b"abcdef", [("delete", 1, b"", 2)]) == b"adef"
    assert _apply(b"abcdef", [("cut", 2, b"", 1)]) == b"ab"
