"""A facts file to start curating a new document from: ``carnk-ld new documents/X.txt``.

The skeleton names the document and its checksum, stubs the document metadata, and lists
every segment as a comment with its number, line and text, so the curator edits the file
rather than starting from nothing. Under each segment come the facts drafted for it (or a
suggested exclusion for a heading or a list's introduction), commented out: uncommenting a
block accepts it. Everything else is a comment or an empty section, so the reader accepts
the skeleton as it is and ``carnk-ld check`` lists every segment still unaccounted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from carnk_ld.annotate import corpus_documents
from carnk_ld.constants import FACTS_DIR
from carnk_ld.corpusfiles import create_file
from carnk_ld.documents import Document, Segment
from carnk_ld.errors import InputError
from carnk_ld.facts import VALUE_CLASSES
from carnk_ld.licences import UNKNOWN
from carnk_ld.suggest import Suggestion, blocks, draft_for
from carnk_ld.yamlreader import yaml_string

#: Text that ends like a sentence; a short segment without such an ending reads as a heading.
_SENTENCE_END = re.compile(r"[.!?;:)\]\"'\u201d]\s*$")
#: Longest segment (in words) still offered as a heading.
_HEADING_WORDS = 12


def heading_like(segment: Segment) -> bool:
    """A short segment with no sentence ending: a title or a section heading."""
    text = segment.text.strip()
    return segment.kind == "sentence" and not _SENTENCE_END.search(text) and len(text.split()) <= _HEADING_WORDS


def suggested_exclusions(document: Document) -> dict[int, str]:
    """The reason suggested for excluding each segment that reads as a heading or introduces a list."""
    introduces = {s.list_intro for s in document.segments if s.list_intro is not None}
    found = {}
    for segment in document.segments:
        if segment.kind == "reference":
            continue
        if heading_like(segment):
            found[segment.index] = "heading"
        elif segment.index in introduces:
            found[segment.index] = "list-introduction"
    return found


def facts_skeleton(
    document: Document,
    document_path: Path,
    kinds: list[str],
    suggested: Mapping[int, str] | None = None,
) -> str:
    """The text of ``facts/<document>.yaml`` for a document without facts.

    ``kinds`` are the allowed ``metadata: kind:`` words; ``suggested`` maps a segment's number to
    its drafted facts as commented YAML list items (indented as items of ``facts:``).
    """
    suggested = suggested or {}
    reasons = suggested_exclusions(document)
    first = document.segments[0] if document.segments else None
    title = first.text.strip() if first is not None and heading_like(first) else None  # only the first segment
    lines = [
        f"# Facts curated from {document_path.as_posix()}.",
        "# Written by `carnk-ld new`: every segment is listed below as a comment. For each, uncomment the",
        "# drafted facts you accept (and correct them), add your own, or exclude the segment with a reason.",
        "# `carnk-ld check` lists the segments still unaccounted; CURATING.md lists every key and predicate.",
        f"document: {document.path.name}",
        f"sha256: {document.sha256}",
        "",
        "metadata:",
        "  # where the document comes from: its URL, doi:10.… or one line of text; unknown until you know",
        f"  source: {UNKNOWN}",
        "  # the IRI of the document's own licence, e.g. https://creativecommons.org/licenses/by/4.0/;",
        "  # unknown withholds its text from the release (CURATING.md: which licences republish it)",
        f"  licence: {UNKNOWN}",
        f"  {'' if title else '# '}title: {yaml_string(title or 'the document title')}",
        f'  # kind: ""  # one of: {", ".join(kinds)}',
    ]
    lines += ["", "facts:"]
    exclusions: list[str] = []
    for segment in document.segments:
        where = f"segment {segment.index}, line {segment.line}"
        if segment.kind == "reference":
            lines.append(f"  # {where}: a reference entry, read into a cited work: nothing to curate")
            continue
        lines.append(f"  # {where}: {yaml_string(segment.text)}")
        if segment.index in suggested:
            lines.append(suggested[segment.index].rstrip("\n"))
        reason = reasons.get(segment.index)
        if reason:
            lines.append(f"  #   (suggested below: excluded as a {reason})")
            exclusions += [
                f"  # - quote: {yaml_string(segment.text)}  # segment {segment.index}",
                f"  #   reason: {reason}",
            ]
    lines += [
        "",
        '# studies: the clinical studies the document reports (README: "Studies in a facts file")',
        "",
        "excluded:",
        *exclusions,
        "",
    ]
    return "\n".join(lines)


@dataclass
class NewFacts:
    """What ``carnk-ld new`` wrote."""

    facts_path: Path  # relative to the corpus root
    document_path: Path  # relative to the corpus root
    segments: int
    drafted: int  # segments with drafted facts
    exclusions: int  # suggested exclusions


def new_facts(root: Path, given: Path) -> NewFacts:
    """Write ``facts/<X>.yaml`` for the document ``given`` (see :func:`facts_skeleton`); never overwrites.

    Its segments get the facts :mod:`carnk_ld.suggest` drafts for them, commented out.
    """
    ((file, shown),) = corpus_documents(root, [given])
    facts_shown = Path(FACTS_DIR) / f"{file.stem}.yaml"
    if (root / facts_shown).exists() or (root / facts_shown).is_symlink():  # before reading anything of it
        raise InputError(
            facts_shown,
            "the facts file exists already; `carnk-ld new` never overwrites one",
            f"edit it, or run `carnk-ld suggest {shown.as_posix()}` to draft facts for its unaccounted segments",
        )
    drafted = draft_for(root, given)
    by_segment: dict[int, list[Suggestion]] = {}
    for suggestion in drafted.suggestions:
        by_segment.setdefault(suggestion.segment.index, []).append(suggestion)
    drafts = {index: "\n".join("  " + line for line in blocks(found)) for index, found in by_segment.items()}
    kinds = sorted(drafted.ontology.values(VALUE_CLASSES["kind"]))
    text = facts_skeleton(drafted.document, drafted.document.shown, kinds, drafts)
    drafted.facts_file.parent.mkdir(parents=True, exist_ok=True)
    create_file(drafted.facts_file, text.encode("utf-8"))
    exclusions = len(suggested_exclusions(drafted.document))
    return NewFacts(drafted.shown, drafted.document.shown, len(drafted.document.segments), len(drafts), exclusions)


__all__ = ["NewFacts", "facts_skeleton", "heading_like", "new_facts", "suggested_exclusions"]
