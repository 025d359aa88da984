"""The fast SHACL engine gives exactly pySHACL's results (issue 7's rule for faster validation).

Both engines run on the same graphs and their flattened results are compared whole:
severity, focus node, path, value, messages, node shape and source location. The graphs are
a generated corpus into which violations of every node shape (and every constraint kind they
use) have been injected, and the clean corpus; every shape case is compared by its runner in
tests/test_shapes.py.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from carnk_ld.errors import InputError
from carnk_ld.ontology import load_ontology
from carnk_ld.shacl import Unsupported, fast_results, malformed_shapes, oxigraph_reason
from carnk_ld.validate import ValidationResult, fast_validate, load_shapes, pyshacl_validate, to_rdflib
from tests.conftest import claim_of
from tests.test_shapes import comparable

N = ox.NamedNode
CARNK = "https://w3id.org/carnk/"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def shapes(project_root: Path) -> rdflib.Graph:
    return load_shapes(project_root / "shapes")


@pytest.fixture(scope="module")
def ontology_triples(project_root: Path) -> list[ox.Triple]:
    return load_ontology(project_root / "ontology" / "carnk.ttl").triples


def _both(triples: list[ox.Triple], shapes: rdflib.Graph, sources=None) -> tuple[ValidationResult, ValidationResult]:
    fast = fast_validate(triples, shapes, sources)
    slow = pyshacl_validate(triples, shapes, sources)
    return comparable(fast), comparable(slow)


def _first(triples: list[ox.Triple], predicate: str, obj: ox.Term | None = None) -> ox.Triple:
    return next(t for t in triples if t.predicate.value == predicate and (obj is None or t.object == obj))


def _unsupported_denial(triples: list[ox.Triple]) -> ox.Triple:
    """The claim of a denied (and not merely possible) statement that no firm statement makes."""
    about: dict[object, dict[str, object]] = {}
    for t in triples:
        about.setdefault(t.subject, {})[t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]] = t.object

    def claim(props: dict[str, object]) -> tuple[object, object, object]:
        return props.get("subject"), props.get("predicate"), props.get("object")

    statements = {s: p for s, p in about.items() if "polarity" in p and "subject" in p}
    low = {N(CARNK + "Uncommon"), N(CARNK + "MinimalOrNone")}
    firm = {
        claim(p)
        for p in statements.values()
        if p["polarity"] == N(CARNK + "Affirmed")
        and p.get("modality") != N(CARNK + "Possible")
        and p.get("frequency") not in low
    }
    props = next(
        p
        for p in statements.values()
        if p["polarity"] == N(CARNK + "Negated") and p.get("modality") != N(CARNK + "Possible") and claim(p) not in firm
    )
    return ox.Triple(*claim(props))  # type: ignore[arg-type]


def _inject(triples: list[ox.Triple]) -> tuple[list[ox.Triple], set[str]]:
    """Break the graph in every way the shapes check; return it and the node shapes that must fire."""
    data = set(triples)
    add, remove = data.add, data.discard
    typed = {}
    for t in triples:
        if t.predicate == RDF_TYPE:
            typed.setdefault(t.object.value, []).append(t.subject)
    doc = typed[CARNK + "Document"][0]
    remove(_first(triples, CARNK + "sha256"))  # DocumentShape minCount
    add(ox.Triple(doc, N("http://purl.org/dc/terms/title"), ox.Literal("second title")))  # maxCount
    add(ox.Triple(ox.BlankNode("doc"), RDF_TYPE, N(CARNK + "Document")))  # nodeKind, generic message
    sentence = typed[CARNK + "Sentence"][3]
    for t in [t for t in triples if t.subject == sentence and t.predicate.value == CARNK + "segmentText"]:
        remove(t)
        add(ox.Triple(sentence, t.predicate, ox.Literal("")))  # minLength
    for t in [t for t in triples if t.subject == sentence and t.predicate.value == CARNK + "segmentStart"]:
        remove(t)
        add(ox.Triple(sentence, t.predicate, ox.Literal("999999", datatype=N(XSD + "nonNegativeInteger"))))
    excluded = _first(triples, CARNK + "exclusionReason")
    remove(excluded)  # SegmentShape sh:or: neither derived from nor excluded
    item = typed[CARNK + "ListItem"][0]
    add(ox.Triple(item, N(CARNK + "segmentOf"), item))  # sh:class and maxCount
    evidence = typed[OA + "SpecificResource"][2]
    for t in [t for t in triples if t.subject == evidence and t.predicate.value == OA + "hasSelector"][:1]:
        remove(t)  # a qualified count falls short
    quote = typed[OA + "TextQuoteSelector"][5]
    add(ox.Triple(quote, N(OA + "prefix"), ox.Literal("another prefix")))
    add(ox.Triple(quote, N(OA + "suffix"), ox.Literal("3", datatype=N(XSD + "integer"))))  # datatype
    position = typed[OA + "TextPositionSelector"][7]
    for t in [t for t in triples if t.subject == position and t.predicate.value == OA + "end"]:
        remove(t)
        add(ox.Triple(position, t.predicate, ox.Literal("-4", datatype=N(XSD + "nonNegativeInteger"))))
    statements = typed[CARNK + "Statement"]
    add(ox.Triple(statements[0], N(CARNK + "polarity"), N(CARNK + "Uncertain")))  # sh:in and maxCount
    remove(_first([t for t in triples if t.subject == statements[1]], CARNK + "modality"))
    add(ox.Triple(statements[2], N("http://www.w3.org/1999/02/22-rdf-syntax-ns#object"), ox.Literal("x")))
    add(_unsupported_denial(triples))  # SPARQL: a denied claim no firm statement supports, as a plain triple
    add(claim_of(triples, CARNK + "modality", CARNK + "Possible"))  # SPARQL: a merely possible claim, plain
    study = typed[CARNK + "ClinicalStudy"][0]
    remove(_first([t for t in triples if t.subject == study], "http://www.w3.org/2000/01/rdf-schema#label"))
    outcome = typed[CARNK + "CompleteResponse"][0]
    for t in [t for t in triples if t.subject == outcome and t.predicate.value == CARNK + "numerator"]:
        remove(t)
        add(ox.Triple(outcome, t.predicate, ox.Literal("500", datatype=N(XSD + "nonNegativeInteger"))))  # SPARQL
    add(ox.Triple(typed[CARNK + "ClinicalStudy"][1], N(CARNK + "hasOutcome"), outcome))  # two studies
    observation = typed[CARNK + "AdverseEventObservation"][0]
    remove(_first([t for t in triples if t.subject == observation], CARNK + "patientsAffected"))  # minCount
    about_a_class = next(
        s
        for s in statements
        if any(
            t.subject == s
            and t.predicate.value.endswith("#subject")
            and t.object.value.startswith(CARNK)
            and "/kg/" not in t.object.value
            for t in triples
        )
    )
    add(ox.Triple(about_a_class, N(CARNK + "fromStudy"), study))  # SPARQL: a study's finding about a class
    add(ox.Triple(N(CARNK + "UndefinedThing"), RDF_TYPE, N("http://www.w3.org/2002/07/owl#Class")))
    record = _first(triples, "https://w3id.org/sssom/mappings").object
    add(ox.Triple(record, N("http://www.w3.org/2002/07/owl#annotatedProperty"), N(CARNK + "notSkos")))
    add(ox.Triple(N(CARNK + "kg/mappings"), N("https://w3id.org/sssom/mappings"), ox.Literal("a literal record")))
    fired = {
        "DocumentShape",
        "SegmentShape",
        "EvidenceShape",
        "TextQuoteSelectorShape",
        "TextPositionSelectorShape",
        "StatementShape",
        "ClinicalStudyShape",
        "ClinicalOutcomeShape",
        "AdverseEventObservationShape",
        "StudyFindingShape",
        "OntologyTermShape",
        "MappingRecordShape",
    }
    return sorted(data, key=str), fired


@pytest.mark.slow
def test_same_results_as_pyshacl_on_a_corpus_with_injected_violations(generated_graph, shapes) -> None:
    triples, must_fire = _inject(generated_graph.all_triples())
    fast, slow = _both(triples, shapes, generated_graph.sources)
    assert fast == slow, "\n".join(
        sorted({v.render() for v in fast.violations} ^ {v.render() for v in slow.violations})
    )
    fired = {v.shape.rsplit("/", 1)[-1] for v in fast.violations}
    assert must_fire <= fired, f"injected violations did not fire: {must_fire - fired}"
    messages = {v.message for v in fast.violations}
    leaks = {v.focus for v in fast.violations if "appears as a plain triple" in v.message}
    possible = {
        t.subject.value
        for t in triples
        if t.predicate.value == CARNK + "modality" and t.object.value == CARNK + "Possible"
    }
    assert leaks & possible and leaks - possible  # a merely possible claim and a denied one, both made plain
    assert any("more than the study's" in m for m in messages)  # SPARQL message with substituted values
    assert any(m.startswith("Value is not of Node Kind") for m in messages)  # pySHACL's generic message
    assert len(fast.violations) >= 20


@pytest.mark.slow
def test_same_results_on_the_clean_corpus(generated_graph, shapes) -> None:
    fast, slow = _both(generated_graph.all_triples(), shapes, generated_graph.sources)
    assert fast == slow and fast.conforms


BEYOND_THE_SUBSET = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://w3id.org/carnk/shapes/X> a sh:NodeShape ;
    sh:targetClass <https://w3id.org/carnk/Statement> ;
    sh:property [ sh:path <https://w3id.org/carnk/polarity> ; sh:hasValue <https://w3id.org/carnk/Affirmed> ;
                  sh:message "hasValue is not in the fast subset" ] .
"""


