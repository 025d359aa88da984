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

import gc
import hashlib
import itertools
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.cache import Cache, digest
from carnk_ld.constants import BASE, DOCUMENTS_DIR, FACTS_DIR, GRAPH_FACTS, GRAPH_PROVENANCE, KG
from carnk_ld.documents import read_document
from carnk_ld.errors import Location
from carnk_ld.facts import FactSet, load_facts
from carnk_ld.graph import document_graph, sort_triples
from carnk_ld.ontology import Ontology
from carnk_ld.publish import jsonld_nodes, sorted_lines, sorted_nquads, tsv_row, turtle_blocks
from carnk_ld.shacl import _note_literal

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SCOPED = (KG + "doc/", KG + "fact/", KG + "study/")
#: Distinct IRI objects kept per predicate; more than this and a binder over it is unbounded.
MAX_OBJECTS = 256


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
    jsonld: list[tuple[str, str, str]]  # per kind of own subject: first and last subject (N-Triples form), nodes
    turtle: list[bytes]  # the Turtle blocks of the subjects of each ``jsonld`` section, same order
    conjunctions: dict[frozenset[str], str]  # carnk: classes of an individual -> the least such individual
    local: str  # "" when the part refers to no other document's nodes and has no blank node, else why not
    shared_subject_predicates: frozenset[str]
    shared_object_predicates: frozenset[str]
    objects: dict[str, frozenset[str] | None]  # IRI objects per predicate (None: more than MAX_OBJECTS)
    groups: dict[tuple[str, str | None], str]  # (predicate, class for rdf:type) -> digest of its N-Quads lines
    group_lines_at: dict[tuple[str, str | None], tuple[int, ...]]  # the indices of those lines in ``nq``
    literals: frozenset[ox.Literal]  # literals a SPARQL store might rewrite (see shacl._note_literal)

    @property
    def predicates(self) -> set[str]:
        """The predicates of the part's triples."""
        return {predicate for predicate, _ in self.groups}

    @property
    def classes(self) -> set[str]:
        """The classes the part's ``rdf:type`` triples name."""
        return {klass for predicate, klass in self.groups if predicate == _RDF_TYPE and klass is not None}

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

    def group_lines(self, keys: set[tuple[str, str | None]]) -> list[bytes]:
        """The N-Quads lines of the given (predicate, class) groups."""
        lines = self.nquads().split(b"\n")
        return [lines[i] for key in keys & self.group_lines_at.keys() for i in self.group_lines_at[key]]


@dataclass
class Sections:
    """Sorted serialised lines of a part: one chunk per kind of own subject, plus the lines about shared nodes.

    A part's own subjects of one kind (``kg:doc/<id>``, ``kg:fact/<id>/``, ``kg:study/<id>/``)
    are contiguous in any sorted order of all lines, so a release merges parts by sorting
    chunks on their first line (:func:`merge_sections`) instead of sorting every line.
    """

    chunks: list[tuple[bytes, bytes, bytes]]  # (first line, last line, lines joined with a newline after each)
    shared: bytes  # sorted lines about nodes outside the document, each ending in a newline

    def text(self) -> bytes:
        return b"".join(chunk for _, _, chunk in self.chunks) + self.shared


def _sections(sorted_text: bytes, own: Callable[[bytes], str | None]) -> Sections:
    """Cut sorted lines into chunks by the kind of their own subject; ``own`` gives it (None: shared)."""
    chunks: list[tuple[bytes, bytes, bytes]] = []
    shared: list[bytes] = []
    current: list[bytes] = []
    kind: str | None = None
    for line in sorted_text.split(b"\n"):
        if not line:
            continue
        this = own(line)
        if this is None:
            shared.append(line)
            continue
        if this != kind and current:
            chunks.append((current[0], current[-1], b"".join(x + b"\n" for x in current)))
            current = []
        kind = this
        current.append(line)
    if current:
        chunks.append((current[0], current[-1], b"".join(x + b"\n" for x in current)))
    return Sections(chunks, b"".join(x + b"\n" for x in shared))


