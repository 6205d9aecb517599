"""Declarative mappings: a source system's own fields → the specification's data sets."""

from hub.mapping.compiled import Mapping
from hub.mapping.load import Checked, check_mapping, load_mapping

__all__ = ["Checked", "Mapping", "check_mapping", "load_mapping"]
