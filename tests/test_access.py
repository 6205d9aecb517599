"""Users: passwords hashed with argon2id, checked in constant work, disabled users locked out;
the role table says who may do what."""

from __future__ import annotations

import pytest

from hub.access import users
from hub.access.roles import MAY, ROLES, county_sources, may
from hub.errors import UsageError
from hub.store.engine import Store
from hub.store.models import User


def test_passwords_are_argon2id_and_checked(store: Store) -> None:
    users.add(store, "ana", "administrator", "correct horse battery", None, "test")
    with store.read() as conn:
        stored = conn.execute(User.__table__.select()).one().password_hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    who = users.by_password(store, "ana", "correct horse battery")
    assert who is not None and who.role == "administrator"
    assert users.by_password(store, "ana", "wrong horse battery") is None
    assert users.by_password(store, "nobody", "correct horse battery") is None
    users.disable(store, "ana", "test")
    assert users.by_password(store, "ana", "correct horse battery") is None


def test_users_are_checked_when_added(store: Store) -> None:
    with pytest.raises(UsageError, match="role"):
        users.add(store, "x", "superuser", None, None, "test")
    with pytest.raises(UsageError, match="county user needs --platform"):
        users.add(store, "x", "county", None, None, "test")
    with pytest.raises(UsageError, match="12 characters"):
        users.add(store, "x", "observer", "short", None, "test")
    users.add(store, "x", "observer", None, None, "test")
    with pytest.raises(UsageError, match="exists already"):
        users.add(store, "x", "observer", None, None, "test")


def test_the_role_table() -> None:
    assert all(may(r, "read") for r in ROLES)
    assert may("operator", "run") and not may("observer", "run") and not may("county", "discard")
    assert MAY["resolve"] == {"administrator"} and not may("operator", "users")
    assert county_sources("C1", [("a", "C1"), ("b", "C2"), ("c", None)]) == ("C1", "a")
