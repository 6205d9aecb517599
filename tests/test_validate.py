"""Validation of generated batches, planted defects, and hostile input."""

from __future__ import annotations

import collections
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hub.errors import InputError
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.validation import guards
from hub.validation.files import validate_file
from hub.validation.validator import Validator


@pytest.mark.parametrize("fmt", ["xml", "jsonl", "json"])
def test_generated_batch_has_zero_issues(
    validator: Validator, generated: dict[str, Path], fmt: str
) -> None:
    report = validate_file(validator, generated[fmt])
    assert report.issues == []
    assert report.records == report.valid >= 400


def test_generated_batch_covers_every_data_set(
    dictionary: object, generated: dict[str, Path]
) -> None:
    names = {json.loads(x)["dataset"] for x in generated["jsonl"].read_text().splitlines()}
    assert names == set(dictionary.datasets)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("fmt", "seed"), [("xml", 3), ("jsonl", 4), ("json", 5)])
def test_every_planted_defect_is_reported_under_its_rule(
    validator: Validator, tmp_path: Path, fmt: str, seed: int
) -> None:
    gen = Generator(seed=seed)
    records = gen.batch(10)
    planted = gen.inject_defects(records, 0.25)
    path = tmp_path / f"d.{fmt}"
    write_batch(records, path, fmt)
    report = validate_file(validator, path)
    got = {(i.record, i.field, i.rule) for i in report.issues}
    by_rule = collections.Counter(p.rule for p in planted)
    found = collections.Counter(p.rule for p in planted if (p.record, p.field, p.rule) in got)
    assert len(by_rule) >= 8
    assert found == by_rule
    planted_keys = {(p.record, p.field, p.rule) for p in planted}
    extra = [i.message for i in report.issues if (i.record, i.field, i.rule) not in planted_keys]
    assert extra == []


def test_issue_names_file_record_field_rule_value(validator: Validator, tmp_path: Path) -> None:
    gen = Generator(seed=1)
    records = gen.batch(1)
    records[0]["record"]["PLATFORM_CODE"] = "91350100M000100Y44"
    path = tmp_path / "one.jsonl"
    write_batch(records, path, "jsonl")
    [issue] = validate_file(validator, path).issues
    assert (issue.record, issue.dataset, issue.field, issue.rule, issue.value) == (
        1,
        "PROJECT",
        "PLATFORM_CODE",
        "check.uscc",
        "91350100M000100Y44",
    )
    assert str(path) in issue.message
    assert "GB 32100 gives '3'" in issue.message


def test_aliases_are_accepted(validator: Validator, tmp_path: Path) -> None:
    gen = Generator(seed=2)
    records = [r for r in gen.batch(1) if r["dataset"] == "SECTION"]
    rec = records[0]["record"]
    rec["BID_SECTION_NUM"] = rec.pop("BID_ECTION_NUM")
    for fmt in ("xml", "jsonl"):
        path = tmp_path / f"a.{fmt}"
        write_batch(records, path, fmt)
        assert validate_file(validator, path).issues == []


def _quick_equals_full(validator: Validator, path: Path) -> list[Any]:
    """The JSONL report of ``validate_file`` (a clean block's records checked on the parsed
    objects) next to ``iter_file`` (one RawRecord per line): same counts, same issues."""
    quick = validate_file(validator, path)
    full = list(validator.iter_file(path))
    assert quick.records == len(full)
    assert quick.valid == sum(r.ok for r in full)
    assert quick.issues == [i for r in full for i in r.issues]
    return quick.issues


