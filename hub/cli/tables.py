"""A rich Table for data: plain strings in cells and titles are text, never markup.

Rich reads ``[xml.dtd]`` in a cell as a markup tag and prints nothing; a reason code, a field
value or a file name is data, so every ``str`` given to this table becomes ``Text``.  A cell
meant to be coloured is passed as ``Text(value, style=...)``.
"""

from __future__ import annotations

from typing import Any

from rich import table
from rich.text import Text


class Table(table.Table):
    def __init__(self, *headers: Any, title: Any = None, **kw: Any) -> None:
        super().__init__(*headers, title=Text(title) if isinstance(title, str) else title, **kw)

    def add_row(self, *cells: Any, **kw: Any) -> None:
        super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **kw)
