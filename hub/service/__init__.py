"""The hub's HTTP service (`hub serve`)."""
