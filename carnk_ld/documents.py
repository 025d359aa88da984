"""Stage 1: read source documents, checksum them and split them into segments.

Offsets are Unicode code points into the decoded text, which is what Python string
indices and the W3C Web Annotation ``TextPositionSelector`` use. A UTF-8 byte order mark
is a signature, not text: it is dropped before counting. Line ends are kept as they are
(``\\n`` or ``\\r\\n``), so offsets always index the text exactly as decoded; a segment
never includes the line end.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from carnk_ld.constants import KG
from carnk_ld.corpusfiles import not_utf8, read_input
from carnk_ld.errors import InputError, Location

DOC_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: A source document is a review or a trial summary; anything larger is a mistake (a data
#: dump, a binary file) and would make every quote lookup slow.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
BOM = "\ufeff"

#: A bullet or number that marks a line as a list item wherever it appears.
_BULLET_RE = re.compile(r"^(?:[-*\u2022\u2013]|\d{1,3}[.)])\s+")
#: Sentence end: terminal punctuation, closing quotes/brackets, citation markers like [1][2].
_SENTENCE_END_RE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?:\[\d+(?:[,\u2013-]\d+)*\])*")
#: A line that is an entry of a reference list: "[3] Zhu H, et al. ..." (numbered, cited by
#: markers) or "Reference: ..." (the publication a summary reports). Its full stops separate
#: authors and journal, not sentences: it is one segment.
REFERENCE_RE = re.compile(r"^(?:\[(?P<number>\d{1,4})\]|Reference:)\s+\S")
#: Tokens after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset({"e.g", "i.e", "al", "vs", "Dr", "Fig", "Figs", "approx", "cf", "No", "Ref", "Refs", "St"})


@dataclass(frozen=True)
class Segment:
    """A sentence or list item: the unit that facts cite and the coverage ledger accounts for."""

    index: int  # 1-based position in the document
    kind: str  # "sentence", "list_item" or "reference" (an entry of a reference list)
    start: int  # code-point offset of the first character
    end: int  # code-point offset just after the last character
    text: str
    line: int  # 1-based line of the document the segment is on
    list_intro: int | None = None  # index of the segment introducing the list


@dataclass(frozen=True)
class Document:
    """A checksummed source text with its segments."""

    doc_id: str
    path: Path
    sha256: str
    text: str
    segments: tuple[Segment, ...]
    had_bom: bool = False
    #: The path as messages name it (relative to the corpus root); ``path`` is the file read.
    display_path: Path | None = None

    @property
    def shown(self) -> Path:
        """The path as messages name it: relative to the corpus root when read from a corpus."""
        return self.display_path or self.path

    @property
    def iri(self) -> str:
        """Stable IRI derived from the file name, so it survives re-curation."""
        return f"{KG}doc/{self.doc_id}"

    def segment_iri(self, index: int) -> str:
        """IRI of segment ``index`` (1-based)."""
        return f"{self.iri}/segment/{index}"

    def line_of(self, offset: int) -> int:
        """1-based line number of a code-point offset."""
        return self.text.count("\n", 0, offset) + 1

    def segment_at(self, start: int, end: int) -> Segment | None:
        """The segment that contains ``[start, end)`` entirely, if any."""
        for segment in self.segments:
            if segment.start <= start and end <= segment.end:
                return segment
        return None


def read_document(path: Path, *, display_path: Path | None = None) -> Document:
    """Read, checksum and segment one document, rejecting what cannot be cited reliably."""
    shown = display_path or path
    doc_id = path.stem
    if not DOC_ID_RE.fullmatch(doc_id):
        raise InputError(
            shown,
            f"document name {doc_id!r} cannot be used in an IRI",
            "rename the file using letters, digits, '.', '_' and '-' only",
        )
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise InputError(
            shown,
            f"document is {size / 1048576:.1f} MiB, over the {MAX_DOCUMENT_BYTES // 1048576} MiB limit per document",
            "split it into documents of one article or trial summary each",
        )
    data = read_input(path, shown)
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(data, exc, shown, "document") from None
    had_bom = text.startswith(BOM)
    if had_bom:
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(
            Location(shown, text.count("\n", 0, nul) + 1),
            "document contains a NUL character",
            "this is a binary file or a corrupted copy; restore the original text",
        )
    if not text.strip():
        raise InputError(shown, "document is empty", "add the document's text or remove the file")
    segments = segment_text(text)
    if not segments:
        raise InputError(shown, "document has no segments (no sentence or list item found)")
    return Document(doc_id, path, digest, text, tuple(segments), had_bom, shown)


def segment_text(text: str) -> list[Segment]:
    """Split text into sentences and list items with code-point offsets.

    Lines are paragraphs. A line ending in ':' opens a list: the following lines without
    terminal punctuation (or with a bullet) are its items, until a blank line or a line of
    prose. Lines with a bullet ('- ', '* ', '1.') are list items anywhere. A line that is a
    reference entry (:data:`REFERENCE_RE`) is one segment.

    >>> segments = segment_text("Sources:\\nBlood\\nCord blood\\nIt works. Fine.")
    >>> [s.kind for s in segments]
    ['sentence', 'list_item', 'list_item', 'sentence', 'sentence']
    >>> [s.text for s in segments][3:]
    ['It works.', 'Fine.']
    """
    segments: list[Segment] = []
    list_intro: int | None = None
    offset = 0
    for line_no, raw in enumerate(text.split("\n"), start=1):
        line_start = offset
        offset += len(raw) + 1
        line = raw[:-1] if raw.endswith("\r") else raw
        stripped = line.strip()
        if not stripped:
            list_intro = None
            continue
        start = line_start + (len(line) - len(line.lstrip()))
        end = line_start + len(line.rstrip())
        if REFERENCE_RE.match(stripped):
            list_intro = None
            segments.append(Segment(len(segments) + 1, "reference", start, end, text[start:end], line_no))
            continue
        bullet = _BULLET_RE.match(stripped)
        in_list = list_intro is not None and not _ends_sentence(stripped)
        if bullet or in_list:
            item_start = start + (bullet.end() if bullet else 0)
            segments.append(
                Segment(len(segments) + 1, "list_item", item_start, end, text[item_start:end], line_no, list_intro)
            )
            continue
        list_intro = None
        for s_start, s_end in _split_sentences(text, start, end):
            segments.append(Segment(len(segments) + 1, "sentence", s_start, s_end, text[s_start:s_end], line_no))
        if stripped.endswith(":"):
            list_intro = len(segments)
    return segments


def _ends_sentence(line: str) -> bool:
    return bool(re.search(r"[.!?][\"'\u201d\u2019)\]]*(?:\[\d+\])*$", line))


def _split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END_RE.finditer(text, start, end):
        stop = match.end()
        rest = text[stop:end]
        following = rest.lstrip()
        if not following or len(following) == len(rest):
            continue  # end of line (handled below) or no space after the punctuation
        nxt = following[0]
        if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'\u201c\u2018(["):
            continue
        word = text[cursor : match.start()].rsplit(None, 1)[-1] if text[cursor : match.start()].strip() else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
            continue
        spans.append((cursor, stop))
        cursor = stop + (len(rest) - len(following))
    spans.append((cursor, end))
    return spans
