"""Per-document parts of a build, kept in the content-addressed cache (:mod:`carnk_ld.cache`).

A corpus of thousands of documents is rebuilt after one of them changes. Everything a
document contributes depends only on its own text, its facts file, the ontology and
this code, and every node it creates is scoped to it (``kg:doc/<id>``,
``kg:fact/<id>/...``, ``kg:study/<id>/...``). So each document's *part* (its triples
as sorted N-Triples and N-Quads lines, its JSON-LD nodes and Turtle blocks, what the
gates need to know about it) is computed once and kept under a key that hashes all of
those inputs. A changed input gives a new key, so a stale part can never be found.

The key also hashes the package's own source files and the versions of the libraries
that shape the output, so a new release of carnk-ld or of pyoxigraph rebuilds every
part. Cache files carry a checksum of their content and are decoded, never executed; a
damaged or unreadable file is a miss, never an error and never a wrong answer.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.cache import Cache, digest
from carnk_ld.conflicts import measures_of
from carnk_ld.constants import BASE, DOCUMENTS_DIR, FACTS_DIR, GRAPH_FACTS, GRAPH_PROVENANCE, KG
from carnk_ld.documents import read_document
from carnk_ld.errors import Location
from carnk_ld.facts import FactSet, load_facts
from carnk_ld.graph import document_graph, sort_triples
from carnk_ld.ontology import Ontology
from carnk_ld.serialise import (
    NODE_SEPARATOR,
    Sections,
    graph_ntriples,
    jsonld_nodes,
    nested_node,
    nquads_of,
    sections_of,
    sorted_lines,
    tsv_row,
    turtle_blocks,
)
from carnk_ld.shacl import note_literal

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SCOPED = (KG + "doc/", KG + "fact/", KG + "study/")


def scope_of(iri: str) -> str | None:
    """The document an IRI belongs to (its id), or None for nodes shared by all documents.

    >>> scope_of("https://w3id.org/carnk/kg/fact/carnk-overview/x/evidence")
    'carnk-overview'
    >>> scope_of("https://w3id.org/carnk/kg/doc/carnk-overview") , scope_of("https://w3id.org/carnk/NKCell")
    ('carnk-overview', None)
    """
    if not iri.startswith(KG):
        return None
    for prefix in _SCOPED:
        if iri.startswith(prefix):
            return iri[len(prefix) :].split("/", 1)[0]
    return None


#: Parts are grouped into this many batches (by a hash of the document id) for gates that run
#: per part: a cold build runs each gate this many times, a rebuild after one edit once.
BATCHES = 64


def batch_of(doc_id: str) -> int:
    """The batch of a document: stable across builds, so an edit touches one batch only."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:4], "big") % BATCHES


def batched(parts: list[DocumentPart]) -> list[list[DocumentPart]]:
    """The parts grouped by :func:`batch_of`, batches in number order, parts in their order."""
    batches: dict[int, list[DocumentPart]] = {}
    for part in parts:
        batches.setdefault(batch_of(part.doc_id), []).append(part)
    return [batches[number] for number in sorted(batches)]


@dataclass(frozen=True)
class Summary:
    """The counts a document contributes to the build summary."""

    segment_kinds: dict[str, int]
    facts: int
    negated: int
    excluded: int
    studies: int
    plain: frozenset[tuple[str, str, str]]
    #: the document's measures of registered trials (:class:`carnk_ld.conflicts.Measure` fields)
    measures: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, factset: FactSet) -> Summary:
        """The counts of one resolved document."""
        facts = factset.facts
        return cls(
            dict(Counter(s.kind for s in factset.document.segments)),
            len(facts),
            sum(1 for f in facts if f.polarity == "Negated"),
            len(factset.exclusions),
            len(factset.studies),
            frozenset((f.subject, f.predicate, f.object) for f in facts if f.plain),
            tuple(tuple(m) for m in measures_of(factset)),
        )


