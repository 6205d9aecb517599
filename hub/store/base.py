"""What every table shares: the declarative base, id and key types."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Integer, Table
from sqlalchemy.orm import DeclarativeBase

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities
BigId = BigInteger().with_variant(Integer(), "sqlite")

KEY_LEN = 400  # business keys: up to three codes of ≤ 100 characters joined with "|"


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """A model's Core table (typed as Table, which every model here maps to)."""
    return cast(Table, model.__table__)
