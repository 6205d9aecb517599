"""The closed vocabulary of named value transforms a mapping may use (docs/mapping.md).

A transform is a class with a ``name``, an ``Args`` type that its arguments must satisfy
(checked when the mapping loads) and a ``__call__`` that turns one value into another or
raises ``TransformError`` with a message that says what was expected.  The built-in ones are
registered under the ``hub.transforms`` entry-point group like any third-party transform, so
a centre can add one (say, its own legacy date encoding) without touching the hub.

Values are what the source gave: ``str`` from CSV and JSON, ``int``/``Decimal``/``date``/
``datetime`` from a database, ``None`` for nothing.  A list appears after ``split`` or when a
field reads several source columns.  ``None`` and ``""`` mean "not given".
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class TransformError(ValueError):
    """One value could not be transformed; the message says what was expected."""


class _Args(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Context:
    """What a transform may look up while it is built: the mapping's code tables."""

    def __init__(self, code_tables: Mapping[str, Mapping[str, str]]) -> None:
        self.code_tables = code_tables


class Transform(ABC):
    name: ClassVar[str]
    Args: ClassVar[Any] = None  # a type for pydantic's TypeAdapter; None: takes no arguments

    def __init__(self, args: Any, ctx: Context) -> None:
        self.args = args

    @abstractmethod
    def __call__(self, value: Any) -> Any:
        """The transformed value; TransformError (saying what was expected) if it cannot be."""

    @classmethod
    def parse(cls, raw: Any, ctx: Context) -> Transform:
        """Check ``raw`` against ``Args`` and build the transform (ValueError if wrong)."""
        if cls.Args is None:
            if raw not in (None, True, {}):
                raise ValueError(f"takes no arguments, got {raw!r}")
            return cls(None, ctx)
        return cls(TypeAdapter(cls.Args).validate_python(raw), ctx)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        raise TransformError(f"expected text, got bytes {value[:20]!r}")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


_SPACES = " \t\r\n\u3000\xa0"


class Trim(Transform):
    """Strip spaces (ASCII and the full-width U+3000 county systems pad with)."""

    name = "trim"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        return value.strip(_SPACES) if isinstance(value, str) else value


class Default(Transform):
    """Use this value when the source gives nothing."""

    name = "default"
    Args = str

    def __call__(self, value: Any) -> Any:
        return self.args if value in (None, "", []) else value


class Const(Transform):
    """Always this value (the field reads no source column)."""

    name = "const"
    Args = str

    def __call__(self, value: Any) -> Any:
        return self.args


