"""Whether a document's licence lets the release republish its text.

Every facts file states its document's licence (an IRI, or ``unknown``). The release republishes a
document's segments only when that licence is on the allow-list ``carnk_ld/licences.tsv``
(package data: it is the project's publishing policy, not a property of one corpus). For any
other document the release keeps the facts, every position selector and the quotes of at most
:data:`SHORT_QUOTE` characters: enough to find the evidence in one's own copy of the document.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

#: The allow-list: the licences whose documents' text the release republishes.
LICENCES_FILE = Path(__file__).with_name("licences.tsv")
#: What a facts file writes when its document's licence is not known: the text is withheld.
UNKNOWN = "unknown"
#: The longest quote the release keeps of a document whose text it does not republish.
SHORT_QUOTE = 200


@cache
def republishing_licences() -> dict[str, str]:
    """The allow-list: each licence's IRI and name, in file order."""
    licences = {}
    for line in LICENCES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            iri, name = line.split("\t")
            licences[iri] = name
    return licences


def republishes_text(licence: str) -> bool:
    """Whether the release republishes the text of a document under ``licence`` (an IRI or ``unknown``)."""
    return licence in republishing_licences()


def publishable_quote(quote: str, licence: str) -> bool:
    """Whether the release may carry ``quote`` of a document under ``licence``."""
    return republishes_text(licence) or len(quote) <= SHORT_QUOTE