def test_the_quick_jsonl_tally_reports_what_the_record_path_does(
    validator: Validator, tmp_path: Path
) -> None:
    gen = Generator(seed=31)
    records = gen.batch(3)
    gen.inject_defects(records, 0.1)
    path = tmp_path / "d.jsonl"
    write_batch(records, path, "jsonl")
    assert len(_quick_equals_full(validator, path)) > 10

    good = next(r for r in gen.batch(1) if r["dataset"] == "SECTION")
    aliased = json.loads(json.dumps(good))
    aliased["record"]["BID_SECTION_NUM"] = aliased["record"].pop("BID_ECTION_NUM")
    fields = validator.dictionary.datasets["SECTION"].fields
    optional = next(f.id for f in fields if f.required == "N" and f.id in good["record"])
    # a duplicate key, both values valid, on a line whose URL has a ':' of its own
    dup = json.dumps(good).encode()[:-2] + b',"BID_SECTION_CONTENT":"see https://ggzy.example/a"}}'
    odd: list[tuple[bytes, str | None]] = [  # (line, the rule it must get, None: valid)
        (dup, "record.malformed"),
        (b'{"dataset" : "SECTION", "record" : {"A" : "http://x", "A" : "b"}}', "record.malformed"),
        (
            json.dumps({"dataset": "SECTION", "record": good["record"], "x": 1}).encode(),
            "record.malformed",
        ),  # an envelope key besides dataset, op, key, record
        (json.dumps({**good, "op": "upsert"}).encode(), "record.op"),
        (json.dumps(aliased).encode(), None),
        (json.dumps({**good, "dataset": "NO_SUCH_SET"}).encode(), "dataset.unknown"),
        (b'{"dataset": {}, "record": {}}', "record.malformed"),
        (json.dumps({**good, "record": {**good["record"], optional: None}}).encode(), None),
        (json.dumps({**good, "record": {**good["record"], optional: 5}}).encode(), "format.type"),
    ]
    # each odd line inside a block (decode.BLOCK_LINES) of good ones, so that the block as
    # a whole decides which path the line takes
    pad = [json.dumps(good).encode()] * 10
    for line, rule in odd:
        path.write_bytes(b"\n".join([*pad, line, *pad]) + b"\n")
        issues = _quick_equals_full(validator, path)
        assert [i.rule for i in issues] == ([rule] if rule else []), line
        assert all(i.record == len(pad) + 1 for i in issues)


def test_citizen_id_checked_only_for_resident_id_type(validator: Validator, tmp_path: Path) -> None:
    gen = Generator(seed=3)
    records = [r for r in gen.batch(2) if r["dataset"] == "QUALI_PERSON_BASE"][:1]
    records[0]["record"]["ID_CARD"] = "11010519491231002Y"[:17] + "1"
    path = tmp_path / "p.jsonl"
    write_batch(records, path, "jsonl")
    assert [i.rule for i in validate_file(validator, path).issues] == ["check.citizen_id"]
    records[0]["record"]["ID_CARD_TYPE"] = "02"  # not 居民身份证: no GB 11643 check
    write_batch(records, path, "jsonl")
    assert validate_file(validator, path).issues == []


HOSTILE = {
    "billion_laughs": (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">'
            for i in range(1, 10)
        )
        + "]><BATCH><PROJECT><PROJECT_NAME>&lol9;</PROJECT_NAME></PROJECT></BATCH>"
    ),
    "external_entity_file": (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<BATCH><PROJECT><PROJECT_NAME>&x;</PROJECT_NAME></PROJECT></BATCH>"
    ),
    "external_entity_url": (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
        "<BATCH><PROJECT><PROJECT_NAME>&x;</PROJECT_NAME></PROJECT></BATCH>"
    ),
    "external_dtd": (
        '<?xml version="1.0"?><!DOCTYPE BATCH SYSTEM "http://127.0.0.1:9/b.dtd"><BATCH/>'
    ),
    "deep_nesting": "<BATCH>" + "<a>" * 10_000 + "</a>" * 10_000 + "</BATCH>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_fast(validator: Validator, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_text(HOSTILE[name], "utf-8")
    t0 = time.monotonic()
    with pytest.raises(InputError) as exc:
        list(validator.iter_file(path))
    assert time.monotonic() - t0 < 2
    assert exc.value.code in ("xml.dtd", "xml.limit", "xml.syntax")
    assert "passwd" not in str(exc.value) and "root:" not in str(exc.value)