@dataclass
class DocumentPart:
    """What one document contributes to a release, in the forms the later stages use."""

    doc_id: str
    key: str
    facts_path: Path
    summary: Summary
    coverage_tsv: bytes  # the document's rows of coverage.tsv
    doc_path: Path
    fact_lines: dict[str, int]  # node IRI -> its line in the facts file
    doc_lines: dict[str, int | None]  # node IRI -> its line in the document (None: the document itself)
    nt: Sections  # N-Triples lines of the document's triples (all its graphs)
    nq: Sections  # N-Quads lines
    own_triples: int  # distinct triples whose subject is the document's own
    own_counts: dict[str, int]  # per graph: distinct triples with an own subject
    shared: dict[str, tuple[ox.Triple, ...]]  # per graph: triples about nodes outside the document
    # per graph, per kind of own subject: first and last subject (N-Triples form), the JSON-LD
    # nodes as they stand in the graph's @graph (see serialise.nested_node)
    jsonld: dict[str, list[tuple[str, str, str]]]
    turtle: list[tuple[str, str, bytes]]  # per kind of own subject: first and last subject, Turtle blocks
    conjunctions: dict[frozenset[str], str]  # carnk: classes of an individual -> the least such individual
    local: str  # "" when the part refers to no other document's nodes and has no blank node, else why not
    shared_subject_predicates: frozenset[str]
    shared_object_predicates: frozenset[str]
    literals: frozenset[ox.Literal]  # literals a SPARQL store might rewrite (see shacl.note_literal)
    # per graph: a digest of its triples (equal digests, equal triples), so that an answer on
    # some graphs of every document is reused when an edit changed only others
    graph_digests: dict[str, str]

    def source(self, iri: str) -> Location | None:
        """Where one node was written."""
        line = self.fact_lines.get(iri)
        if line is not None:
            return Location(self.facts_path, line)
        if iri in self.doc_lines:
            return Location(self.doc_path, self.doc_lines[iri])
        return None

    def nquads(self) -> bytes:
        """All the part's N-Quads lines (own sections, then the shared lines)."""
        return self.nq.text()

    def quads(self) -> list[ox.Quad]:
        """The part's quads, parsed back from its N-Quads (for a gate whose cached answer is gone)."""
        return list(ox.parse(self.nquads(), format=ox.RdfFormat.N_QUADS))


def part_key(
    fingerprint: str, ontology_digest: str, doc_name: str, doc_bytes: bytes, facts_name: str, facts_bytes: bytes
) -> str:
    """The cache key of a document's part: everything the part is a function of."""
    return digest(
        fingerprint,
        "part",
        ontology_digest,
        doc_name,
        hashlib.sha256(doc_bytes).hexdigest(),
        facts_name,
        hashlib.sha256(facts_bytes).hexdigest(),
    )


def compute_part(doc_path: Path, facts_path: Path, ontology: Ontology, key: str) -> DocumentPart:
    """Read, resolve and render one document into its part."""
    document = read_document(doc_path, display_path=Path(DOCUMENTS_DIR) / doc_path.name)
    factset = load_facts(
        facts_path, {document.path.name: document}, ontology, display_path=Path(FACTS_DIR) / facts_path.name
    )
    graph = document_graph(factset)
    summary = Summary.of(factset)
    graphs = {GRAPH_FACTS: graph.facts, GRAPH_PROVENANCE: graph.provenance}
    return part_from_graphs(
        document.doc_id, key, graphs, graph.sources, graph.coverage, document.shown, factset.path, summary
    )


