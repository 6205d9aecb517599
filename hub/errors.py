"""One error hierarchy for the whole hub.

HubError is the root.  ConfigError: the hub was set up wrongly (fix config, restart).
FatalError: the run cannot go on.  RetryableError: a transient fault, try again later.
InputError: an input (file, body, package) cannot be read at all; it is not a record-level
issue but the whole input is refused.  Record-level problems are never raised: they are
returned as issues (see hub.validation.issues).
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigError(HubError):
    """Configuration or bundled data (dictionary, code sets, mapping) is wrong."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class FatalError(HubError):
    """The run cannot continue; nothing more will be attempted."""


class RetryableError(HubError):
    """A transient fault (network, lock, remote busy); the same call may succeed later.

    ``attempts``: how many times the call was tried before giving up (0: not tried, e.g. a
    circuit breaker is open), when the raiser retried on its own."""

    def __init__(self, message: str, *, attempts: int | None = None) -> None:
        self.attempts = attempts
        super().__init__(message)


class InputError(HubError):
    """An input cannot be read as a whole: unreadable, hostile, too large, wrong encoding."""

    def __init__(self, source: str, reason: str, *, code: str = "input.unreadable") -> None:
        self.source = source
        self.reason = reason
        self.code = code
        # a signed package refused after its signer was checked: who sent it (None: the
        # refusal came before anyone was authenticated)
        self.sender: str | None = None
        super().__init__(f"{source}: {reason}")


class UsageError(HubError):
    """The caller asked for something that does not exist (unknown data set, bad option)."""
