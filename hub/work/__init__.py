"""Scale-out (design §6): a work queue several hub processes share on one database, and the
leader lease of the one that runs the schedules."""

from hub.work.queue import counts, enqueue, items
from hub.work.worker import Worked, work

__all__ = ["Worked", "counts", "enqueue", "items", "work"]
