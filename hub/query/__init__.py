"""Read-only questions about the store (the CLI and the web console call these)."""
