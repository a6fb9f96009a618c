"""'Did you mean' hints for mistyped names (schemes, technologies, corners, keys, commands)."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(value: object, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or '' when none is close.

    Matching ignores case, so 'PTM45' finds 'ptm45'."""
    if not isinstance(value, str) or not value:
        return ""
    import difflib  # only when a name is wrong: not at start-up

    names = [str(k) for k in known]
    folded = {n.lower(): n for n in names}
    close = difflib.get_close_matches(value.lower(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[close[0]]!r}?)" if close else ""
