"""Reference lists and citation markers: the works a document cites or summarises.

A document's reference entries (segments of kind ``reference``, see
:data:`carnk_ld.documents.REFERENCE_RE`) become cited works: "[3] Zhu H, et al. Cell Stem
Cell 2020;27:224-237. doi:10.1016/j.stem.2020.05.008" is work 3 of the document, with its
citation text and DOI; "Reference: Liu E, ... doi:10.1056/NEJMoa1910607" is the
publication a trial summary reports. A sentence's markers ("... blocked [7]." or
"...targeting.[1][2]") link the statements curated from it to the works they number.

The identifiers are read with patterns of the registries' own syntax (Crossref's DOI
pattern, PubMed's PMID, ClinicalTrials.gov's NCT number); citation text is kept as written, since no
parser can split free-form references reliably without a model (the curator does not
need it split: the DOI identifies the work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carnk_ld.documents import REFERENCE_RE, Document, Segment
from carnk_ld.errors import InputError, Location

#: A DOI as Crossref recommends matching it (10.prefix/suffix), ending before trailing punctuation.
DOI_RE = re.compile(r"\b(10\.\d{4,9}/[-._;()/:A-Za-z0-9]*[A-Za-z0-9)])")
#: A PubMed identifier as reference lists write it ("PMID: 12345678", "PMID 12345678").
PMID_RE = re.compile(r"\bPMID:?\s*(\d{1,8})\b")
#: A ClinicalTrials.gov registry number, the pattern Bioregistry gives for the prefix ``clinicaltrials``.
NCT_RE = re.compile(r"\bNCT\d{8}\b")
#: A citation marker: one or more numbers in square brackets.
MARKER_RE = re.compile(r"\[(\d{1,4}(?:\s*[,\u2013-]\s*\d{1,4})*)\]")


@dataclass(frozen=True)
class Work:
    """A work that a document cites (``number``) or summarises (``number`` is None)."""

    iri: str
    number: int | None
    citation: str
    doi: str | None
    pmid: str | None
    registry: tuple[str, ...]
    segment: Segment


def works_of(document: Document) -> list[Work]:
    """The document's reference entries as works, in document order; a number given twice or 0 is an error."""
    works = []
    numbered: dict[int, int] = {}  # reference number -> the line of its entry
    summarised = 0
    for segment in document.segments:
        if segment.kind != "reference":
            continue
        match = REFERENCE_RE.match(segment.text)
        assert match is not None  # the segmenter made it a reference by this pattern
        number = int(match.group("number")) if match.group("number") else None
        where = Location(document.shown, segment.line)
        if number is not None:
            if number == 0:
                raise InputError(where, "reference number 0: reference lists number their entries from 1")
            if number in numbered:
                raise InputError(
                    where,
                    f"reference number {number} is given twice (first on line {numbered[number]})",
                    "the document's reference list numbers each entry once; a marker could not tell them apart",
                )
            numbered[number] = segment.line
            local = str(number)
        else:
            summarised += 1
            local = "summarised" if summarised == 1 else f"summarised-{summarised}"
        citation = segment.text[match.end() - 1 :].strip()
        doi = DOI_RE.search(citation)
        pmid = PMID_RE.search(citation)
        works.append(
            Work(
                f"{document.iri}/work/{local}",
                number,
                citation,
                doi.group(1) if doi else None,
                pmid.group(1) if pmid else None,
                tuple(dict.fromkeys(NCT_RE.findall(citation))),
                segment,
            )
        )
    return works


def markers_in(text: str) -> list[int]:
    """The work numbers that the citation markers of ``text`` cite, in order, without repeats.

    >>> markers_in("blocked [7].") , markers_in("targeting.[1][2]") , markers_in("shown [3, 5-7]")
    ([7], [1, 2], [3, 5, 6, 7])
    """
    numbers: list[int] = []
    for match in MARKER_RE.finditer(text):
        for item in re.split(r"\s*,\s*", match.group(1)):
            bounds = re.split(r"\s*[\u2013-]\s*", item)
            first, last = int(bounds[0]), int(bounds[-1])
            numbers.extend(range(first, min(last, first + 100) + 1) if last >= first else [first])
    return list(dict.fromkeys(numbers))


__all__ = ["DOI_RE", "MARKER_RE", "NCT_RE", "PMID_RE", "Work", "markers_in", "works_of"]