def test_shapes_beyond_the_subset_are_refused_by_the_fast_engine_and_validated_by_pyshacl(
    shapes, ontology_triples, sample_corpus: Path, cli
) -> None:
    extra = rdflib.Graph()
    extra.parse(data=BEYOND_THE_SUBSET, format="turtle")
    with pytest.raises(Unsupported):
        fast_results(ontology_triples, shapes + extra)
    (sample_corpus / "shapes" / "extra.shapes.ttl").write_text(BEYOND_THE_SUBSET, encoding="utf-8")
    negated = "polarity: negated"
    assert negated in (sample_corpus / "facts" / "sample.yaml").read_text(encoding="utf-8")
    refused = cli("build", "--root", str(sample_corpus), "--out", str(sample_corpus / "out"))
    assert refused.exit_code == 2, refused.output
    assert "hasValue" in refused.output and "--shacl-engine pyshacl" in refused.output
    assert not (sample_corpus / "out").exists()
    out = str(sample_corpus / "out")
    validated = cli("build", "--root", str(sample_corpus), "--out", out, "--shacl-engine", "pyshacl")
    assert validated.exit_code == 1, validated.output  # a negated statement has no carnk:Affirmed polarity
    assert "hasValue is not in the fast subset" in validated.output


def test_same_results_when_sparql_runs_on_a_shared_named_graph_store(generated_graph, shapes) -> None:
    """The build hands validation the QC store, where a triple in two graphs is seen twice."""
    triples, _ = _inject(generated_graph.all_triples())
    store = ox.Store()
    half = len(triples) // 2
    for name, part in (("https://w3id.org/carnk/kg/graph/a", triples[: half + 500]), ("urn:x:b", triples[half:])):
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, N(name)) for t in part)
    shared = comparable(fast_validate(triples, shapes, generated_graph.sources, store=store))
    alone = comparable(fast_validate(triples, shapes, generated_graph.sources))
    assert shared == alone
    assert any("more than the study's" in v.message for v in shared.violations)