class EmptyIf(Transform):
    """Treat these markers ("-", "无", "NULL") as "not given"."""

    name = "empty_if"
    Args = list[str]

    def __call__(self, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip(_SPACES) in self.args else value


class DateArgs(_Args):
    formats: list[str] = Field(alias="from", min_length=1)  # strptime formats, tried in order
    to: Literal["yyyyMMdd", "yyyyMMddHHmmss"] = "yyyyMMdd"


class DateTransform(Transform):
    """Parse a date or date-time in any of the given strptime formats; write the spec's form.

    Database ``date``/``datetime`` values are taken as they are."""

    name = "date"
    Args = DateArgs

    def __call__(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        out = "%Y%m%d" if self.args.to == "yyyyMMdd" else "%Y%m%d%H%M%S"
        if isinstance(value, datetime | date):
            return value.strftime(out)
        text = _text(value).strip(_SPACES)
        for fmt in self.args.formats:
            try:
                return datetime.strptime(text, fmt).strftime(out)
            except ValueError:
                continue
        raise TransformError(
            f"{text!r} is not a date in any of the formats {', '.join(self.args.formats)}"
        )


class ScaleArgs(_Args):
    by: Decimal
    max_decimals: int = Field(default=6, ge=0, le=6)  # the spec allows at most 6


class Scale(Transform):
    """Multiply a number exactly (万元 → 元: ``{scale = 10000}``); thousands separators are
    dropped, the result is written without exponent or trailing zeros."""

    name = "scale"
    Args = Decimal | ScaleArgs

    def __init__(self, args: Any, ctx: Context) -> None:
        super().__init__(args if isinstance(args, ScaleArgs) else ScaleArgs(by=args), ctx)

    def __call__(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        text = _text(value).strip(_SPACES).replace(",", "")
        try:
            n = Decimal(text)
        except InvalidOperation:
            raise TransformError(f"{text!r} is not a number") from None
        if not n.is_finite():
            raise TransformError(f"{text!r} is not a finite number")
        n = (n * self.args.by).quantize(Decimal(1).scaleb(-self.args.max_decimals))
        n = n.normalize()
        return format(n, "f") if n != n.to_integral() else str(int(n))


class CodesArgs(_Args):
    table: str | None = None  # a [codes.NAME] table of the mapping
    map: dict[str, str] | None = None  # or an inline table
    otherwise: Literal["error", "keep", "empty"] = "error"


class Codes(Transform):
    """Translate local code values into the national code set (each item of a list)."""

    name = "codes"
    Args = str | CodesArgs

    def __init__(self, args: Any, ctx: Context) -> None:
        if isinstance(args, str):
            args = CodesArgs(table=args)
        if (args.table is None) == (args.map is None):
            raise ValueError("give either a code table name or an inline map, not both")
        if args.table is not None and args.table not in ctx.code_tables:
            known = ", ".join(sorted(ctx.code_tables)) or "none"
            raise ValueError(f"no code table [codes.{args.table}] in this mapping (has: {known})")
        super().__init__(args, ctx)
        self.table: Mapping[str, str] = (
            ctx.code_tables[args.table] if args.table is not None else args.map or {}
        )

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if value in (None, ""):
            return None
        text = _text(value).strip(_SPACES)
        if text in self.table:
            return self.table[text]
        if self.args.otherwise == "keep":
            return text
        if self.args.otherwise == "empty":
            return None
        name = f"[codes.{self.args.table}]" if self.args.table else "the inline code map"
        shown = ", ".join(list(self.table)[:8]) + (" ..." if len(self.table) > 8 else "")
        raise TransformError(f"{text!r} is not in {name} (knows {shown})")


class SepArgs(_Args):
    sep: str = ""


class Concat(Transform):
    """Join several source columns (``from = [...]``) into one text; empty parts skipped."""

    name = "concat"
    Args = str | SepArgs

    def __init__(self, args: Any, ctx: Context) -> None:
        super().__init__(SepArgs(sep=args) if isinstance(args, str) else args, ctx)

    def __call__(self, value: Any) -> Any:
        parts = value if isinstance(value, list) else [value]
        text = self.args.sep.join(_text(v) for v in parts if v not in (None, ""))
        return text or None


class Split(Transform):
    """Split a text into a list on any of the given separators (``，`` ``、`` ``,`` ...)."""

    name = "split"
    Args = str | list[str]

    def __init__(self, args: Any, ctx: Context) -> None:
        seps = [args] if isinstance(args, str) else list(args)
        if not seps or "" in seps:
            raise ValueError("needs at least one non-empty separator")
        super().__init__(seps, ctx)
        self.pattern = re.compile("|".join(re.escape(s) for s in seps))

    def __call__(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, list):
            return [p for v in value for p in self(v) or []]
        parts = [p.strip(_SPACES) for p in self.pattern.split(_text(value))]
        return [p for p in parts if p] or None


class Join(Transform):
    """Join a list with the spec's half-width ``;`` (or another separator)."""

    name = "join"
    Args = str | None

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        items = [_text(v) for v in value if v not in (None, "")]
        return (";" if self.args is None else self.args).join(items) or None


class Text(Transform):
    """Write a number or a database value as text (``12.50`` → ``"12.5"``, ``7`` → ``"7"``)."""

    name = "text"

    def __call__(self, value: Any) -> Any:
        return None if value is None else _text(value)


BUILTIN: tuple[type[Transform], ...] = (
    Trim,
    Default,
    Const,
    EmptyIf,
    DateTransform,
    Scale,
    Codes,
    Concat,
    Split,
    Join,
    Text,
)