def merge_sections(pieces: list[Sections], extra: bytes) -> list[bytes]:
    """The sorted distinct lines of all pieces plus ``extra`` (sorted lines), as chunks to write in order.

    Own chunks are ordered by their first line; each must end before the next begins
    (checked), otherwise every line is sorted instead. Shared lines, which several parts
    may repeat, are merged line by line.
    """
    loose = extra.split(b"\n")
    for piece in pieces:
        loose.extend(piece.shared.split(b"\n"))
    loose = sorted(set(loose) - {b""})
    items: list[tuple[bytes, bytes, bytes]] = [(line, line, line + b"\n") for line in loose]
    for piece in pieces:
        items.extend(piece.chunks)
    items.sort(key=lambda item: item[0])
    for before, after in itertools.pairwise(items):
        if not before[1] < after[0]:
            return [sorted_lines(b"".join(chunk for _, _, chunk in items))]
    return [chunk for _, _, chunk in items]


def _group_key(line: bytes) -> tuple[str, str | None]:
    """(predicate, class) of an N-Quads line whose subject is an IRI (parts have no blank nodes)."""
    _, predicate, rest = line.split(b" ", 2)
    iri = predicate[1:-1].decode("utf-8")
    if iri == _RDF_TYPE and rest.startswith(b"<"):
        return iri, rest[1 : rest.index(b">")].decode("utf-8")
    return iri, None


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


def compute_part(
    doc_path: Path, facts_path: Path, ontology: Ontology, key: str
) -> tuple[DocumentPart, dict[str, list[ox.Triple]]]:
    """Read, resolve and render one document; also return its triples per graph (for the gates)."""
    document = read_document(doc_path, display_path=Path(DOCUMENTS_DIR) / doc_path.name)
    factset = load_facts(
        facts_path, {document.path.name: document}, ontology, display_path=Path(FACTS_DIR) / facts_path.name
    )
    graph = document_graph(factset)
    summary = Summary.of(factset)
    graphs = {GRAPH_FACTS: graph.facts, GRAPH_PROVENANCE: graph.provenance}
    part = part_from_graphs(
        document.doc_id, key, graphs, graph.sources, graph.coverage, document.path, factset.path, summary
    )
    return part, graphs


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
    nt_text = sorted_lines(ox.serialize(everything, format=ox.RdfFormat.N_TRIPLES))
    nq_text = sorted_nquads(graphs)

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

    nt = _sections(nt_text, kind_of_line)
    nq = _sections(nq_text, kind_of_line)

    local = ""
    shared_subject: set[str] = set()
    shared_object: set[str] = set()
    objects: dict[str, set[str] | None] = {}
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
            obj = t.object
            if isinstance(obj, ox.NamedNode):
                seen = objects.get(p, set())
                if seen is not None:
                    seen.add(obj.value)
                    objects[p] = None if len(seen) > MAX_OBJECTS else seen
            elif isinstance(obj, ox.Literal):
                _note_literal(obj, literals)
        shared[name] = tuple(outside)
        own_counts[name] = len(set(triples)) - len(set(outside))
    own_sorted = sort_triples(t for t in everything if is_own[t.subject])
    nodes = list(jsonld_nodes(own_sorted))
    blocks = turtle_blocks(own_sorted)
    if len(blocks) != len(nodes):  # pragma: no cover - a change in Oxigraph's Turtle layout
        raise RuntimeError(f"Turtle blocks of {doc_id} do not match its subjects ({len(blocks)} vs {len(nodes)})")
    jsonld: list[tuple[str, str, str]] = []
    turtle: list[bytes] = []
    start = 0
    for end in range(1, len(nodes) + 1):
        if end == len(nodes) or kind_of_iri(nodes[end][0].value) != kind_of_iri(nodes[start][0].value):
            jsonld.append((str(nodes[start][0]), str(nodes[end - 1][0]), ",\n  ".join(t for _, t in nodes[start:end])))
            turtle.append(b"".join(blocks[start:end]))
            start = end
    groups: dict[tuple[str, str | None], list[bytes]] = {}
    group_lines_at: dict[tuple[str, str | None], list[int]] = {}
    for index, line in enumerate(nq.text().split(b"\n")):
        if line:
            group = _group_key(line)
            groups.setdefault(group, []).append(line)
            group_lines_at.setdefault(group, []).append(index)
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
        objects={p: (frozenset(v) if v is not None else None) for p, v in objects.items()},
        groups={k: hashlib.sha256(b"\n".join(v)).hexdigest() for k, v in groups.items()},
        group_lines_at={k: tuple(v) for k, v in group_lines_at.items()},
        literals=frozenset(literals),
    )