RESTRICTION = """
<https://w3id.org/carnk/Statement> <http://www.w3.org/2000/01/rdf-schema#subClassOf> [
    a <http://www.w3.org/2002/07/owl#Restriction> ;
    <http://www.w3.org/2002/07/owl#onProperty> <https://w3id.org/carnk/polarity> ;
    <http://www.w3.org/2002/07/owl#someValuesFrom> <https://w3id.org/carnk/Polarity> ] .
"""
ON_RESTRICTIONS = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://w3id.org/carnk/shapes/RestrictionShape> a sh:NodeShape ;
    sh:targetClass <http://www.w3.org/2002/07/owl#Restriction> ;
    sh:sparql [ sh:message "a restriction on {?p}" ;
        sh:select "SELECT $this ?p WHERE { $this <http://www.w3.org/2002/07/owl#onProperty> ?p }" ] .
"""


@pytest.mark.slow
def test_a_blank_focus_node_of_a_sparql_constraint_is_reported_by_the_build_as_by_pyshacl(
    sample_corpus: Path, cli
) -> None:
    """An owl:Restriction of the ontology is a blank node; the stores the build queries must not rename it."""
    ontology = sample_corpus / "ontology" / "carnk.ttl"
    ontology.write_text(ontology.read_text(encoding="utf-8") + RESTRICTION, encoding="utf-8")
    (sample_corpus / "shapes" / "restrictions.shapes.ttl").write_text(ON_RESTRICTIONS, encoding="utf-8")
    reports = []
    for engine in ("fast", "pyshacl"):
        out = str(sample_corpus / engine)
        built = cli("build", "--root", str(sample_corpus), "--out", out, "--shacl-engine", engine)
        assert built.exit_code == 1, built.output
        reports.append(built.output[built.output.index("SHACL validation:") :].split("build failed")[0])
    assert reports[0] == reports[1]
    assert "a restriction on https://w3id.org/carnk/polarity" in reports[0]


def test_sparql_rows_naming_blank_nodes_the_data_does_not_hold_are_refused() -> None:
    """A store that relabels blank nodes on loading would make their results vanish: refused instead."""
    data = [q.triple for q in ox.parse(RESTRICTION.encode(), format=ox.RdfFormat.TURTLE)]
    store = ox.Store()
    store.bulk_load(RESTRICTION.encode(), format=ox.RdfFormat.TURTLE, to_graph=N("urn:x:g"))
    extra = rdflib.Graph().parse(data=ON_RESTRICTIONS, format="turtle")
    assert comparable(fast_validate(data, extra)) == comparable(pyshacl_validate(data, extra))
    with pytest.raises(Unsupported, match="blank node"):
        fast_validate(data, extra, store=store)


# -- small cases at the edges of the subset: the engines agree, or the fast engine refuses --------

ENGINE_CASES = sorted((Path(__file__).resolve().parent / "shapes" / "engine").glob("*.ttl"))
TEST = "https://w3id.org/carnk/test#"


@pytest.mark.parametrize("path", ENGINE_CASES, ids=[p.stem for p in ENGINE_CASES])
def test_engine_case(path: Path, tmp_path: Path) -> None:
    """Each tests/shapes/engine case holds shapes and data in one file and says what the engines must do.

    ``test:agree``: the same results, and ``test:conforms`` as stated; ``test:refused``: the fast
    engine raises Unsupported (the build then asks for ``--shacl-engine pyshacl``) and pySHACL
    validates; ``test:inputError``: reading the shapes or validating with either engine is a
    clean input error, because pySHACL itself cannot run them.
    """
    triples = [q.triple for q in ox.parse(path=str(path))]
    case = {t.predicate.value: t.object for t in triples if t.subject == N(TEST + "case")}
    data = [t for t in triples if t.subject != N(TEST + "case")]
    expected = case[TEST + "engines"].value.removeprefix(TEST)
    (tmp_path / "shapes").mkdir()
    (tmp_path / "shapes" / path.name).write_bytes(path.read_bytes())
    if expected == "inputError":
        with pytest.raises(InputError):
            shapes = load_shapes(tmp_path / "shapes")
            fast_validate(data, shapes)
        with pytest.raises(InputError):
            pyshacl_validate(data, to_rdflib(data))
        return
    shapes = load_shapes(tmp_path / "shapes")
    if expected == "refused":
        with pytest.raises(Unsupported):
            fast_validate(data, shapes)
        pyshacl_validate(data, shapes)
        return
    assert expected == "agree", expected
    fast, slow = comparable(fast_validate(data, shapes)), comparable(pyshacl_validate(data, shapes))
    assert fast == slow, f"fast:\n{fast.text()}\npyshacl:\n{slow.text()}"
    assert fast.conforms == (case[TEST + "conforms"].value == "true"), fast.text()


# -- generated shapes within the subset: the engines agree, or the fast engine refuses -------------

EX = "http://example.org/"
_CLASSES = [f"ex:C{i}" for i in range(3)]
_PREDICATES = [f"ex:p{i}" for i in range(3)]
_NODES = [f"ex:n{i}" for i in range(4)]
_LITERALS = [
    '"a"',
    '"Bc"',
    '""',
    '"a"@en',
    '"1"^^xsd:integer',
    '"01"^^xsd:integer',
    '"2.5"^^xsd:decimal',
    '"x"^^xsd:integer',
    '"true"^^xsd:boolean',
    '"-3"^^xsd:nonNegativeInteger',
]
_VALUES = _NODES + _CLASSES + _LITERALS
_DATATYPES = ["xsd:string", "xsd:integer", "xsd:decimal", "xsd:boolean", "rdf:langString", "xsd:nonNegativeInteger"]
_KINDS = ["sh:IRI", "sh:Literal", "sh:BlankNode", "sh:BlankNodeOrIRI", "sh:IRIOrLiteral", "sh:BlankNodeOrLiteral"]
_PATTERNS = ['"^a"', '"c$"', '"^[0-9]+$"', '"B"', '"^$"']
_PREFIXES = f"""@prefix ex: <{EX}> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def _constraint(draw, st) -> str:
    """One constraint of the subset (and a few beyond it, which the fast engine must refuse)."""
    kind = draw(
        st.sampled_from(
            [
                "minCount",
                "maxCount",
                "datatype",
                "nodeKind",
                "in",
                "class",
                "pattern",
                "minLength",
                "maxLength",
                "lessThan",
                "minInclusive",
                "hasValue",
            ]
        )
    )
    if kind in ("minCount", "maxCount", "minLength", "maxLength"):
        return f"sh:{kind} {draw(st.integers(0, 2))}"
    if kind == "datatype":
        return f"sh:datatype {draw(st.sampled_from(_DATATYPES))}"
    if kind == "nodeKind":
        return f"sh:nodeKind {draw(st.sampled_from(_KINDS))}"
    if kind == "in":
        return f"sh:in ({' '.join(draw(st.lists(st.sampled_from(_NODES + _CLASSES), max_size=3)))})"
    if kind == "class":
        return f"sh:class {draw(st.sampled_from(_CLASSES))}"
    if kind == "pattern":
        flags = draw(st.sampled_from(["", ' ; sh:flags "i"']))
        return f"sh:pattern {draw(st.sampled_from(_PATTERNS))}{flags}"
    if kind == "lessThan":
        return f"sh:lessThan {draw(st.sampled_from(_PREDICATES))}"
    if kind == "minInclusive":
        return f"sh:minInclusive {draw(st.sampled_from(_LITERALS[4:7]))}"
    return f"sh:hasValue {draw(st.sampled_from(_VALUES))}"


