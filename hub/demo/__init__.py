"""``hub demo``: a county → province cascade on this machine, with nothing but the package
and SQLite.  Three nodes (a province, two counties), each with its own folder, store, TEST
keys and trust, exchange a night's data over loopback; see docs/operations.md."""

from hub.demo.flow import Demo, run
from hub.demo.report import summary

__all__ = ["Demo", "run", "summary"]
