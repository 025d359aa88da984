"""Stage 4: validation on real assembled graphs; what each shape catches is tests/shapes/'s job.

The project's graph must conform whatever its size; a violation in the sample corpus's graph
is reported at the facts-file line that wrote the offending statement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.validate import load_shapes
from carnk_ld.vocab import CARNK
from tests.conftest import SAMPLE, line_of, write_sample_corpus
from tests.oracle import KnowledgeGraph, build_graph, load_corpus, validate_graph


@pytest.fixture(scope="module")
def shapes(project_root: Path):
    return load_shapes(project_root / "shapes")


def graph_of(root: Path) -> KnowledgeGraph:
    corpus = load_corpus(root)
    return build_graph(corpus.ontology, corpus.factsets, corpus.mappings)


def test_the_project_graph_conforms(project_root: Path, shapes) -> None:
    graph = graph_of(project_root)
    result = validate_graph(graph.all_triples(), shapes, graph.sources)
    assert result.conforms, result.text()


def test_violations_name_the_facts_file_and_line(project_root: Path, tmp_path: Path, shapes) -> None:
    graph = graph_of(write_sample_corpus(project_root, tmp_path / "sample"))
    statement = "https://w3id.org/carnk/kg/fact/sample/cart-crs"
    triples = [t for t in graph.all_triples() if not (t.subject.value == statement and t.predicate == CARNK.polarity)]
    assert len(triples) == len(graph.all_triples()) - 1
    result = validate_graph(triples, shapes, graph.sources)
    (violation,) = result.violations
    assert violation.focus == statement
    assert "exactly one polarity" in violation.message
    facts = SAMPLE / "facts" / "sample.yaml"
    assert str(violation.source) == f"facts/sample.yaml:{line_of(facts, '- id: cart-crs')}"
