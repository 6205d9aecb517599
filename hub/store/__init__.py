"""The versioned store of "one network, N libraries" (see docs/store.md)."""
