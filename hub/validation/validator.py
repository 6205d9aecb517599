"""Validate batch files (XML, JSON, JSONL): never raises on bad data, returns issues.

Fast path: the whole XML document goes through lxml's XSD validator (or each JSON record
through its compiled JSON Schema); records the schema accepts only run the rules a schema
cannot express.  Records the schema rejects also run the structural checks, which name the
field, rule and value; a schema error no check explains is reported under rule ``schema``
with the validator's own text, so nothing the schema saw is lost.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema_rs
from lxml import etree

from hub.dictionary import Dictionary, load_dictionary, overlay
from hub.dictionary.paths import generated_dir, schemas_dir
from hub.errors import InputError
from hub.schemagen.facets import OP_VALUES
from hub.suggest import hint
from hub.validation import decode, xmlcheck
from hub.validation.decode import RawRecord
from hub.validation.guards import RuleSettings
from hub.validation.issues import Issue, Severity, clip
from hub.validation.limits import DEFAULT_LIMITS, Limits
from hub.validation.result import RecordResult
from hub.validation.rules import DatasetRules, compile_rules
from hub.validation.sniff import FORMATS, detect_format

PLAIN_OPS = frozenset({None, *OP_VALUES})  # a JSONL envelope's op: absent or a valid one
_Fast = tuple[Callable[[Any], bool], Callable[[Any], bool], frozenset[str] | None]


class Validator:
    def __init__(
        self,
        dictionary: Dictionary | None = None,
        settings: RuleSettings | None = None,
        limits: Limits = DEFAULT_LIMITS,
        workers: int = 1,
    ) -> None:
        self.dictionary = dictionary or load_dictionary()
        self.workers = workers  # processes for one large JSONL file (files.validate_file)
        self.settings = settings or RuleSettings()
        self.limits = limits
        self._rules: dict[str, DatasetRules] = {}
        self._json: dict[str, Any] = {}  # data set -> compiled JSON Schema validator
        self._known = frozenset(self.dictionary.datasets)
        self.fast: dict[str, _Fast | None] = {}  # data set -> the JSONL tally's checks

    @property
    def known(self) -> frozenset[str]:
        """The data sets of this validator's dictionary."""
        return self._known

    @functools.cached_property
    def _elsewhere(self) -> dict[str, str]:
        """Data sets of provincial overlays this dictionary does not apply: name -> overlay."""
        return {
            x.name: ov.name
            for name in overlay.available(schemas_dir())
            if name not in self.dictionary.overlays
            for ov in [overlay.read_overlay(schemas_dir(), name)]
            for x in ov.dataset
        }

    # -- compiled artefacts, built on first use ---------------------------------------
    def rules(self, name: str) -> DatasetRules:
        r = self._rules.get(name)
        if r is None:
            r = self._rules[name] = compile_rules(
                self.dictionary.datasets[name], self.dictionary, self.settings
            )
        return r

    @functools.cached_property
    def xml_schema(self) -> etree.XMLSchema:
        path = generated_dir(self.dictionary.profile) / "xsd" / "batch.xsd"
        return etree.XMLSchema(etree.parse(str(path), decode.xml_parser()))

    def json_validator(self, name: str) -> Any:
        v = self._json.get(name)
        if v is None:
            path = generated_dir(self.dictionary.profile) / "json" / f"{name}.schema.json"
            v = self._json[name] = jsonschema_rs.validator_for(json.loads(path.read_text("utf-8")))
        return v

    # -- one record ----------------------------------------------------------------------
    def check_record(
        self, raw: RawRecord, source: str, schema_ok: bool, schema_errors: list[str] | None = None
    ) -> list[Issue]:
        ds_name = raw.dataset
        if schema_ok and raw.problem is None and raw.op in PLAIN_OPS and raw.envelope is None:
            rules = self._rules.get(ds_name)
            if rules is not None and rules.clean(raw.fields):
                return []  # the common case: the guards say no rule can object
        issues: list[Issue] = []

        def emit(fid: str, rule: str, value: Any, message: str, severity: Severity) -> None:
            v = None if value is None else (value if isinstance(value, str) else str(value))
            shown = f" (value {clip(v)})" if v is not None else ""
            where = f"{source}, record {raw.index}" + (f" (line {raw.line})" if raw.line else "")
            issues.append(
                Issue(
                    source,
                    raw.index,
                    ds_name,
                    fid,
                    rule,
                    v,
                    f"{where}, {ds_name}.{fid}: {message}{shown}",
                    severity,
                )
            )

        if raw.problem:
            emit("", "record.malformed", None, raw.problem, "error")
            return issues
        if ds_name not in self._known:
            province = self._elsewhere.get(ds_name)
            emit(
                "",
                "dataset.unknown",
                ds_name,
                f"data set {ds_name!r} is not in the dictionary {self.dictionary.profile}; "
                + (
                    f"it is defined by the provincial overlay {province!r} (hub validate "
                    f"--overlay {province}; a node: [dictionary] overlays)"
                    if province
                    else "expected a name such as PROJECT or SECTION"
                    + (hint(ds_name, self._known) if isinstance(ds_name, str) else "")
                    + " (`hub dictionary list`)"
                ),
                "error",
            )
            return issues
        rules = self.rules(ds_name)
        rec = raw.fields
        if raw.envelope is not None:
            emit("", "record.envelope", None, f"the envelope's {raw.envelope}", "error")
        if raw.op is not None and raw.op not in OP_VALUES:
            emit(
                "", "record.op", raw.op, f"operation must be one of {', '.join(OP_VALUES)}", "error"
            )
        if not schema_ok:
            for k in rec:
                if k not in rules.known_fields:
                    emit(k, "unknown-field", None, f"{k} is not a field of {ds_name}", "error")
            n = len(issues)
            for fn in rules.structural:
                fn(rec, emit)
            explained = len(issues) > n
        for fn in rules.always:
            fn(rec, emit)
        if not schema_ok and not explained and schema_errors:
            for msg in schema_errors[:5]:
                emit("", "schema", None, msg, "error")
        return issues

    # -- files --------------------------------------------------------------------------
    def iter_file(
        self, path: Path, fmt: str | None = None, on_record: Callable[[int], None] | None = None
    ) -> Iterator[RecordResult]:
        """Yield one result per record; raise InputError if the file cannot be read."""
        data = decode.read_bytes(path, self.limits)
        fmt = detect_format(path, data[:65536], fmt)
        yield from self.iter_bytes(data, str(path), fmt, on_record)

    def iter_stream(
        self,
        stream: BinaryIO,
        source: str,
        fmt: str,
        on_record: Callable[[int], None] | None = None,
    ) -> Iterator[RecordResult]:
        """Like iter_bytes; JSONL is read a block at a time, other formats whole (limited)."""
        if fmt != "jsonl":
            data = stream.read(self.limits.max_input_bytes + 1)
            if len(data) > self.limits.max_input_bytes:
                raise InputError(
                    source,
                    f"is over the input limit of {self.limits.max_input_bytes} bytes "
                    f"for a whole-document {fmt} file (JSONL is streamed without this limit)",
                    code="input.too-large",
                )
            yield from self.iter_bytes(data, source, fmt, on_record)
            return
        for raw in decode.jsonl_stream(stream, self.limits):
            yield RecordResult(raw, self.check_json(raw, source))
            if on_record:
                on_record(1)

    def fast_checks(self, name: Any) -> _Fast | None:
        """(schema is_valid, fused guards, alias names or None) of a known data set, cached
        in ``self.fast`` for the JSONL tally's hot loop; None for an unknown one."""
        f = None
        if name in self._known:
            rules = self.rules(name)
            f = (self.json_validator(name).is_valid, rules.clean, frozenset(rules.aliases) or None)
        self.fast[name] = f
        return f

    def iter_bytes(
        self, data: bytes, source: str, fmt: str, on_record: Callable[[int], None] | None = None
    ) -> Iterator[RecordResult]:
        if fmt == "xml":
            yield from xmlcheck.iter_xml(self, data, source, on_record)
        elif fmt in ("json", "jsonl"):
            records = (
                decode.json_records(data, source, self.limits)
                if fmt == "json"
                else decode.jsonl_records(data, self.limits)
            )
            for raw in records:
                yield RecordResult(raw, self.check_json(raw, source))
                if on_record:
                    on_record(1)
        else:
            raise InputError(
                source, f"unknown format {fmt!r}; expected one of {FORMATS}", code="input.format"
            )

    def rename_aliases(self, raw: RawRecord) -> None:
        if raw.dataset not in self._known:
            return
        rules = self.rules(raw.dataset)
        if not rules.aliases or rules.aliases.keys().isdisjoint(raw.fields):
            return
        raw.fields = {rules.aliases.get(k, k): v for k, v in raw.fields.items()}
        if raw.element is not None:
            for child in raw.element:
                if child.tag in rules.aliases:
                    child.tag = rules.aliases[child.tag]

    def check_json(self, raw: RawRecord, source: str) -> list[Issue]:
        if raw.problem or raw.dataset not in self._known:
            return self.check_record(raw, source, True)
        if raw.op == "delete" and raw.key and not raw.fields:
            return []  # a delete by the sender's key alone: reconcile finds the record
        self.rename_aliases(raw)
        v = self.json_validator(raw.dataset)
        if v.is_valid(raw.fields):
            ok, errors = True, None
        else:
            if raw.text is not None:  # a JSONL line decoded with its block: the exact checks
                problem = decode.strict_problem(raw.text, raw.line, self.limits)
                if problem is not None:
                    raw.problem, raw.dataset, raw.fields = problem, "", {}
                    raw.op = raw.key = None
                    raw.text = raw.text.rstrip()
                    return self.check_record(raw, source, True)
            ok = False
            errors = [
                f"{'/'.join(map(str, e.instance_path)) or '(record)'}: {e.message}"
                for e in v.iter_errors(raw.fields)
            ]
        # JSON null means "not given"
        if None in raw.fields.values():
            raw.fields = {k: x for k, x in raw.fields.items() if x is not None}
        return self.check_record(raw, source, ok, errors)