def load_parts(
    pairs: list[tuple[Path, Path]], ontology: Ontology, ontology_digest: str, cache: Cache
) -> tuple[list[DocumentPart], dict[str, dict[str, list[ox.Triple]]]]:
    """Every document's part, from the cache where its inputs are unchanged; fresh ones also with triples.

    Parts to compute are independent, so many of them are computed in worker processes
    (see :func:`map_parallel`); those come back without their triples, which the gates
    then read from the part's own N-Quads.
    """
    fingerprint = cache.fingerprint
    parts: list[DocumentPart | None] = []
    todo: list[tuple[int, Path, Path, str]] = []
    for doc_path, facts_path in pairs:
        key = part_key(
            fingerprint, ontology_digest, doc_path.name, doc_path.read_bytes(), facts_path.name, facts_path.read_bytes()
        )
        part = cache.get("part", key)
        if isinstance(part, DocumentPart) and part.key == key:
            parts.append(part)
        else:
            todo.append((len(parts), doc_path, facts_path, key))
            parts.append(None)
    fresh: dict[str, dict[str, list[ox.Triple]]] = {}
    if len(todo) >= PARALLEL_FROM:

        def compute(task: tuple[int, Path, Path, str]) -> DocumentPart:
            return compute_part(task[1], task[2], ontology, task[3])[0]

        computed = map_parallel(compute, todo)
    else:
        computed = []
        for _, doc_path, facts_path, key in todo:
            part, graphs = compute_part(doc_path, facts_path, ontology, key)
            fresh[part.doc_id] = graphs
            computed.append(part)
    for (index, *_), part in zip(todo, computed, strict=True):
        cache.put("part", part.key, part)
        parts[index] = part
    return parts, fresh  # type: ignore[return-value]


#: Below this many independent tasks, worker processes cost more than they save.
PARALLEL_FROM = 16
_TASK: list[Callable[[object], object]] = []


def _run_task(item: object) -> tuple[bool, object]:
    try:
        return True, _TASK[0](item)
    except Exception as exc:  # errors do not always survive pickling: send their text
        return False, f"{type(exc).__name__}: {exc}"


def map_parallel(function: Callable, items: list) -> list:
    """``[function(item) for item in items]`` over the machine's cores, in order.

    Worker processes are forked, so ``function`` (a closure over the build's state) is not
    pickled, only the items and results are: keep items small (indices into that state).
    Where fork is not available, or on one core, it runs in this process. A task that
    fails makes the whole call fail with its message.
    """
    import multiprocessing

    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    _TASK[:] = [function]
    # The workers inherit every object of this process; without freezing, their garbage
    # collector walks (and so copies) all of those pages, which made two workers slower
    # than one process on a 1M-triple corpus.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_run_task, items, chunksize=max(1, len(items) // (workers * 8)))
    finally:
        gc.unfreeze()
        _TASK.clear()
    failed = [message for ok, message in results if not ok]
    if failed:
        raise ParallelTaskFailed(failed[0])
    return [value for _, value in results]


class ParallelTaskFailed(RuntimeError):
    """A task of :func:`map_parallel` raised; the message is the task's error."""


__all__ = [
    "BATCHES",
    "Cache",
    "DocumentPart",
    "ParallelTaskFailed",
    "batch_of",
    "batched",
    "compute_part",
    "digest",
    "load_parts",
    "map_parallel",
    "scope_of",
]
