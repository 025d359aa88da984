"""Strict RDF parsing shared by every stage that reads RDF files.

pyoxigraph is used because it follows the W3C grammars exactly (rdflib accepts some
malformed input) and reports the line and column of a syntax error.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from carnk_ld.errors import InputError, Location

_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES}


def parse_rdf_file(path: Path, *, display_path: Path | None = None, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse a Turtle or N-Triples file into triples; a syntax error names file, line, column.

    Without ``base_iri`` a relative IRI is an error: resolving it against the file's own
    location would make the release depend on where the corpus lives.
    """
    shown = display_path or path
    fmt = _FORMATS.get(path.suffix)
    if fmt is None:
        raise InputError(shown, f"unsupported RDF file extension {path.suffix!r}", "use .ttl or .nt")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(shown, f"cannot read file: {exc.strerror}") from None
    try:
        quads = ox.parse(data, format=fmt, base_iri=base_iri)
        return [q.triple for q in quads]
    except SyntaxError as exc:
        message = exc.msg or str(exc)
        raise InputError(Location(shown, exc.lineno, exc.offset), f"RDF syntax error: {message}") from None
