"""The fast serialisers and sort write exactly the bytes of the straightforward ones, on any graph.

``tests/oracle.py`` keeps the straightforward serialisers and sort; whole releases are
compared with the oracle in ``tests/test_pipeline.py``.
"""

from __future__ import annotations

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from carnk_ld.graph import sort_triples
from carnk_ld.reason import representatives
from carnk_ld.serialise import to_jsonld
from tests import oracle as reference

_iri = st.sampled_from(
    [
        "https://w3id.org/carnk/A",
        "https://w3id.org/carnk/kg/x",
        "http://example.org/é",
        "urn:x:1",
        "https://w3id.org/carnk/",
    ]
).map(ox.NamedNode)
_blank = st.sampled_from(["b0", "b1", "x"]).map(ox.BlankNode)
_literal = st.one_of(
    st.text(max_size=8).map(ox.Literal),
    st.tuples(st.text(max_size=4), st.sampled_from(["en", "de-ch"])).map(lambda v: ox.Literal(v[0], language=v[1])),
    st.integers(-5, 5).map(
        lambda i: ox.Literal(str(i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    ),
)
_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_triple = st.builds(
    ox.Triple,
    st.one_of(_iri, _blank),
    st.one_of(_iri, st.just(_type)),
    st.one_of(_iri, _blank, _literal),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_triple, max_size=12))
def test_sort_and_jsonld_match_the_reference_on_any_graph(triples: list[ox.Triple]) -> None:
    assert sort_triples(set(triples)) == reference.sort_triples(triples)
    assert to_jsonld(list(set(triples))) == reference.to_jsonld(triples)


def test_reasoner_sees_one_individual_per_class_conjunction() -> None:
    kg = "https://w3id.org/carnk/kg/"
    a, b = ox.NamedNode("https://w3id.org/carnk/A"), ox.NamedNode("https://w3id.org/carnk/B")
    triples = [ox.Triple(ox.NamedNode(f"{kg}i{n}"), _type, a) for n in range(5)]
    triples += [ox.Triple(ox.NamedNode(f"{kg}j{n}"), _type, t) for n in range(3) for t in (a, b)]
    triples.append(ox.Triple(a, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"), ox.NamedNode(f"{kg}j2")))
    kept = {t.subject.value.removeprefix(kg) for t in representatives(triples) if t.predicate == _type}
    # one plain A, one A-and-B, and j2 because the ontology part mentions it
    assert kept == {"i0", "j0", "j2"}
