"""Generate XSD and JSON Schema from the dictionary (both from the same facets)."""