def _draw_case(draw, st) -> tuple[str, str]:
    """Shapes (Turtle) and data (Turtle) small enough for pySHACL to run in milliseconds."""
    shapes = []
    for index in range(draw(st.integers(1, 2))):
        target = draw(
            st.sampled_from(
                [f"sh:targetClass {c}" for c in _CLASSES]
                + [f"sh:targetNode {n}" for n in _NODES + _LITERALS[:2]]
                + [f"sh:targetSubjectsOf {p}" for p in _PREDICATES]
                + [f"sh:targetObjectsOf {p}" for p in _PREDICATES]
            )
        )
        parts = [f"ex:S{index} a sh:NodeShape", target]
        if draw(st.booleans()):
            parts += [_constraint(draw, st), f'sh:message "node {index}"']
        for number in range(draw(st.integers(0, 2))):
            path = draw(st.sampled_from(_PREDICATES + [f"[ sh:inversePath {p} ]" for p in _PREDICATES]))
            constraints = " ; ".join(_constraint(draw, st) for _ in range(draw(st.integers(1, 2))))
            parts.append(f'sh:property [ sh:path {path} ; {constraints} ; sh:message "property {index}.{number}" ]')
        shapes.append(" ;\n    ".join(parts) + " .")
    data = [f"{n} a {c} ." for n, c in draw(st.lists(st.tuples(st.sampled_from(_NODES), st.sampled_from(_CLASSES))))]
    if draw(st.booleans()):
        data.append("ex:C1 rdfs:subClassOf ex:C0 .")
    triples = st.tuples(st.sampled_from(_NODES), st.sampled_from(_PREDICATES), st.sampled_from(_VALUES))
    data += [f"{s} {p} {o} ." for s, p, o in draw(st.lists(triples, max_size=8))]
    return _PREFIXES + "\n".join(shapes), _PREFIXES + "\n".join(data)


