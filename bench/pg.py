"""A fresh database on the local PostgreSQL for a benchmark run (dropped first if there)."""

from __future__ import annotations

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(name: str) -> str:
    """Create (again) database ``name``; returns its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
