"""The national data dictionary: data sets, fields and code sets, loaded once, frozen."""

from hub.dictionary.loader import Dictionary, load_dictionary
from hub.dictionary.model import CodeSet, DataSet, FieldDef, FieldKind

__all__ = ["CodeSet", "DataSet", "Dictionary", "FieldDef", "FieldKind", "load_dictionary"]
