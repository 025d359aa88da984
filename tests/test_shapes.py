"""Shapes are tested like pySHACL tests shapes: data files with their expected results.

Each ``tests/shapes/<shape>-<nn>.ttl`` holds data plus a ``test:case`` saying which shape it
exercises, whether it conforms, and the exact results expected (focus node, path, node
shape). The data is validated with the project's shapes and ontology; the results must match
exactly, and pySHACL must give the fast engine's results, result by result (this runner is
where tests/shapes/ cases run; tests/test_fast_shacl.py compares the engines on whole corpora).
A node shape without a violating case is a defect (it may check nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection

from carnk_ld.graph import canonical_ontology
from carnk_ld.ontology import load_ontology
from carnk_ld.reason import inferred_axioms
from carnk_ld.validate import ValidationResult, Violation, fast_validate, load_shapes, pyshacl_validate
from carnk_ld.vocab import compact_iri
from tests.conftest import PROJECT
from tests.oracle import classified

CASES_DIR = Path(__file__).resolve().parent / "shapes"
TEST = "https://w3id.org/carnk/test#"
SH = "http://www.w3.org/ns/shacl#"
CASE_FILES = sorted(CASES_DIR.glob("*.ttl"))


@dataclass
class ShapeCase:
    shape: str
    conforms: bool
    needs_ontology: bool
    expected: set[tuple[str, str, str]]
    data: list[ox.Triple]


def _path(triples: dict[str, dict[str, list[ox.Term]]], node: ox.Term) -> str:
    if isinstance(node, ox.NamedNode):
        return compact_iri(node.value)
    inverse = triples.get(node.value, {}).get(SH + "inversePath")
    assert inverse, f"unsupported expected path {node}"
    return "^" + compact_iri(inverse[0].value)


def read_case(path: Path) -> ShapeCase:
    triples = [q.triple for q in ox.parse(path=str(path))]
    props: dict[str, dict[str, list[ox.Term]]] = {}
    for t in triples:
        props.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
    case = props[TEST + "case"]
    shape = case[TEST + "shape"][0].value
    meta_subjects = {TEST + "case"}
    expected = set()
    for node in case.get(TEST + "expect", []):
        meta_subjects.add(node.value)
        spec = props[node.value]
        path_node = spec.get(TEST + "path", [None])[0]
        if path_node is not None and isinstance(path_node, ox.BlankNode):
            meta_subjects.add(path_node.value)
        focus = spec[TEST + "focus"][0].value
        expected.add(
            (
                focus,
                _path(props, path_node) if path_node else "",
                spec.get(TEST + "shape", [ox.NamedNode(shape)])[0].value,
            )
        )
    data = [t for t in triples if t.subject.value not in meta_subjects]
    return ShapeCase(
        shape=shape,
        conforms=case[TEST + "conforms"][0].value == "true",
        needs_ontology=case.get(TEST + "needsOntology", [ox.Literal("false")])[0].value == "true",
        expected=expected,
        data=data,
    )


@pytest.fixture(scope="module")
def shapes(project_root: Path):
    return load_shapes(project_root / "shapes")


@pytest.fixture(scope="module")
def ontology_triples(project_root: Path) -> list[ox.Triple]:
    """The ontology as a release publishes it: with the reasoner's subclass edges, which shapes may follow."""
    ontology, classes = classified(project_root / "ontology" / "carnk.ttl")
    return canonical_ontology(ontology, inferred_axioms(classes))


def comparable(result: ValidationResult) -> ValidationResult:
    """Results in a fixed order, blank nodes unlabelled: rdflib relabels them when pySHACL parses the data."""

    def fix(v: Violation) -> Violation:
        focus = "_:blank" if ":" not in v.focus else v.focus
        value = "_:blank" if v.value.startswith("_:") else v.value
        return replace(v, focus=focus, value=value)

    violations = sorted((fix(v) for v in result.violations), key=lambda v: (v.focus, v.path, v.message, v.value))
    return ValidationResult(result.conforms, tuple(violations))


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_shape_case(path: Path, shapes, ontology_triples) -> None:
    case = read_case(path)
    with_ontology = case.data + ontology_triples
    result = fast_validate(with_ontology, shapes)
    actual = {(v.focus, v.path, v.shape) for v in result.violations}
    assert result.conforms == case.conforms, result.text()
    assert actual == case.expected, result.text()
    blind = fast_validate(case.data, shapes)
    if case.needs_ontology:
        assert not {(v.focus, v.path, v.shape) for v in blind.violations} & case.expected, (
            "expected validation to miss subclass instances without the ontology; the case no longer shows why "
            "the ontology is part of the data graph"
        )
    for data, fast in ((with_ontology, result), (case.data, blind)):
        slow = pyshacl_validate(data, shapes)
        assert comparable(fast) == comparable(slow), f"fast:\n{fast.text()}\npyshacl:\n{slow.text()}"


def test_every_node_shape_has_a_conforming_and_a_violating_case(shapes) -> None:
    import rdflib

    node_shapes = {str(s) for s in shapes.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "NodeShape"))}
    cases = [read_case(p) for p in CASE_FILES]
    for shape in sorted(node_shapes):
        assert any(c.shape == shape and c.conforms for c in cases), f"{shape} has no conforming case"
        assert any(c.shape == shape and not c.conforms for c in cases), f"{shape} has no violating case"


def test_case_files_are_named_after_their_shape() -> None:
    for path in CASE_FILES:
        case = read_case(path)
        expected = case.shape.rsplit("/", 1)[-1].removesuffix("Shape").lower()
        assert path.stem.rsplit("-", 1)[0] == expected, path.name


# -- the shapes' lists of controlled values are the ontology's ---------------------------------


def test_the_shapes_controlled_values_are_the_ontology_s() -> None:
    shapes = rdflib.Graph()
    for path in sorted((PROJECT / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    sh = rdflib.Namespace(SH)
    listed = {
        str(shapes.value(node, sh.path)): [str(v) for v in Collection(shapes, values)]
        for node, values in shapes.subject_objects(sh["in"])
    }
    ontology = load_ontology(PROJECT / "ontology" / "carnk.ttl")
    carnk = "https://w3id.org/carnk/"
    for prop, cls in (("polarity", "Polarity"), ("modality", "Modality"), ("frequency", "Frequency")):
        assert listed[carnk + prop] == ontology.members(carnk + cls), prop


def test_the_hedges_of_the_statement_shape_are_the_ontology_s_low_frequencies() -> None:
    text = (PROJECT / "shapes" / "statements.shapes.ttl").read_text(encoding="utf-8")
    lists = re.findall(r"\?\w*[fF]requency (?:NOT )?IN \(([^)]*)\)", text)
    assert len(lists) == 2  # the hedged statement and its support
    ontology = load_ontology(PROJECT / "ontology" / "carnk.ttl")
    low = [compact_iri(iri) for iri in ontology.members("https://w3id.org/carnk/LowFrequency")]
    assert low == ["carnk:Uncommon", "carnk:MinimalOrNone"]
    assert all([v.strip() for v in values.split(",")] == low for values in lists)