def _engines_agree_or_fast_refuses(shapes_text: str, data_text: str) -> None:
    shapes = rdflib.Graph().parse(data=shapes_text, format="turtle")
    data = [q.triple for q in ox.parse(data_text.encode(), format=ox.RdfFormat.TURTLE)]
    try:
        malformed_shapes(
            [q.triple for q in ox.parse(shapes_text.encode(), format=ox.RdfFormat.TURTLE)],
            Path("shapes.ttl"),
            shapes_text,
        )
    except InputError:  # ill-formed SHACL, refused for both engines (pySHACL refuses it once a focus node needs it)
        return
    try:
        fast = comparable(fast_validate(data, shapes))
    except Unsupported:
        return
    slow = comparable(pyshacl_validate(data, shapes))
    assert fast == slow, f"{shapes_text}\n{data_text}\nfast:\n{fast.text()}\npyshacl:\n{slow.text()}"


def _property_test(examples: int):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def run(data) -> None:
        _engines_agree_or_fast_refuses(*_draw_case(data.draw, st))

    return run


test_generated_shapes_give_pyshacl_s_results_or_are_refused = _property_test(25)
test_generated_shapes_give_pyshacl_s_results_or_are_refused_at_length = pytest.mark.slow(_property_test(600))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        # Oxigraph's own message lists ~800 characters of Unicode ranges around "Prefix not found".
        ("PREFIX a: <http://a/>\nSELECT * WHERE { ?s a undeclared:x }", "undeclared prefix 'undeclared:'"),
        ("SELECT * WHERE { ?s a ?x . FILTER( }", "expected one of ABS, AVG"),
    ],
)
def test_oxigraph_parse_errors_are_short_and_name_an_undeclared_prefix(query: str, reason: str) -> None:
    with pytest.raises(SyntaxError) as caught:
        ox.Store().query(query)
    shown = oxigraph_reason(query, caught.value)
    assert reason in shown
    assert "\n" not in shown and len(shown) <= 220, shown
