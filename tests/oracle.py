"""The oracle: the whole graph assembled, validated and serialised the straightforward way.

The build runs every gate over document shards and merges pre-rendered pieces into the
release; these functions do the same work the obvious way on one graph, so tests can
prove the build gives exactly the same bytes and the same gate results. Validation's
reference is pySHACL itself (:func:`carnk_ld.validate.pyshacl_validate`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from carnk_ld import qc
from carnk_ld import reason as reasoning
from carnk_ld.constants import (
    DOCUMENTS_DIR,
    FACTS_DIR,
    GRAPH_FACTS,
    GRAPH_MAPPINGS,
    GRAPH_METADATA,
    GRAPH_ONTOLOGY,
    GRAPH_PROVENANCE,
    MAPPINGS_DIR,
    MAPPINGS_FILE,
    ONTOLOGY_DIR,
    ONTOLOGY_FILE,
    PREFIXES,
)
from carnk_ld.corpusfiles import corpus_files
from carnk_ld.documents import Document, read_document
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.facts import FactSet, load_facts
from carnk_ld.graph import (
    _OrderedSet,
    canonical_ontology,
    document_graph,
    mapping_graph,
    metadata_graph,
    ontology_sources,
)
from carnk_ld.graph import sort_triples as fast_sort_triples
from carnk_ld.mappings import MappingSet, load_mappings
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.reason import Hierarchy, inferred_axioms
from carnk_ld.shacl import Unsupported
from carnk_ld.validate import ValidationResult, fast_validate, pyshacl_validate
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


def to_jsonld_dataset(graphs: dict[str, list[ox.Triple]]) -> bytes:
    """Compacted JSON-LD of named graphs: one ``{"@id": graph, "@graph": [nodes]}`` per non-empty graph."""
    from carnk_ld.serialise import jsonld_context

    named = []
    for name in sorted(graphs):
        if graphs[name]:
            document = json.loads(to_jsonld(graphs[name]))
            named.append({"@id": compact_iri(name), "@graph": document["@graph"]})
    document = {"@context": jsonld_context()["@context"], "@graph": named}
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def knowledge_graph_dump(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples of the one-graph dumps: all but the ontology header's (whose subject is the ontology IRI)."""
    from carnk_ld.constants import ONTOLOGY_IRI

    return [t for t in triples if t.subject != ox.NamedNode(ONTOLOGY_IRI)]


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


# -- the whole graph --------------------------------------------------------------------

@dataclass
class KnowledgeGraph:
    """The release content: triples per component, plus where each node came from."""

    ontology: list[ox.Triple]
    facts: list[ox.Triple]
    provenance: list[ox.Triple]
    mappings: list[ox.Triple] = field(default_factory=list)
    metadata: list[ox.Triple] = field(default_factory=list)
    sources: dict[str, Location] = field(default_factory=dict)
    coverage: list[tuple[str, ...]] = field(default_factory=list)

    def graphs(self) -> dict[str, list[ox.Triple]]:
        """The named graphs of the release, by graph IRI."""
        return {
            GRAPH_ONTOLOGY: self.ontology,
            GRAPH_FACTS: self.facts,
            GRAPH_PROVENANCE: self.provenance,
            GRAPH_MAPPINGS: self.mappings,
            GRAPH_METADATA: self.metadata,
        }

    def all_triples(self) -> list[ox.Triple]:
        """The union of all components, without duplicates, in a stable order."""
        return fast_sort_triples(dict.fromkeys(t for graph in self.graphs().values() for t in graph))


def build_graph(
    ontology: Ontology,
    factsets: list[FactSet],
    mapping_set: MappingSet | None = None,
    classes: Hierarchy | None = None,
) -> KnowledgeGraph:
    """Turn the ontology, resolved facts and mappings into the release's named graphs."""
    # Insertion-ordered sets: deterministic without sorting (every serialiser sorts its output).
    facts = _OrderedSet()
    prov = _OrderedSet()
    released = canonical_ontology(ontology, inferred_axioms(classes) if classes is not None else ())
    kg = KnowledgeGraph(released, [], [], sources=ontology_sources(ontology, mapping_set))
    for factset in sorted(factsets, key=lambda f: f.document.doc_id):
        part = document_graph(factset)
        facts.update(dict.fromkeys(part.facts))
        prov.update(dict.fromkeys(part.provenance))
        kg.sources.update(part.sources)
        kg.coverage.extend(part.coverage)
    kg.facts = list(facts)
    kg.provenance = list(prov)
    if mapping_set is not None:
        kg.mappings = mapping_graph(mapping_set)
    others = {name: graph for name, graph in kg.graphs().items() if name != GRAPH_METADATA}
    union = {t for graph in others.values() for t in graph}
    kg.metadata = metadata_graph(
        ontology,
        {name: len(set(graph)) for name, graph in others.items()},
        mapping_set,
        distinct=len(union),
        elsewhere=union.__contains__,
    )
    return kg