def part_from_graphs(
    doc_id: str,
    key: str,
    graphs: dict[str, list[ox.Triple]],
    sources: dict[str, Location],
    coverage: list[tuple[str, ...]],
    doc_path: Path,
    facts_path: Path,
    summary: Summary,
) -> DocumentPart:
    """A document's part from its triples per graph (distinct in each graph), whatever produced them."""
    everything = list(dict.fromkeys(t for triples in graphs.values() for t in triples))
    per_graph = graph_ntriples(graphs)
    nt_text = sorted_lines(b"".join(per_graph.values()))  # the graphs' lines, distinct: the union's
    nq_text = nquads_of(per_graph)

    own_iri = KG + "doc/" + doc_id
    own_prefixes = tuple(prefix + doc_id + "/" for prefix in _SCOPED)

    def kind_of_iri(value: str) -> str | None:
        """Which kind of own subject an IRI is, or None when not the document's.

        The document node is a kind of its own: ``kg:doc/a`` sorts after ``kg:doc/a0/...``,
        while the subjects of every other kind share the prefix ``.../<kind>/<id>/``, so
        two documents' ranges of one kind never interleave.
        """
        if value == own_iri:
            return "node"
        if value.startswith(own_prefixes[0]):
            return "doc"
        if value.startswith(own_prefixes[1]):
            return "fact"
        if value.startswith(own_prefixes[2]):
            return "study"
        return None

    last: list[object] = [None, None]  # lines of one subject are consecutive: remember the last subject's kind

    def kind_of_line(line: bytes) -> str | None:
        if not line.startswith(b"<"):
            return None
        subject = line[1 : line.index(b">")]
        if subject != last[0]:
            last[0], last[1] = subject, kind_of_iri(subject.decode("utf-8"))
        return last[1]  # type: ignore[return-value]

    nt = sections_of(nt_text, kind_of_line)
    nq = sections_of(nq_text, kind_of_line)

    local = ""
    shared_subject: set[str] = set()
    shared_object: set[str] = set()
    literals: set[ox.Literal] = set()
    shared: dict[str, tuple[ox.Triple, ...]] = {}
    own_counts: dict[str, int] = {}
    is_own: dict[object, bool] = {}  # per term: the document's own node? (terms repeat: memoised)

    def own_term(term: object) -> bool:
        found = is_own.get(term)
        if found is None:
            nonlocal local
            if isinstance(term, ox.BlankNode):
                local = local or f"blank node {term}"
            elif isinstance(term, ox.NamedNode):
                other = scope_of(term.value)
                if other is not None and other != doc_id:
                    local = local or f"{term} belongs to document {other}"
            found = is_own[term] = isinstance(term, ox.NamedNode) and kind_of_iri(term.value) is not None
        return found

    for name, triples in graphs.items():
        outside = []
        for t in triples:
            p = t.predicate.value
            if not own_term(t.subject):
                shared_subject.add(p)
                outside.append(t)
            if not own_term(t.object):
                shared_object.add(p)
            if isinstance(t.object, ox.Literal):
                note_literal(t.object, literals)
        shared[name] = tuple(outside)
        own_counts[name] = len(set(triples)) - len(set(outside))
    own_sorted = sort_triples(t for t in everything if is_own[t.subject])
    subjects = [t.subject for i, t in enumerate(own_sorted) if i == 0 or own_sorted[i - 1].subject != t.subject]
    blocks = turtle_blocks(own_sorted)
    if len(blocks) != len(subjects):  # pragma: no cover - a change in Oxigraph's Turtle layout
        raise RuntimeError(f"Turtle blocks of {doc_id} do not match its subjects ({len(blocks)} vs {len(subjects)})")
    turtle = [
        (str(subjects[start]), str(subjects[end - 1]), b"".join(blocks[start:end]))
        for start, end in _runs([kind_of_iri(_iri(subject)) for subject in subjects])
    ]
    jsonld: dict[str, list[tuple[str, str, str]]] = {}
    for name, triples in sorted(graphs.items()):
        in_graph = set(triples)
        nodes = list(jsonld_nodes([t for t in own_sorted if t in in_graph]))  # sorted already: filtered, not sorted
        runs = _runs([kind_of_iri(_iri(subject)) for subject, _ in nodes])
        texts = [nested_node(text) for _, text in nodes]
        if nodes:
            jsonld[name] = [
                (str(nodes[start][0]), str(nodes[end - 1][0]), NODE_SEPARATOR.join(texts[start:end]))
                for start, end in runs
            ]
    conjunctions: dict[frozenset[str], str] = {}
    types: dict[ox.NamedNode, set[str]] = {}
    for t in everything:
        if (
            t.predicate.value == _RDF_TYPE
            and isinstance(t.subject, ox.NamedNode)
            and isinstance(t.object, ox.NamedNode)
            and t.object.value.startswith(BASE)
        ):
            if not t.subject.value.startswith(KG):
                local = local or f"{t.subject} is typed with a carnk: class but is not a document's node"
            types.setdefault(t.subject, set()).add(t.object.value)
    for individual in sorted(types, key=str):
        conjunctions.setdefault(frozenset(types[individual]), individual.value)
    return DocumentPart(
        doc_id=doc_id,
        key=key,
        facts_path=facts_path,
        summary=summary,
        coverage_tsv=b"".join(tsv_row(row) for row in coverage),
        doc_path=doc_path,
        fact_lines={iri: loc.line for iri, loc in sources.items() if loc.path == facts_path},  # type: ignore[misc]
        doc_lines={iri: loc.line for iri, loc in sources.items() if loc.path != facts_path},
        nt=nt,
        nq=nq,
        own_triples=len(own_sorted),
        own_counts=own_counts,
        shared=shared,
        jsonld=jsonld,
        turtle=turtle,
        conjunctions=conjunctions,
        local=local,
        shared_subject_predicates=frozenset(shared_subject),
        shared_object_predicates=frozenset(shared_object),
        literals=frozenset(literals),
        graph_digests={name: digest(data) for name, data in sorted(per_graph.items())},
    )


def _iri(term: object) -> str:
    """The IRI of a named node; "" for any other term (a document's own subjects are named nodes)."""
    return term.value if isinstance(term, ox.NamedNode) else ""


def _runs(kinds: list[str | None]) -> list[tuple[int, int]]:
    """The (start, end) of each run of equal kinds in ``kinds``."""
    runs = []
    start = 0
    for end in range(1, len(kinds) + 1):
        if end == len(kinds) or kinds[end] != kinds[start]:
            runs.append((start, end))
            start = end
    return runs


__all__ = [
    "BATCHES",
    "Cache",
    "DocumentPart",
    "Summary",
    "batch_of",
    "batched",
    "compute_part",
    "digest",
    "part_from_graphs",
    "part_key",
    "scope_of",
]
