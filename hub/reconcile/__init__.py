"""Reconcile: identity, versions, order, conflicts, tombstones, holds (design §3)."""
