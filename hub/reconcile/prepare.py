"""What reconcile derives from one valid record before it looks at the store.

Everything here is a pure function of the record and its data set's ``KeyPlan``: the business
key, canonical content and its hash, DATA_TIMESTAMP, the parent's key, the lifecycle links and
the entity claims.  Being pure, it can run in the process that decodes and validates (see
``hub.ingest.parallel``), so that the process that owns the store only places and writes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from hub.reconcile.keys import KeyPlan, canonical, content_hash

LINK_VALUE_LEN = 200  # record_ref.value


class Prepared(NamedTuple):
    """A tuple, so that it crosses a process boundary as a JSON array."""

    key: str
    op: str  # add, modify or delete
    content: str  # canonical JSON of the fields
    hash: str
    ts: str  # DATA_TIMESTAMP, "" when absent
    parent_key: str | None
    links: list[tuple[str, str]]  # (field, value), each once
    claims: list[tuple[str, str, str | None]]  # (entity code, role, name)


def prepare(plan: KeyPlan, fields: dict[str, Any], op: str | None) -> Prepared | None:
    """None when the record's business key is incomplete (the caller reports key.missing)."""
    key = plan.key(fields)
    if key is None:
        return None
    op = op or "add"
    canon = canonical(fields)
    links = list(dict.fromkeys((f, v[:LINK_VALUE_LEN]) for f, v in plan.links(fields)))
    return Prepared(
        key,
        op,
        canon.decode(),
        content_hash(op, canon),
        str(fields.get("DATA_TIMESTAMP") or ""),
        plan.parent_key(fields),
        links,
        _claims(plan, fields),
    )


def _claims(plan: KeyPlan, fields: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """The (credit code, role) pairs a record of an entities data set speaks for."""
    if plan.entity_code_field is None:
        return []
    code = fields.get(plan.entity_code_field)
    if not code or not isinstance(code, str):
        return []  # nothing to claim (its key check reports a missing code)
    roles: list[str] = [plan.entity_role] if plan.entity_role else []
    if plan.role_field and fields.get(plan.role_field):
        roles += fields[plan.role_field].split(";")
    name = fields.get("LEGAL_NAME") or fields.get("NAME")
    return [(code, role, name) for role in dict.fromkeys(r for r in roles if r)]
