"""Size and shape limits on inputs (design §8); each is configurable."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_input_bytes: int = 50 * MB
    xml_max_depth: int = 256  # libxml2's own default, enforced by the parser
    xml_max_text: int = 10_000_000  # libxml2's limit on one text node without XML_PARSE_HUGE
    json_max_depth: int = 64
    json_max_int_digits: int = 30
    jsonl_max_line: int = 16 * MB  # one JSONL record; a longer line is refused unread
    future_skew_seconds: int = 300  # DATA_TIMESTAMP ahead of the receiving node's clock


DEFAULT_LIMITS = Limits()
