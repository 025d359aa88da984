"""Strict RDF parsing shared by every stage that reads RDF files.

pyoxigraph is used because it follows the W3C grammars exactly (rdflib accepts some
malformed input) and reports the line and column of a syntax error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.corpusfiles import read_input
from carnk_ld.errors import InputError, Location
from carnk_ld.scopes import PN_CHARS, PN_CHARS_U, code_lines, string_literals

_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}
RDF_SUFFIXES = tuple(_FORMATS)
_DOCTYPE_RE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
#: What ends a line for the RDF parsers (and so for every line an RDF error names): CR, LF or CRLF.
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of an RDF file's text as its parser numbers them (not splitlines: U+2028 ends no line)."""
    return _LINE_END.split(text)


def line_number(data: bytes, offset: int) -> int:
    """The 1-based line, as the RDF parser counts lines, of the byte at ``offset``."""
    return len(_LINE_END_BYTES.findall(data, 0, offset)) + 1


def parse_rdf_file(path: Path, *, display_path: Path | None = None, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse a Turtle or N-Triples file into triples; a syntax error names file, line, column.

    Without ``base_iri`` a relative IRI is an error: resolving it against the file's own
    location would make the release depend on where the corpus lives.
    """
    shown = display_path or path
    fmt = _FORMATS.get(path.suffix)
    if fmt is None:
        raise InputError(shown, f"unsupported RDF file extension {path.suffix!r}", "use .ttl or .nt")
    data = read_input(path, shown)
    if fmt != ox.RdfFormat.RDF_XML:
        _check_utf8(data, shown)
    if fmt == ox.RdfFormat.RDF_XML:
        match = _DOCTYPE_RE.search(data)
        if match:
            raise InputError(
                Location(shown, line_number(data, match.start())),
                "XML with a DOCTYPE or ENTITY declaration is refused",
                "entity expansion can take minutes for a few hundred bytes or read local files; remove the DOCTYPE",
            )
    if fmt == ox.RdfFormat.JSON_LD:
        _check_jsonld_contexts(data, shown)
    try:
        triples = [q.triple for q in ox.parse(data, format=fmt, base_iri=base_iri)]
    except SyntaxError as exc:
        message = exc.msg or str(exc)
        raise InputError(Location(shown, exc.lineno, exc.offset), f"RDF syntax error: {message}") from None
    for t in triples:
        if isinstance(t.object, ox.Triple):
            raise InputError(
                Location(shown, _rdf12_line(data, _RDF12_SYNTAX)),
                f"RDF 1.2 triple term as the object of {t.subject} {t.predicate} is not supported",
                "state the claim as a carnk:Statement in a facts file, or as plain triples",
            )
        if isinstance(t.object, ox.Literal) and t.object.direction is not None:
            # JSON-LD 1.1 and RDF 1.1 readers drop the direction or refuse the literal
            raise InputError(
                Location(shown, _rdf12_line(data, _DIRECTION)),
                f"RDF 1.2 directional language string {t.object} (the object of {t.subject} {t.predicate}) "
                "is not supported",
                f'write it as a language-tagged string without the direction: "..."@{t.object.language}',
            )
    return triples


# RDF 1.2 Turtle writes a triple term or reified triple with "<<", a reifier with "~" and an
# annotation with "{|"; outside IRIs, strings and comments nothing else in Turtle uses them.
_RDF12_SYNTAX = re.compile(r"<<|~|\{\|")
#: A language tag with a base direction ("x"@en--ltr), also RDF 1.2 only.
_DIRECTION = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*--(?:ltr|rtl)\b")


def _rdf12_line(data: bytes, syntax: re.Pattern[str]) -> int | None:
    """The line of the first RDF 1.2 ``syntax`` in a Turtle or N-Triples file (None if none is found)."""
    if data.startswith(b"<?xml") or data.lstrip().startswith((b"{", b"[")):
        return None  # RDF/XML and JSON-LD do not write RDF 1.2 this way
    code = code_lines(data.decode("utf-8", errors="replace"))
    found = syntax.search(code)
    return None if found is None else code.count("\n", 0, found.start()) + 1


_PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_SUBJECT_RE = re.compile(r"^(?:([A-Za-z][\w.-]*)?:([\w.-]*)|<([^>]+)>)\s")


def declared_prefixes(text: list[str]) -> dict[str, str]:
    """The prefixes a Turtle file's lines declare, each mapped to its namespace (the last declaration wins)."""
    prefixes: dict[str, str] = {}
    for line in text:
        declared = _PREFIX_RE.match(line)
        if declared:
            prefixes[declared.group(1) or ""] = declared.group(2)
    return prefixes


_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: RDF/XML's syntax names (its grammar's coreSyntaxTerms, rdf:Description, oldTerms) and rdf:li,
#: which a reader turns into rdf:_1, rdf:_2...: none of them can be a property element.
_NOT_PROPERTY_ELEMENTS = {
    _RDF_NS + name
    for name in (
        *("RDF", "ID", "about", "parseType", "resource", "nodeID", "datatype", "Description", "li"),
        *("aboutEach", "aboutEachPrefix", "bagID"),
    )
}
# XML's NameStartChar without ':' and its NameChar, what an NCName (an element name's local part)
# is made of, are Turtle's PN_CHARS_U and PN_CHARS with '.'.
_NAME_START = PN_CHARS_U
_NAME_CHAR = PN_CHARS + "."
_NAME_CHARS = re.compile(f"[{_NAME_CHAR}]*")
_A_NAME_START = re.compile(f"[{_NAME_START}]")