@dataclass
class Corpus:
    """All inputs of one tree, read and resolved."""

    root: Path
    ontology: Ontology
    documents: dict[str, Document]
    factsets: list[FactSet]
    mappings: MappingSet
    classes: Hierarchy


#: HermiT's classification of each ontology text the tests have classified (one JVM run per text).
_CLASSES: dict[str, Hierarchy] = {}


def classified(path: Path, display_path: Path | None = None) -> tuple[Ontology, Hierarchy]:
    """The ontology at ``path`` classified as a build classifies it, and the classification."""
    ontology = load_ontology(path, display_path=display_path)
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    if key not in _CLASSES:
        # through the module, so that the suite's reuse of HermiT's answers (tests/conftest.py) applies
        _CLASSES[key] = reasoning.reason(ontology, ontology.triples)
    return ontology.classified(_CLASSES[key].inferred_all), _CLASSES[key]


def load_corpus(root: Path) -> Corpus:
    """Read the ontology, documents and facts of a corpus tree; collect errors across files."""
    ontology, classes = classified(root / ONTOLOGY_DIR / ONTOLOGY_FILE, Path(ONTOLOGY_DIR) / ONTOLOGY_FILE)
    errors: list[InputError] = []
    documents: dict[str, Document] = {}
    for path in corpus_files(root / DOCUMENTS_DIR, (".txt",), Path(DOCUMENTS_DIR)):
        try:
            documents[path.name] = read_document(path, display_path=Path(DOCUMENTS_DIR) / path.name)
        except InputError as exc:
            errors.append(exc)
    if not documents and not errors:
        errors.append(InputError(DOCUMENTS_DIR, "the corpus has no documents", "add a *.txt file to documents/"))
    factsets: list[FactSet] = []
    covered: set[str] = set()
    for path in corpus_files(root / FACTS_DIR, (".yaml",), Path(FACTS_DIR)):
        shown = Path(FACTS_DIR) / path.name
        try:
            factset = load_facts(path, documents, ontology, display_path=shown)
        except InputErrors as exc:
            errors.extend(exc.errors)
            covered.add(path.stem + ".txt")
            continue
        except InputError as exc:
            errors.append(exc)
            covered.add(path.stem + ".txt")
            continue
        factsets.append(factset)
        covered.add(factset.document.path.name)
    for name, document in sorted(documents.items()):
        if name not in covered:
            errors.append(
                InputError(
                    Path(DOCUMENTS_DIR) / name,
                    f"document has no facts file ({len(document.segments)} segments unaccounted)",
                    f"curate its facts in facts/{document.doc_id}.yaml",
                )
            )
    mapping_set = None
    try:
        mapping_set = load_mappings(
            root / MAPPINGS_DIR / MAPPINGS_FILE, ontology, display_path=Path(MAPPINGS_DIR) / MAPPINGS_FILE
        )
    except InputErrors as exc:
        errors.extend(exc.errors)
    except InputError as exc:
        errors.append(exc)
    if errors or mapping_set is None:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return Corpus(root, ontology, documents, factsets, mapping_set, classes)




def dataset_store(kg: KnowledgeGraph) -> ox.Store:
    """An in-memory store with the release's named graphs."""
    store = ox.Store()
    for graph, triples in kg.graphs().items():
        name = ox.NamedNode(graph)
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
    return store


def run_checks(
    checks: list[qc.Check], store: ox.Store, ontology: Ontology, sources: dict[str, Location] | None = None
) -> list[qc.Finding]:
    """Every check over the union of the store's graphs (the whole graph, one store)."""
    rows = {check.rule: qc.check_rows(check, store) for check in checks}
    return qc.findings_of(checks, rows, ontology, sources or {})


def validate_graph(
    triples: list[ox.Triple], shapes: rdflib.Graph, sources: dict[str, Location] | None = None
) -> ValidationResult:
    """The fast engine on one graph where it is exact, else pySHACL (what a test compares against)."""
    try:
        return fast_validate(triples, shapes, sources)
    except Unsupported:
        return pyshacl_validate(triples, shapes, sources)


CONFLICTS_QUERY = """
PREFIX carnk: <https://w3id.org/carnk/>
PREFIX kg: <https://w3id.org/carnk/kg/>
SELECT ?trial ?type ?doc ?n ?d ?p ?value ?quote ?time ?unit ?bound ?subgroup ?among WHERE {
  ?study carnk:reportsOnTrial ?trial ; carnk:hasOutcome ?outcome .
  ?outcome a ?type .
  ?statement <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?outcome ; carnk:evidence ?evidence .
  ?evidence <http://www.w3.org/ns/oa#hasSelector> ?selector ; <http://www.w3.org/ns/oa#hasSource> ?doc .
  ?selector <http://www.w3.org/ns/oa#exact> ?quote .
  FILTER (STRSTARTS(STR(?type), STR(carnk:)))
  OPTIONAL { ?outcome carnk:numerator ?n }
  OPTIONAL { ?outcome carnk:denominator ?d }
  OPTIONAL { ?outcome carnk:percentage ?p }
  OPTIONAL { ?outcome carnk:timePoint ?time ; carnk:unit ?unit }
  OPTIONAL { ?outcome carnk:bound ?bound }
  OPTIONAL { ?outcome carnk:subgroup ?subgroup }
  OPTIONAL { ?outcome carnk:denominatorPopulation ?among }
  FILTER NOT EXISTS { ?outcome carnk:forArm ?arm }
}
"""


