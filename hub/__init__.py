"""Data-exchange hub for China's public-resource-trading platforms."""

__version__ = "0.1.0"
SPEC_VERSION = "2.0"
