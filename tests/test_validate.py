"""Stage 4: validation on real assembled graphs; what each shape catches is tests/shapes/'s job.

The project's graph must conform whatever its size; a violation in the sample corpus's graph
is reported at the facts-file line that wrote the offending statement.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from carnk_ld.errors import InputError
from carnk_ld.scopes import service_line
from carnk_ld.shacl import fast_query_text, pyshacl_query_text
from carnk_ld.validate import load_shapes, pyshacl_validate
from carnk_ld.vocab import CARNK
from tests.conftest import SAMPLE, line_of, write_sample_corpus
from tests.oracle import KnowledgeGraph, build_graph, load_corpus, validate_graph


@pytest.fixture(scope="module")
def shapes(project_root: Path):
    return load_shapes(project_root / "shapes")


def graph_of(root: Path) -> KnowledgeGraph:
    corpus = load_corpus(root)
    return build_graph(corpus.ontology, corpus.factsets, corpus.mappings, corpus.classes)


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


def test_the_engines_texts_join_prefix_lines_to_the_query_as_they_run_them() -> None:
    """What the SERVICE check reads of a shape is what each engine runs: its prefix lines, then the query.

    A namespace opening a long string that the query closes hides SERVICE from a check of either
    text alone (the shapes loader refuses such a namespace first; this pins the joined texts).
    """
    shapes = rdflib.Graph().parse(
        data=(
            "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .\n"
            "ex:p sh:declare [ sh:prefix 'p' ; sh:namespace \"http://a/> SELECT $this WHERE { BIND('''\" ] .\n"
            "ex:t sh:prefixes ex:p ; sh:select \"\"\">''' AS ?z) SERVICE <http://e/> { $this ?p ?o } } #'''\"\"\" .\n"
        ),
        format="turtle",
    )
    node, select = next(iter(shapes.subject_objects(rdflib.URIRef("http://www.w3.org/ns/shacl#select"))))
    assert service_line(str(select)) is None
    fast, pyshacl = fast_query_text(shapes, node, str(select)), pyshacl_query_text(shapes, node, str(select))
    declaration = "PREFIX p: <http://a/> SELECT $this WHERE { BIND('''>\n"
    assert fast == declaration + str(select)
    assert pyshacl is not None and pyshacl.endswith(declaration + "\n" + str(select))
    assert "PREFIX owl: <http://www.w3.org/2002/07/owl#>" in pyshacl  # pySHACL's own predeclared prefixes
    assert service_line(fast) == 2 and service_line(pyshacl) == 6


SHAPE_HEAD = (
    "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    "@prefix ex: <https://example.org/> .\n"
    'ex:prefixes sh:declare [ sh:prefix "carnk" ; sh:namespace "https://w3id.org/carnk/"^^xsd:anyURI ] .\n'
    "ex:Shape a sh:NodeShape ; sh:targetNode ex:x ;\n"
    "  sh:sparql [ a sh:SPARQLConstraint ; sh:prefixes ex:prefixes ;\n"
)


@pytest.mark.parametrize(
    ("select", "newline", "line_text"),
    [
        pytest.param(
            '    sh:select """SELECT $this WHERE {\n'
            "      BIND (carnk:a\\\\# AS ?note) SERVICE <http://e/> { $this ?p ?o }\n"
            '    }""" ] .\n',
            "\n",
            "SERVICE <http://e/>",
            id="after-an-escaped-hash",
        ),
        pytest.param(
            '    sh:select """SELECT $this WHERE {\n'
            "      BIND (carnk:a\\\\' AS ?note) SERVICE <http://e/> { $this ?p ?o } FILTER (?note != 'x')\n"
            '    }""" ] .\n',
            "\r\n",
            "SERVICE <http://e/>",
            id="after-an-escaped-quote-in-a-crlf-file",
        ),
        pytest.param(
            '    sh:select "SELECT $this WHERE {\\n$this ?p ?o .\\n\\u0053ERVICE <http://e/> { $this ?p ?o } }" ] .\n',
            "\n",
            "sh:select",
            id="spelt-with-turtle-escapes-on-one-line",
        ),
        pytest.param(
            '    sh:select """SELECT $this WHERE { $this ?p ?o }""" ] .\n'
            'ex:prefixes sh:declare [ sh:prefix "s" ; sh:namespace "http://a/SERVICE\'"^^xsd:anyURI ] .\n',
            "\n",
            "http://a/SERVICE'",
            id="read-in-a-namespace",
        ),
    ],
)
def test_a_refused_service_names_the_line_of_its_keyword(
    tmp_path: Path, select: str, newline: str, line_text: str
) -> None:
    """The keyword's line, however Turtle escapes spell the query and however the engine's prefix lines precede it."""
    shapes_dir = tmp_path / "shapes"
    shapes_dir.mkdir()
    path = shapes_dir / "local.shapes.ttl"
    path.write_text((SHAPE_HEAD + select).replace("\n", newline), encoding="utf-8", newline="")
    with pytest.raises(InputError) as info:
        load_shapes(shapes_dir, display_dir=Path("shapes"))
    assert "SERVICE is refused" in info.value.message
    assert str(info.value.location) == f"shapes/local.shapes.ttl:{line_of(path, line_text)}"


def test_a_shape_pyshacl_cannot_load_is_one_error_at_its_line(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    """pySHACL logged its ConstraintLoadError raw to stderr and the error named no file, line or shape."""
    shapes_dir = tmp_path / "shapes"
    shapes_dir.mkdir()
    (shapes_dir / "local.shapes.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<https://example.org/Commented> a sh:NodeShape ; sh:targetNode <https://example.org/x> ;\n"
        '    sh:property [ sh:path rdfs:label ; sh:minCount 0 ; sh:message "Labels welcome." ] ;\n'
        "    sh:property [ sh:path rdfs:comment ;\n"
        '        sh:minCount "1" ; sh:message "A note." ] .\n',
        encoding="utf-8",
    )
    shapes = load_shapes(shapes_dir, display_dir=Path("shapes"))
    with pytest.raises(InputError) as info:
        pyshacl_validate([], shapes)
    assert str(info.value.location) == "shapes/local.shapes.ttl:6"
    assert "sh:minCount must be a literal" in info.value.message
    assert info.value.message.endswith("(shape <https://example.org/Commented>)")
    captured = capfd.readouterr()
    assert "ConstraintLoadError" not in captured.err + captured.out


def test_shapes_holding_unicode_line_separators_load_unchanged(tmp_path: Path) -> None:
    """U+2028 and U+2029 are valid in IRIs and literals; rdflib's N-Triples parser splits lines at them."""
    shapes_dir = tmp_path / "shapes"
    shapes_dir.mkdir()
    (shapes_dir / "local.shapes.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<https://example.org/Sep\u2028arated> a sh:NodeShape ; sh:targetNode <https://example.org/x> ;\n"
        '    sh:message "one\u2029two" .\n',
        encoding="utf-8",
    )
    shapes = load_shapes(shapes_dir, display_dir=Path("shapes"))
    shape = rdflib.URIRef("https://example.org/Sep\u2028arated")
    assert shapes.value(shape, rdflib.URIRef("http://www.w3.org/ns/shacl#message")) == rdflib.Literal("one\u2029two")
