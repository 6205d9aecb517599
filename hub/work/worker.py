"""``hub worker``: one of several processes on one database, taking batches off the queue;
the one that holds the leader lease also runs the schedules (syncs, forwarding, alerts).

Leadership is kept by a thread that renews the lease every third of its time: a process
that loses it (it stalled past the lease, and another took over with a higher epoch)
stops its scheduler at its next renewal; schedule ticks are claimed row by row besides,
so even then a sync never runs twice at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from hub.config import NodeConfig
from hub.errors import HubError
from hub.ingest.pipeline import ingest_stream
from hub.store.engine import Store
from hub.store.lease import holder_id
from hub.work import leader, queue

log = logging.getLogger("hub.work")
LEADER = "scheduler"


@dataclass
class Worked:
    who: str
    items: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    led: bool = False


class Leadership(threading.Thread):
    """Holds (or waits for) the leader lease; runs the schedules while it leads."""

    def __init__(self, cfg: NodeConfig, store: Store, who: str, seconds: float) -> None:
        super().__init__(name="hub-leader", daemon=True)
        self.cfg, self.store, self.who, self.seconds = cfg, store, who, seconds
        self.stop = threading.Event()
        self.epoch: int | None = None
        self.scheduler: object | None = None
        self.led = False

    def run(self) -> None:
        from hub.schedule.scheduler import Scheduler  # noqa: PLC0415  (APScheduler loads here)

        while not self.stop.is_set():
            try:
                epoch = leader.acquire(self.store, LEADER, self.who, self.seconds)
            except HubError as exc:  # the store is busy: try again at the next turn
                log.warning("leader lease: %s", exc)
                epoch = self.epoch
            except Exception:  # a lost connection must not end leadership silently
                log.exception("leader lease: the store could not be asked; trying again")
                epoch = self.epoch
            if epoch is not None and self.scheduler is None:
                log.info("leading the schedules (epoch %d)", epoch)
                s = Scheduler(self.cfg, self.store)
                s.start()
                self.scheduler, self.led = s, True
            elif epoch is None and self.scheduler is not None:
                log.warning("lost the leader lease (epoch %s): stopping the schedules", self.epoch)
                self._stop_scheduler()
            self.epoch = epoch
            self.stop.wait(self.seconds / 3)
        self._stop_scheduler()
        leader.resign(self.store, LEADER, self.who)

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()  # type: ignore[attr-defined]
            self.scheduler = None


def work(
    cfg: NodeConfig,
    store: Store,
    stop: threading.Event,
    *,
    who: str | None = None,
    lease: timedelta = timedelta(seconds=60),
    poll_seconds: float = 1.0,
    once: bool = False,
    lead: bool = True,
) -> Worked:
    """Take items until ``stop`` is set (``once``: until the queue is empty)."""
    done = Worked(who or holder_id())
    keeper = Leadership(cfg, store, done.who, lease.total_seconds()) if lead else None
    if keeper is not None:
        keeper.start()
    try:
        while not stop.is_set():
            item = queue.claim(store, done.who, lease)
            if item is None:
                if once:
                    break
                stop.wait(poll_seconds)
                continue
            _ingest(cfg, store, item, done, lease)
    finally:
        if keeper is not None:
            keeper.stop.set()
            keeper.join(30)
            done.led = keeper.led
    return done


def _ingest(
    cfg: NodeConfig, store: Store, item: queue.Item, done: Worked, lease: timedelta
) -> None:
    def keep(_n: int) -> None:  # each committed chunk renews the claim
        queue.renew(store, item, done.who, lease)

    try:
        with store.raw.open(item.raw_sha256) as fh:
            r = ingest_stream(
                store,
                fh,
                item.source,
                item.origin,
                fmt=item.fmt,
                settings=cfg.ingest,
                on_progress=keep,
            )
    except HubError as exc:
        queue.finish(store, item, done.who, None, str(exc))
        done.failed.append(item.id)
        return
    queue.finish(store, item, done.who, r.run_id, None)
    done.items.append(item.id)
