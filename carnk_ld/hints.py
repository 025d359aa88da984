"""Hints for names a curator wrote that the project does not know: a close spelling, or nothing.

A "did you mean" that names a merely related term misleads a curator who is adding a new name on
purpose (``FT596`` is not a misspelling of ``NKCellTherapy``), so a name is suggested only when it
is the same word written differently (case, hyphens, underscores, spaces, a plural ``s``) or a
near-identical spelling. difflib's ratio is the similarity measure (it is what the standard library
offers and needs no dependency); the threshold is high so that only typos pass.
"""

from __future__ import annotations

import difflib
import re

#: The least difflib ratio (on case-folded names) for a name to count as a misspelling of another.
CLOSE_RATIO = 0.85
#: The least ratio among a closed set of words (a section's keys, a key's values): no such word is
#: new on purpose, so a looser likeness (``compared_with`` for ``compared_to``) is still a typo.
CLOSED_SET_RATIO = 0.6

_SEPARATORS_RE = re.compile(r"[-_\s]+")
_DIGITS_RE = re.compile(r"\d+")


def _folded(name: str) -> str:
    """A name without case, separators or a plural ``s``: two spellings of one word fold alike."""
    folded = _SEPARATORS_RE.sub("", name).casefold()
    return folded[:-1] if len(folded) > 3 and folded.endswith("s") else folded


def close_spelling(name: str, known: list[str] | tuple[str, ...] | set[str], ratio: float = CLOSE_RATIO) -> str | None:
    """The known name that ``name`` most likely misspells, or None when none is close.

    Names whose numbers differ are never taken for each other: ``CD22CARNKCellTherapy`` is a new
    target, not a typo of ``CD19CARNKCellTherapy``, and ``FT576`` is another product than ``FT596``.
    Nor is a name that holds the other whole (``NewImmunotherapy``, ``CARNKCellTherapy`` for
    ``CARNKCell``): that is a narrower or related term, new on purpose.

    >>> close_spelling("CarNkCell", ["CARNKCell", "NKCell"])
    'CARNKCell'
    >>> close_spelling("FT596", ["NKCellTherapy", "CARNKCellTherapy"]) is None
    True
    """
    candidates = sorted(k for k in known if k != name)
    folded = _folded(name)
    variants = [k for k in candidates if _folded(k) == folded]
    if variants:
        return variants[0]
    digits = _DIGITS_RE.findall(name)
    best: tuple[float, str] | None = None
    for candidate in candidates:
        if _DIGITS_RE.findall(candidate) != digits:
            continue
        other = _folded(candidate)
        longer, shorter = (other, folded) if len(other) > len(folded) else (folded, other)
        if ratio >= CLOSE_RATIO and len(longer) - len(shorter) >= 3 and shorter in longer:  # a word more
            continue
        likeness = difflib.SequenceMatcher(None, name.casefold(), candidate.casefold()).ratio()
        if likeness >= ratio and (best is None or likeness > best[0]):
            best = (likeness, candidate)
    return best[1] if best else None


def did_you_mean(name: str, known: list[str] | tuple[str, ...] | set[str], ratio: float = CLOSE_RATIO) -> str | None:
    """``did you mean 'X'?`` for a close spelling (:func:`close_spelling`), else None."""
    close = close_spelling(name, known, ratio)
    return f"did you mean {close!r}?" if close else None
