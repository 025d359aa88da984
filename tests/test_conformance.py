"""The strict loader against the W3C RDF 1.1 syntax test suites (read from ../shared).

Positive syntax and evaluation tests must load (evaluation tests must also give exactly the
expected triples); negative syntax tests must be rejected with an error naming file and line.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.errors import InputError
from carnk_ld.rdfio import parse_rdf_file
from tests.conftest import SHARED

SUITES = SHARED / "conformance" / "w3c-rdf-tests" / "rdf" / "rdf11"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
RDFT = "http://www.w3.org/ns/rdftest#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

POSITIVE = {RDFT + "TestTurtlePositiveSyntax", RDFT + "TestTurtleEval", RDFT + "TestNTriplesPositiveSyntax"}
NEGATIVE = {RDFT + "TestTurtleNegativeSyntax", RDFT + "TestNTriplesNegativeSyntax"}


def load_manifest(suite: str) -> list[tuple[str, str, Path, Path | None, str]]:
    """(test id, kind, action file, result file, base IRI) for every test of a suite."""
    directory = SUITES / suite
    if not directory.is_dir():
        return []
    base = f"https://w3c.github.io/rdf-tests/rdf/rdf11/{suite}/"
    triples = list(ox.parse(path=str(directory / "manifest.ttl"), base_iri=base + "manifest.ttl"))
    by_subject: dict[str, dict[str, str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, {})[t.predicate.value] = t.object.value
    tests = []
    for subject, props in sorted(by_subject.items()):
        kind = props.get(RDF_TYPE.value, "")
        if kind not in POSITIVE | NEGATIVE:
            continue
        action = props[MF + "action"]
        result = props.get(MF + "result")
        tests.append(
            (
                subject.rsplit("#", 1)[-1],
                kind,
                directory / action.removeprefix(base),
                directory / result.removeprefix(base) if result else None,
                action,
            )
        )
    return tests


CASES = load_manifest("rdf-turtle") + load_manifest("rdf-n-triples")
needs_suites = pytest.mark.skipif(not CASES, reason="../shared/conformance is absent in this clone")


@needs_suites
def test_the_suites_are_complete() -> None:
    kinds = [c[1].rsplit("#", 1)[-1] for c in CASES]
    assert kinds.count("TestTurtlePositiveSyntax") == 74
    assert kinds.count("TestTurtleNegativeSyntax") == 94
    assert kinds.count("TestTurtleEval") == 145
    assert kinds.count("TestNTriplesNegativeSyntax") == 29


@needs_suites
@pytest.mark.parametrize(("name", "kind", "action", "result", "base"), CASES, ids=[c[0] for c in CASES])
def test_w3c_syntax(name: str, kind: str, action: Path, result: Path | None, base: str) -> None:
    if kind in NEGATIVE:
        with pytest.raises(InputError) as info:
            parse_rdf_file(action, base_iri=base)
        assert info.value.location.path == action
        assert info.value.location.line is not None, info.value.render()
        assert "RDF syntax error" in info.value.message
        return
    triples = parse_rdf_file(action, base_iri=base)
    if result is not None:
        expected = [q.triple for q in ox.parse(path=str(result), format=ox.RdfFormat.N_TRIPLES)]
        assert canonical(triples) == canonical(expected), f"{name}: parsed triples differ from {result.name}"


def canonical(triples: list[ox.Triple]) -> set[ox.Quad]:
    """RDFC-1.0 canonical form, so graphs compare equal exactly when they are isomorphic.

    Both sides go through pyoxigraph, which lowercases language tags as RDF 1.1 allows
    ("the value space of language tags is always in lower case").
    """
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def test_relative_iris_need_a_base(tmp_path: Path) -> None:
    path = tmp_path / "rel.ttl"
    path.write_text("<a> <b> <c> .\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        parse_rdf_file(path)
    assert info.value.location.line == 1