def conflicts_by_sparql(triples: list[ox.Triple]) -> list[tuple[str, ...]]:
    """conflicts.tsv's rows by a SPARQL query on the whole graph, independently of carnk_ld.conflicts.

    Two documents' measures of one trial conflict when they give one outcome type at one time
    point with a count, denominator or percentage that differs (the README's definition).
    """
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    measures = set()
    for row in store.query(CONFLICTS_QUERY):  # type: ignore[union-attr]
        names = ("trial", "type", "doc", "n", "d", "p", "quote", "time", "unit", "bound", "subgroup", "among")
        get = {name: row[name] for name in names}
        text = {k: (v.value if v is not None else "") for k, v in get.items()}
        time = ""
        if text["time"]:
            time = f"{text['time']} {text['unit'].rsplit('/', 1)[-1]}"
            if text["bound"]:
                time += f" ({text['bound'].rsplit('/', 1)[-1]})"
        value = f"{text['n']}/{text['d']}" if text["n"] and text["d"] else text["n"]  # as the README shows it
        if text["p"]:
            value = f"{value} ({text['p']}%)" if value else f"{text['p']}%"
        doc = text["doc"].rsplit("/", 1)[-1]
        key = (text["trial"], text["type"], time, text["subgroup"], text["among"])
        measures.add((*key, doc, text["n"], text["d"], text["p"], value, text["quote"]))
    rows = set()
    for a in measures:
        for b in measures:
            same = a[:5] == b[:5] and a[5] < b[5]
            if same and any(x and y and x != y for x, y in zip(a[6:9], b[6:9], strict=True)):
                rows.add((*a[:6], a[9], a[10], b[5], b[9], b[10]))
    return sorted(rows)


def oracle_release(root: Path, *, engine: str = "fast") -> dict[str, bytes]:
    """Every release file of ``root`` (RELEASE.json and SHA256SUMS included), computed on the whole graph the plain way.

    Gates: HermiT on every individual, SHACL on the whole graph (the fast engine, whose
    exactness to pySHACL ``tests/test_fast_shacl.py`` proves, or pySHACL itself), every QC
    check on one store. Serialisers: the straightforward ones above.
    """
    from carnk_ld.conflicts import CONFLICTS_HEADER
    from carnk_ld.constants import CHECKS_DIR, SHAPES_DIR
    from carnk_ld.reason import reason, reasoner_input
    from carnk_ld.release import CHECKSUMS, RELEASE_MARKER, AfterOthers
    from carnk_ld.serialise import COVERAGE_HEADER, ReleaseContent, small_files, to_tsv, tsv_row
    from carnk_ld.validate import load_shapes

    corpus = load_corpus(root)
    kg = build_graph(corpus.ontology, corpus.factsets, corpus.mappings, corpus.classes)
    everything = kg.all_triples()
    hierarchy = reason(corpus.ontology, reasoner_input(kg.ontology, kg.facts + kg.provenance))
    shapes = load_shapes(root / SHAPES_DIR)
    if engine == "fast":
        validation = fast_validate(everything, shapes, kg.sources)
    else:
        validation = pyshacl_validate(everything, shapes, kg.sources)
    checks = qc.load_checks(root / CHECKS_DIR)
    findings = run_checks(checks, dataset_store(kg), corpus.ontology, kg.sources)
    content = ReleaseContent(
        kg.ontology,
        kg.mappings,
        kg.metadata,
        validation,
        hierarchy,
        checks,
        findings,
        corpus.mappings,
        corpus.ontology,
    )
    files: dict[str, bytes] = {}
    later = {}
    for name, render in small_files(content).items():
        if isinstance(render, AfterOthers):
            later[name] = render
            continue
        data = render()
        files[name] = data if isinstance(data, bytes) else b"".join(data)
    files["coverage.tsv"] = ("\t".join(COVERAGE_HEADER) + "\n").encode("utf-8") + b"".join(
        tsv_row(row) for row in kg.coverage
    )
    files["conflicts.tsv"] = to_tsv(CONFLICTS_HEADER, conflicts_by_sparql(everything))
    files["carnk.ttl"] = to_turtle(knowledge_graph_dump(everything))
    files["carnk.nt"] = to_ntriples(knowledge_graph_dump(everything))
    files["carnk.nq"] = to_nquads(kg.graphs())
    files["carnk.jsonld"] = to_jsonld_dataset(kg.graphs())
    import hashlib

    files[RELEASE_MARKER] = b'{"format": 1, "tool": "carnk-ld"}\n'  # as the README documents it
    written = {name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()}
    for name, render in sorted(later.items()):
        files[name] = render.render(written)
    files[CHECKSUMS] = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)
    ).encode("ascii")
    return files
