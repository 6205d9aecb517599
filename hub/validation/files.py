"""One batch file's report (``hub validate``): a large JSONL file on several processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.validation import decode, parallel
from hub.validation.sniff import detect_format
from hub.validation.tally import FileReport, tally_lines
from hub.validation.validator import Validator


def validate_file(
    validator: Validator,
    path: Path,
    fmt: str | None = None,
    on_record: Callable[[int], None] | None = None,
) -> FileReport:
    """Records, valid records and issues of the file; InputError if it cannot be read or is
    not the format it claims to be."""
    data = decode.read_bytes(path, validator.limits)
    fmt = detect_format(path, data[:65536], fmt)
    workers = validator.workers
    if fmt == "jsonl" and workers > 1 and parallel.worth_it(len(data), workers):
        return parallel.validate_jsonl(validator, data, str(path), workers, on_record)
    report = FileReport(str(path), fmt)
    if fmt == "jsonl":
        tally = tally_lines(validator, data.split(b"\n"), 1, 0, str(path), on_record)
        report.records, report.valid, report.issues = tally
        return report
    for res in validator.iter_bytes(data, str(path), fmt, on_record):
        if res.raw.index:
            report.records += 1
            report.valid += res.ok
        report.issues.extend(res.issues)
    return report
