"""The optimised build writes exactly the bytes the straightforward implementation writes.

``carnk_ld.reference`` keeps the pre-optimisation serialisers and sort verbatim; the
fast engine's reference is pySHACL. These tests render whole releases both ways, on the
project corpus and on a generated multi-document corpus, and compare every file.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from carnk_ld import reference
from carnk_ld.graph import sort_triples
from carnk_ld.pipeline import check_corpus
from carnk_ld.publish import render_release, to_jsonld
from carnk_ld.reason import representatives
from tests.conftest import PROJECT


def _render(checked, *, ref: bool) -> dict[str, bytes]:
    return {name: make() for name, make in render_release(checked, reference=ref).items()}


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("optimised") / "corpus"
    generate(12000, root, seed=5)
    return root


@pytest.mark.parametrize("which", ["project", "generated"])
def test_release_bytes_equal_the_reference_path(which: str, generated_root: Path, monkeypatch) -> None:
    root = PROJECT if which == "project" else generated_root
    checked = check_corpus(root)
    fast = _render(checked, ref=False)
    slow = _render(checked, ref=True)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], f"{name} differs from the reference serialisation"
    assert checked.triples == reference.sort_triples(checked.triples)
    if which == "generated":
        assert len(checked.corpus.documents) >= 2
        monkeypatch.setenv("CARNK_LD_SHACL", "pyshacl")  # the whole check again, validated by pySHACL
        assert check_corpus(root).validation == checked.validation


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
