"""Forwarding upstream (design §2 step 8): packages pushed by hand (``hub package push``) and
the outbox of each ``[forward.NAME]`` target, with receipts and verdicts kept."""

from hub.forward.deliver import D, DeliveryResult, push_package, redrive
from hub.forward.send import Pass, forward

__all__ = ["D", "DeliveryResult", "Pass", "forward", "push_package", "redrive"]
