"""Supervision: rule packs (schemas/supervision/*.toml) evaluated against the store's current
records, findings with their evidence, reviewed by people.  ``hub.supervise.findings`` is the
door: ``check`` (evaluate what arrived since the last check), ``listing``, ``review``."""
