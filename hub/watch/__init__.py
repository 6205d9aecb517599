"""Watching the node: alerts an administrator should see (certificates, sources, upstream)."""
