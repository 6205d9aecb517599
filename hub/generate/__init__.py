"""Deterministic, realistic generated batches (by seed) for tests, benches and the demo."""
