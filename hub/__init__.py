"""Data-exchange hub for China's public-resource-trading platforms."""

__version__ = "0.1.0"
SPEC_VERSION = "2.0"
ENV_CONFIG = "HUB_CONFIG"  # the node configuration file
ENV_DATABASE_URL = "HUB_DATABASE_URL"  # a database URL that wins over the file