def rdfxml_predicate_problem(iri: str) -> str | None:
    """Why RDF/XML cannot write ``iri`` as a predicate, or None.

    RDF/XML writes a predicate as an element name: a namespace (bound to an XML prefix) and a
    local part that is an NCName, so the IRI has to end in one (a letter or '_', then letters,
    digits, '_', '-', '.'); and RDF/XML's own syntax names in the rdf: namespace are no properties.

    >>> rdfxml_predicate_problem("http://example.org/p/") is None
    False
    >>> rdfxml_predicate_problem("http://example.org/1a") is None
    True
    >>> rdfxml_predicate_problem(_RDF_NS + "li")
    "rdf:li is part of RDF/XML's syntax and cannot be written as a predicate"
    """
    if iri in _NOT_PROPERTY_ELEMENTS:
        return f"rdf:{iri[len(_RDF_NS) :]} is part of RDF/XML's syntax and cannot be written as a predicate"
    tail = _NAME_CHARS.match(iri[::-1])  # reversed: the name characters the IRI ends in, in linear time
    if tail is None or _A_NAME_START.search(tail.group()) is None:
        return (
            f"<{iri}> does not end in an XML name (a letter or '_', then letters, digits, '_', '-', '.'), "
            "which RDF/XML needs to write a predicate"
        )
    return None


def subject_lines(text: list[str]) -> dict[str, int]:
    """Map term IRIs to the first line (of ``text``'s lines) where they start a Turtle subject block.

    A subject may be written with any prefix the file declares (``c:Foo`` after
    ``@prefix c: <https://w3id.org/carnk/>``) or in full; each spelling maps to the same IRI.
    """
    lines: dict[str, int] = {}
    prefixes: dict[str, str] = {}
    for number, line in enumerate(text, start=1):
        declared = _PREFIX_RE.match(line)
        if declared:
            prefixes[declared.group(1) or ""] = declared.group(2)
            continue
        match = _SUBJECT_RE.match(line)
        if not match:
            continue
        if match.group(3):
            lines.setdefault(match.group(3), number)
        elif (match.group(1) or "") in prefixes:
            lines.setdefault(prefixes[match.group(1) or ""] + match.group(2).rstrip("."), number)
    return lines


def _check_utf8(data: bytes, shown: Path) -> None:
    """Turtle, N-Triples and JSON-LD are UTF-8 throughout; pyoxigraph does not look inside comments.

    A stray Latin-1 byte in a comment would otherwise pass the parser and fail whatever reads
    the file's text next (line lookups, shape checks), far from the cause.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = max(data.rfind(b"\n", 0, exc.start), data.rfind(b"\r", 0, exc.start)) + 1
        column = len(data[start : exc.start].decode("utf-8", errors="replace")) + 1
        raise InputError(
            Location(shown, line_number(data, exc.start), column),
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            "convert the file to UTF-8, for example with iconv -f latin1 -t utf-8",
        ) from None


def serialize_bytes(
    triples: Iterable[ox.Triple], *, format: ox.RdfFormat, prefixes: dict[str, str] | None = None
) -> bytes:
    """``ox.serialize`` to memory: with no output file it returns the bytes (its stub says ``bytes | None``)."""
    data = ox.serialize(triples, format=format, prefixes=prefixes)
    assert data is not None
    return data


def _check_jsonld_contexts(data: bytes, shown: Path) -> None:
    """Refuse JSON-LD whose ``@context`` is remote or uses ``@import``: parsing would fetch it."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(Location(shown, line), f"JSON syntax error: {exc}") from None

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "@context":
                    check(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    def check(context: object) -> None:
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, str):
                raise InputError(
                    shown, f"JSON-LD with a remote @context ({item}) is refused", "inline the context in the file"
                )
            if isinstance(item, dict) and "@import" in item:
                raise InputError(shown, f"JSON-LD @import of {item['@import']} is refused", "inline the context")

    walk(document)


def literal_position(
    text: str, lines: dict[str, int], subject: str, value: str, typed: bool = False
) -> tuple[int | None, int | None]:
    """Line and column (of its opening quote) of the first string from ``subject``'s declaration on valued ``value``.

    A string may be written with escapes (``"a\\nb"``, ``"\\u0041"``), so its text is not its value. A
    number written bare is no string: it is looked for as text, from the declaration on (its line
    only). A ``typed`` literal is looked for among strings followed by ``^^`` first, so that
    ``"1"^^xsd:interger`` is not confused with another term's ``"1"``.
    """
    start = lines.get(subject) or 1
    candidates = []
    for found, offsets in string_literals(text):
        if found == value and offsets:
            before = split_lines(text[: offsets[0]])
            line = len(before)
            if line >= start:
                quotes = 3 if text[max(0, offsets[0] - 3) : offsets[0]] in ('"""', "'''") else 1
                column = len(before[-1]) + 1 - quotes
                candidates.append((line, column, "^^" in text[offsets[-1] + 1 : offsets[-1] + 5]))
    for line, column, with_datatype in candidates:
        if with_datatype or not typed:
            return line, column
    if candidates:
        return candidates[0][0], candidates[0][1]
    return value_line(split_lines(text), lines, subject, value), None


def value_line(text: list[str], lines: dict[str, int], subject: str, *needles: str) -> int | None:
    """The first line from ``subject``'s declaration on that contains a needle, trying each needle in turn.

    Without one, the declaration's line.
    """
    start = lines.get(subject)
    for needle in needles:
        for number in range(start or 1, len(text) + 1):
            if needle in text[number - 1]:
                return number
    return start
