"""The straightforward implementations the optimised build must match byte for byte.

Issue 7 made the build fast; these are the versions from before, kept verbatim so tests
can prove the optimised serialisers and sort produce the same bytes, and so anyone can
rebuild a release the slow, obvious way (``CARNK_LD_REFERENCE=1``) to compare. Validation's
reference is pySHACL itself (:func:`carnk_ld.validate.pyshacl_validate`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyoxigraph as ox

from carnk_ld.constants import PREFIXES
from carnk_ld.vocab import RDF, compact_iri

_XSD_STRING = PREFIXES["xsd"] + "string"


def sort_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Sort triples so serialisations are byte-identical across runs (rdf:type first)."""

    def key(t: ox.Triple) -> tuple[int, str, int, str, str]:
        subject_rank = 1 if isinstance(t.subject, ox.BlankNode) else 0
        return (subject_rank, str(t.subject), 0 if t.predicate == RDF.type else 1, str(t.predicate), str(t.object))

    return sorted(set(triples), key=key)


def _node_ref(term: ox.NamedNode | ox.BlankNode) -> str:
    return compact_iri(term.value) if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def _jsonld_value(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == _XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": compact_iri(term.datatype.value)}
    return {"@id": _node_ref(term)}


def to_jsonld(triples: list[ox.Triple]) -> bytes:
    """Compacted JSON-LD 1.1 with the published context inlined (no remote context to fetch)."""
    from carnk_ld.serialise import jsonld_context

    nodes: dict[str, dict[str, list[object]]] = {}
    types: dict[str, list[str]] = {}
    for t in sort_triples(triples):
        ref = _node_ref(t.subject)
        props = nodes.setdefault(ref, {})
        if t.predicate == RDF.type and not isinstance(t.object, ox.Literal):
            types.setdefault(ref, []).append(_node_ref(t.object))
        else:
            props.setdefault(compact_iri(t.predicate.value), []).append(_jsonld_value(t.object))
    graph = []
    for ref, props in nodes.items():
        node: dict[str, object] = {"@id": ref}
        if ref in types:
            node["@type"] = types[ref][0] if len(types[ref]) == 1 else types[ref]
        for key in sorted(props):
            values = props[key]
            node[key] = values[0] if len(values) == 1 else values
        graph.append(node)
    document = {"@context": jsonld_context()["@context"], "@graph": graph}
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def to_turtle(triples: list[ox.Triple]) -> bytes:
    """Readable Turtle with the project's prefixes."""
    from carnk_ld.serialise import generated_header as _header

    return _header("Turtle: ontology, facts and provenance") + ox.serialize(
        sort_triples(triples), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES
    )


def to_ntriples(triples: list[ox.Triple]) -> bytes:
    """Canonical N-Triples, one triple per line, lines sorted (diff-friendly)."""
    from carnk_ld.serialise import lines_of

    lines = lines_of(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    return ("\n".join(sorted(set(lines))) + "\n").encode("utf-8")


def to_nquads(graphs: dict[str, list[ox.Triple]]) -> bytes:
    """N-Quads with one named graph per release component, lines sorted."""
    from carnk_ld.serialise import lines_of

    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for g, ts in graphs.items() for t in ts]
    lines = lines_of(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return ("\n".join(sorted(set(lines))) + "\n").encode("utf-8")