def test_huge_text_node_is_refused_fast(validator: Validator, tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with path.open("wb") as fh:
        fh.write(b"<BATCH><PROJECT><PROJECT_NAME>")
        chunk = b"x" * (1024 * 1024)
        for _ in range(100):
            fh.write(chunk)
        fh.write(b"</PROJECT_NAME></PROJECT></BATCH>")
    t0 = time.monotonic()
    with pytest.raises(InputError) as exc:
        list(validator.iter_file(path))
    assert time.monotonic() - t0 < 2
    assert exc.value.code == "input.too-large"


def test_text_node_over_libxml2_limit_under_size_limit(tmp_path: Path) -> None:
    from hub.validation.limits import Limits

    v = Validator(limits=Limits(max_input_bytes=200 * 1024 * 1024))
    path = tmp_path / "big.xml"
    path.write_bytes(
        b"<BATCH><PROJECT><PROJECT_NAME>" + b"x" * 11_000_000 + b"</PROJECT_NAME></PROJECT></BATCH>"
    )
    with pytest.raises(InputError) as exc:
        list(v.iter_file(path))
    assert exc.value.code in ("xml.limit", "xml.syntax")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (b'{"dataset": "PROJECT", "record": {"A": "1", "A": "2"}}', "duplicate key"),
        (b'{"dataset" : "PROJECT", "record" : {"A" : "1",\t"A"\r : "2"}}', "duplicate key"),
        (b'{"dataset": "PROJECT", "record": {"A": "x\\":", "A": "2"}}', "duplicate key"),
        (b'{"dataset": "PROJECT", "record": {"A": NaN}}', "not valid JSON"),
        (b'{"dataset": "PROJECT", "record": ' + b"[" * 100 + b"]" * 100 + b"}", "nested deeper"),
        (b'{"dataset": "PROJECT", "record": {"A": 1' + b"0" * 40 + b"}}", "digits"),
    ],
)
def test_hostile_json_line_is_a_record_issue(
    validator: Validator, tmp_path: Path, line: bytes, needle: str
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(line + b"\n")
    [res] = list(validator.iter_file(path))
    assert [i.rule for i in res.issues] == ["record.malformed"]
    assert needle in res.issues[0].message


def test_digits_inside_strings_are_not_numbers(validator: Validator, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"dataset": "PROJECT", "record": {"PROJECT_NAME": "' + b"9" * 40 + b'"}}\n')
    [res] = list(validator.iter_file(path))
    assert "record.malformed" not in [i.rule for i in res.issues]


def test_xml_field_with_child_elements_is_malformed(validator: Validator, tmp_path: Path) -> None:
    gen = Generator(seed=4)
    records = [r for r in gen.batch(1) if r["dataset"] == "PROJECT"][:1]
    path = tmp_path / "n.xml"
    write_batch(records, path, "xml")
    text = path.read_text("utf-8").replace("<PROJECT_NAME>", "<PROJECT_NAME><b>x</b>", 1)
    path.write_text(text, "utf-8")
    [res] = list(validator.iter_file(path))
    assert [i.rule for i in res.issues] == ["record.malformed"]
    assert "<PROJECT_NAME> contains elements" in res.issues[0].message


def test_a_duplicate_key_is_found_in_a_block_whose_counts_another_line_offsets(
    validator: Validator, tmp_path: Path
) -> None:
    """Lines are checked a block at a time: a line spelling a key with a space before its
    colon must not hide another line's duplicate key from the block's count."""
    gen = Generator(seed=2)
    records = gen.batch(1)
    good = [json.dumps(r, ensure_ascii=False).encode() for r in records][:20]
    project = json.dumps(next(r for r in records if r["dataset"] == "PROJECT"))
    spaced = b'{"dataset": "PROJECT", "record": {"PROJECT_NAME" : "x"}}'  # one '":' short
    # a record the schema accepts whichever value wins: only the key count can tell
    dup = project.replace('"record": {', '"record": {"PROJECT_NAME": "lost", ', 1).encode()
    big = b'{"dataset": "PROJECT", "record": {"PROJECT_NAME": 1' + b"0" * 40 + b"}}"
    path = tmp_path / "block.jsonl"
    path.write_bytes(b"\n".join([*good, spaced, dup, big, *good]) + b"\n")
    results = list(validator.iter_file(path))
    malformed = {r.raw.line: r.issues[0].message for r in results if r.raw.problem}
    n = len(good)
    assert sorted(malformed) == [n + 2, n + 3], malformed
    assert "duplicate key" in malformed[n + 2] and "digits" in malformed[n + 3]
    assert all(r.issues == [] for r in results if r.raw.line not in (n + 1, n + 2, n + 3))


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_the_fused_guards_never_pass_a_record_a_check_objects_to(
    validator: Validator, seed: int
) -> None:
    """``DatasetRules.clean`` is the fast path: it may send a clean record to the checks,
    never wave through one that a check would flag."""
    gen = Generator(seed=seed)
    records = gen.batch(8)
    gen.inject_defects(records, 0.6)
    flagged = passed = 0
    for r in records:
        rules = validator.rules(r["dataset"])
        fields = {k: v for k, v in r["record"].items() if v is not None}
        emitted: list[object] = []
        for fn in rules.always:
            fn(fields, lambda *a, out=emitted: out.append(a))
        if emitted:
            flagged += 1
            assert not rules.clean(fields), (r["dataset"], emitted)
        elif rules.clean(fields):
            passed += 1
    assert flagged >= 20 and passed >= 100  # both sides were exercised


def test_several_processes_report_exactly_what_one_does(
    validator: Validator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.validation import parallel

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    calls: list[int] = []
    real = parallel.validate_jsonl

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append(args[3])
        return real(*args, **kw)

    monkeypatch.setattr(parallel, "validate_jsonl", spy)
    gen = Generator(seed=6)
    records = gen.batch(6)
    gen.inject_defects(records, 0.2)
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in records]
    lines[10:10] = [b"", b"   ", b"{broken"]  # blank lines are not records; broken ones are
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    one = validate_file(validator, path)
    seen: list[int] = []
    three = validate_file(Validator(workers=3), path, on_record=seen.append)
    assert (three.records, three.valid) == (one.records, one.valid)
    assert three.issues == one.issues and len(one.issues) > 20
    assert sum(seen) == one.records  # every worker's progress reached the caller
    assert calls == [3]  # and it was the three-process path


def test_verdicts_do_not_depend_on_the_identifier_caches_filling_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caches empty themselves when full (memory stays bounded): with tiny limits, so that
    they empty all the time, the report must be what it is with roomy ones."""
    gen = Generator(seed=21)
    records = gen.batch(8)
    gen.inject_defects(records, 0.2)
    path = tmp_path / "d.jsonl"
    write_batch(records, path, "jsonl")
    roomy = validate_file(Validator(), path).issues
    monkeypatch.setattr(guards, "CACHE_ENTRIES", 3)
    monkeypatch.setattr(guards.Budget, "left", 7)
    tight = Validator()
    assert validate_file(tight, path).issues == roomy
    assert any(i.rule.startswith("check.") for i in roomy)
    assert guards.Budget.left <= 7  # the tight limits were in force


def test_an_overlong_jsonl_line_is_skipped_unread_and_the_rest_goes_on() -> None:
    import io

    from hub.validation.decode import jsonl_stream
    from hub.validation.limits import Limits

    good = b'{"dataset": "PROJECT", "record": {"PROJECT_CODE": "E1"}}'
    huge = b'{"dataset": "PROJECT", "record": {"PROJECT_NAME": "' + b"x" * 300_000 + b'"}}'
    data = b"\n".join([good, huge, good, b"", good]) + b"\n"
    limits = Limits(jsonl_max_line=10_000)
    out = list(jsonl_stream(io.BytesIO(data), limits, block_bytes=4096))
    assert [r.index for r in out] == [1, 2, 3, 4]
    assert [r.line for r in out] == [1, 2, 3, 5]
    bad = out[1]
    assert bad.problem is not None and "over the limit of 10000 bytes" in bad.problem
    assert str(len(huge)) in bad.problem and bad.text is not None and len(bad.text) < 2000
    assert all(r.problem is None and r.fields == {"PROJECT_CODE": "E1"} for r in out[::2])
    # the same bytes read in any block size give the same records
    for size in (7, 100, 1 << 20):
        again = list(jsonl_stream(io.BytesIO(data), limits, block_bytes=size))
        assert [(r.line, r.problem is None) for r in again] == [
            (r.line, r.problem is None) for r in out
        ]


def test_records_sharing_one_xml_line_get_only_their_own_schema_errors(
    validator: Validator, tmp_path: Path
) -> None:
    """Minified XML (every record on one line): a valid record next to an invalid one stays
    valid, and the invalid one gets its own errors, not every error of the line."""
    from hub.generate.batch import write_batch
    from hub.generate.generator import Generator

    projects = [r for r in Generator(seed=4).batch(3) if r["dataset"] == "PROJECT"][:3]
    path = tmp_path / "multi.xml"
    write_batch(projects, path, "xml")
    text = path.read_text("utf-8")
    head, _, body = text.partition("<BATCH")
    one_line = head + "<BATCH" + re.sub(r"\s+", " ", re.sub(r">\s+<", "><", body))
    broken = one_line.replace("<PROJECT_NAME>", "<PROJECT_NAMEX>", 1).replace(
        "</PROJECT_NAME>", "</PROJECT_NAMEX>", 1
    )
    path.write_text(broken, "utf-8")
    assert broken.count("\n") <= 1
    report = validate_file(validator, path)
    assert report.records == 3 and report.valid == 2
    assert {i.record for i in report.issues} == {1}
