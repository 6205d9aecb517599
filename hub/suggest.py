"""``did you mean …?``: the close matches of a mistyped name among the valid ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    names = list(choices)
    upper = {c.upper(): c for c in names}
    if word.upper() in upper and word not in names:  # only the case differs
        return [upper[word.upper()]]
    return difflib.get_close_matches(word, names, n=n, cutoff=0.6)


def did_you_mean(word: str, choices: Iterable[str], what: str) -> str:
    """``unknown WHAT 'word'; did you mean 'X'?`` or, with no close match, the valid ones."""
    names = sorted(choices)
    close = close_matches(word, names)
    if close:
        return f"unknown {what} {word!r}; did you mean {' or '.join(map(repr, close))}?"
    if not names:
        return f"unknown {what} {word!r}; none is configured"
    listed = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return f"unknown {what} {word!r}; known: {listed}"


def hint(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` or nothing: a tail for a message that says more already."""
    close = close_matches(word, choices)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
