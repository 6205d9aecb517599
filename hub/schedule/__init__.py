"""Scheduled syncs.  The door is ``hub.schedule.scheduler`` (Scheduler, statuses); ``plan``
computes ticks and freshness, ``ledger`` keeps claims, state and events in the store,
``runner`` runs one tick."""
