"""The reasoning, SHACL and QC gates, each one function over shards.

A *shard* is one document's part (its segments, statements and provenance; see
:mod:`carnk_ld.parts`) together with the *global part* G: the ontology, mappings and
metadata graphs. A build with many documents has many shards; the gates give exactly
the answer they would give on the union of all shards, because:

- **Reasoning.** HermiT's input is the ontology plus one individual per distinct set of
  asserted classes (an ABox of class assertions only is consistent exactly when each
  conjunction is satisfiable); when it finds a problem it is run again on every
  individual, so the error names them all.
- **Core SHACL.** A document's part mentions no other document's nodes, and when no part
  has a triple about a shared node (an ontology term, a literal) with a predicate the
  shapes read there, every constraint at a document's node reads only that document's
  triples and G: documents are validated in batches, shared nodes against G alone.
  Otherwise all documents form one shard.
- **SPARQL (shape targets and constraints, QC checks).** A query that declares
  ``# scope: document`` (see :mod:`carnk_ld.scopes`) is evaluated on every shard and the
  answers united; any other query runs on a store of the whole graph.

Answers are memoised in the build cache under the digest of everything they read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox
import rdflib

from carnk_ld import qc
from carnk_ld.constants import GRAPH_MAPPINGS, GRAPH_METADATA, GRAPH_ONTOLOGY, KG
from carnk_ld.errors import InputError, Location, QualityGateFailed
from carnk_ld.ontology import Ontology
from carnk_ld.parts import Cache, DocumentPart, batched, digest, scope_of
from carnk_ld.rdfio import serialize_bytes
from carnk_ld.reason import Hierarchy, reason, reasoner_input
from carnk_ld.scopes import Scope, declared_graphs, declared_scope
from carnk_ld.serialise import sorted_lines, sorted_nquads
from carnk_ld.shacl import (
    ShapeParser,
    Unsupported,
    Validator,
    bag_safe,
    check_store_keeps,
    lenient_shapes,
    query_rows,
    reads_of,
    rewritable_literals,
    shape_queries,
    walk_shapes,
)
from carnk_ld.validate import ShapesGraph, ValidationResult, Violation, pyshacl_validate, result_of, violations_of
from carnk_ld.workers import Workers

#: The graphs of G that every document shard is evaluated with; the metadata graph is a
#: shard of its own (its triple counts change with every document).
BASE_GRAPHS = (GRAPH_ONTOLOGY, GRAPH_MAPPINGS)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

Row = TypeVar("Row")


@dataclass
class Global:
    """G: the graphs every shard shares, rebuilt on every build (they are small)."""

    graphs: dict[str, list[ox.Triple]]
    triples: list[ox.Triple]  # the distinct triples of G
    nq: bytes  # sorted N-Quads lines of G
    nt: bytes  # sorted N-Triples lines of G

    @classmethod
    def of(cls, graphs: dict[str, list[ox.Triple]]) -> Global:
        """G from its named graphs."""
        triples = list(dict.fromkeys(t for graph in graphs.values() for t in graph))
        nt = sorted_lines(serialize_bytes(triples, format=ox.RdfFormat.N_TRIPLES))
        return cls(graphs, triples, sorted_nquads(graphs), nt)

    def lines_in(self, graphs: tuple[str, ...]) -> list[bytes]:
        """G's N-Quads lines in the given graphs (by IRI)."""
        return _lines_in(self.nq, graphs)


def _lines_in(text: bytes, graphs: tuple[str, ...]) -> list[bytes]:
    """The lines of N-Quads ``text`` in the given graphs (by IRI)."""
    suffixes = tuple(f" <{g}> .".encode() for g in graphs)
    return [line for line in text.split(b"\n") if line.endswith(suffixes)]


def _graph_iris(names: tuple[str, ...]) -> tuple[str, ...]:
    """The IRIs of release graphs named as a query's ``# graphs:`` header names them."""
    return tuple(f"{KG}graph/{name}" for name in names)


class Sources:
    """Where a node was written: its document's part, else the ontology."""

    def __init__(self, parts: list[DocumentPart], glob: dict[str, Location]):
        self.parts = {p.doc_id: p for p in parts}
        self.glob = glob

    def get(self, iri: str) -> Location | None:
        """The file and line of a node, if known."""
        scope = scope_of(iri)
        part = self.parts.get(scope) if scope is not None else None
        if part is not None:
            return part.source(iri)
        return self.glob.get(iri)


# -- reasoning ------------------------------------------------------------------------


def classify_gate(
    ontology: Ontology, ontology_digest: str, kg_ontology: list[ox.Triple], cache: Cache, java: str | None
) -> Hierarchy:
    """HermiT on the ontology alone: the superclasses documents' facts are checked against.

    It runs before any document is read, since whether a fact's subject is a kind of what its
    predicate expects can depend on a logical definition (a CAR NK cell therapy is an NK cell
    therapy because its cells are NK cells).
    """
    key = digest(cache.fingerprint, "classify", ontology_digest)
    return cache.memo("classify", key, Hierarchy, lambda: reason(ontology, kg_ontology, java=java))


def reason_gate(
    ontology: Ontology,
    ontology_digest: str,
    kg_ontology: list[ox.Triple],
    parts: list[DocumentPart],
    classes: Hierarchy,
    cache: Cache,
    java: str | None,
) -> Hierarchy:
    """The documents' individuals against the classified ontology (``classes``); its hierarchy is the answer.

    The individuals carry class assertions only (see :func:`carnk_ld.reason.reasoner_input`). One
    whose classes have a most specific member, below all the others, is in a class the
    classification found satisfiable, so it cannot make the ontology inconsistent; HermiT runs
    on the ontology plus one individual per other set of classes, if there is one. On a
    problem, it runs again on every individual, to name them.
    """
    least: dict[frozenset[str], str] = {}
    for part in parts:
        for conjunction, individual in part.conjunctions.items():
            if _most_specific(conjunction, classes):
                continue
            best = least.get(conjunction)
            if best is None or f"<{individual}>" < f"<{best}>":
                least[conjunction] = individual
    if not least:
        return classes
    conjunctions = ("\t".join(sorted(c)) for c in sorted(least, key=sorted))
    key = digest(cache.fingerprint, "reason", ontology_digest, *conjunctions)
    if isinstance(cache.get("reason", key), Hierarchy):
        return classes
    rdf_type = ox.NamedNode(RDF_TYPE)
    typed = [
        ox.Triple(ox.NamedNode(individual), rdf_type, ox.NamedNode(c))
        for conjunction, individual in sorted(least.items(), key=lambda kv: kv[1])
        for c in sorted(conjunction)
    ]
    try:
        checked = reason(ontology, [*kg_ontology, *typed], java=java)
    except QualityGateFailed:
        # Explain the problem with every individual that has it, not only the representatives.
        everything = [q.triple for part in parts for q in part.quads()]
        reason(ontology, reasoner_input(kg_ontology, everything), java=java)
        raise
    cache.put("reason", key, checked)
    return classes


def _most_specific(conjunction: frozenset[str], classes: Hierarchy) -> bool:
    """Whether one class of ``conjunction`` lies below all the others in the classification."""
    return any(
        c in classes.inferred_all and all(o == c or o in classes.inferred_all[c] for o in conjunction)
        for c in conjunction
    )


# -- SPARQL over shards ---------------------------------------------------------------


class QueryService:
    """Answers SPARQL queries over the whole dataset: shard by shard where declared, else on everything.

    Every shard is evaluated once for all the document-scoped queries asked of it so far
    and those announced with :meth:`include`: one store per shard serves the SHACL and the
    QC gates.
    """

    def __init__(self, glob: Global, parts: list[DocumentPart], cache: Cache, pool: Workers):
        self.glob = glob
        self.parts = parts
        self.cache = cache
        self.pool = pool
        self._metadata = b"".join(line + b"\n" for line in glob.lines_in((GRAPH_METADATA,)))
        self._corpus_key = digest(glob.nq, *(part.key for part in parts))
        self._included: dict[_Request, Callable[[ox.Store, str], list]] = {}
        self._shard_rows: dict[_Request, list] = {}  # rows of every shard, not yet merged

    def _content_key(self, query: str) -> str:
        """A digest of what a whole-graph query reads: every graph, or only those it declares."""
        graphs, _, _ = declared_graphs(query)  # checked when the query was read
        if graphs is None:
            return self._corpus_key
        iris = _graph_iris(graphs)
        lines = self.glob.lines_in(iris)
        return digest(*lines, *(f"{p.doc_id} {p.graph_digests.get(g, '')}" for p in self.parts for g in iris))

    def include(self, queries: dict[str, Scope], *, quads: bool, run: Callable[[ox.Store, str], list]) -> None:
        """Answer these queries' document-scoped ones too when shards are next evaluated (see :meth:`answers`)."""
        for query, scope in queries.items():
            request = _request(quads, run, query)
            if scope == "document" and request not in self._shard_rows:
                self._included[request] = run

    def _units(self) -> list[tuple[str, list[DocumentPart] | None]]:
        """The shards as (key, their documents): each batch of documents, then the metadata graph (None)."""
        units: list[tuple[str, list[DocumentPart] | None]] = [
            (digest(*sorted(part.key for part in batch)), batch) for batch in batched(self.parts)
        ]
        units.append((digest(self._metadata), None))
        return units

    def _evaluate(self, runs: dict[_Request, _Run], wholes: dict[_Request, _Run]) -> list[list]:
        """Every shard's rows of each request in ``runs`` (from the cache or the workers), and each whole request's.

        The workers answer the whole-graph requests (each on a store of everything) along
        with the shards, so neither waits for the other. Texts are joined only for shards
        whose answers are not cached (a rebuild's are few).
        """
        base = b"".join(line + b"\n" for line in self.glob.lines_in(BASE_GRAPHS))
        base_key = digest(base)
        requests = sorted(runs)
        found: dict[_Request, list] = {request: [] for request in requests}
        texts: dict[str, bytes] = {}

        def nquads(batch: list[DocumentPart]) -> list[bytes]:
            for part in batch:
                if part.doc_id not in texts:
                    texts[part.doc_id] = part.nquads()
            return [texts[part.doc_id] for part in batch]

        todo: list[tuple[list[bytes], list[_Request], dict[_Request, str]]] = []
        for unit_key, batch in self._units() if requests else ():
            keys = {
                request: digest(self.cache.fingerprint, "shard-rows", *map(str, request), base_key, unit_key)
                for request in requests
            }
            missing = []
            for request in requests:
                cached = self.cache.get("rows", keys[request])
                if isinstance(cached, list):
                    found[request].extend(cached)
                else:
                    missing.append(request)
            if missing:
                todo.append((nquads(batch) if batch is not None else [self._metadata], missing, keys))
        everything = [self.glob.nq, *nquads(self.parts)] if wholes else []
        units = [(unit, missing) for unit, missing, _ in todo]
        task = _UnitTask(base, units, everything, list(wholes), {**runs, **wholes})
        computed = self.pool.imap(_answer_unit, task, list(range(len(wholes) + len(todo))))
        whole_rows = [next(computed)[request] for request in wholes]
        for (_, _, keys), rows_by_request in zip(todo, computed, strict=True):
            for request, rows in rows_by_request.items():
                self.cache.put("rows", keys[request], rows)
                found[request].extend(rows)
        self._shard_rows.update(found)
        return whole_rows

    def answers(
        self,
        queries: dict[str, Scope],
        *,
        quads: bool,
        run: Callable[[ox.Store, str], list[Row]],
        merge: Callable[[Iterable[Row]], list[Row]],
    ) -> dict[str, list[Row]]:
        """Each query's rows over the whole dataset; ``run(store, query)`` evaluates one query on one store.

        A document-scoped query runs on G's base graphs plus each shard (batches of
        documents are as exact as single documents: the union of the union is the union),
        shards in the build's workers, and ``merge`` unites the rows; any other query runs
        on a store of everything (of the graphs it declares), in a worker too. ``run`` must
        be picklable (a module-level function or an instance of a module-level class) for
        workers on other machines.
        """
        kind = "quads" if quads else "triples"
        answers: dict[str, list[Row]] = {}
        runs = {_request(quads, run, q): run for q, scope in queries.items() if scope == "document"}
        todo = {request: r for request, r in {**runs, **self._included}.items() if request not in self._shard_rows}
        if not any(request in todo for request in runs):
            todo = {}
        wholes: list[tuple[_Request, str]] = []
        for query, scope in queries.items():
            if scope == "document":
                continue
            key = digest(self.cache.fingerprint, "graph-rows", kind, _runner_name(run), query, self._content_key(query))
            cached = self.cache.get("rows", key)
            if isinstance(cached, list):
                answers[query] = cached
            else:
                wholes.append((_request(quads, run, query), key))
        if todo or wholes:
            if todo:
                self._included.clear()
            whole_rows = self._evaluate(todo, {request: run for request, _ in wholes})
            for (request, key), rows in zip(wholes, whole_rows, strict=True):
                answers[request[2]] = merge(rows)
                self.cache.put("rows", key, answers[request[2]])
        for request in runs:
            answers[request[2]] = merge(self._shard_rows[request])
        return {query: answers[query] for query in queries}


#: What is asked of a shard: (on quads?, the runner's name, the query). Rows differ by runner
#: (a shape's solutions, a check's findings), so the same query text asked by two is two requests.
_Request = tuple[bool, str, str]
_Run = Callable[[ox.Store, str], list]


def _runner_name(run: Callable[[ox.Store, str], list]) -> str:
    return getattr(run, "__qualname__", type(run).__qualname__)


def _request(quads: bool, run: Callable[[ox.Store, str], list], query: str) -> _Request:
    return quads, _runner_name(run), query


@dataclass
class _UnitTask:
    """What the workers answering SPARQL queries read: the shards, and everything for the whole-graph requests."""

    base: bytes  # N-Quads of the graphs every shard shares
    units: list[tuple[list[bytes], list[_Request]]]  # per shard: its N-Quads texts, what to answer there
    everything: list[bytes]  # N-Quads of every graph (when a whole-graph request is asked)
    wholes: list[_Request]  # answered on everything (of the graphs each declares), before the units
    runs: dict[_Request, Callable[[ox.Store, str], list]]  # how to run each request


def _answer_unit(task: _UnitTask, index: int) -> dict[_Request, list]:
    """The rows of the whole-graph request ``index``, or of the shard ``index`` after them."""
    if index < len(task.wholes):
        request = task.wholes[index]
        quads, _, query = request
        graphs, _, _ = declared_graphs(query)  # checked when the query was read
        return {request: task.runs[request](graph_store(task.everything, quads=quads, graphs=graphs), query)}
    texts, requests = task.units[index - len(task.wholes)]
    stores: dict[bool, ox.Store] = {}
    answers = {}
    for request in requests:
        quads, _, query = request
        if quads not in stores:
            stores[quads] = _store([task.base, *texts], quads=quads)
        answers[request] = task.runs[request](stores[quads], query)
    return answers


def graph_store(texts: list[bytes], *, quads: bool, graphs: tuple[str, ...] | None) -> ox.Store:
    """A store of N-Quads texts, of only the lines in the named graphs given (by name) unless None."""
    if graphs is not None:
        texts = [b"".join(line + b"\n" for line in _lines_in(text, _graph_iris(graphs))) for text in texts]
    return _store(texts, quads=quads)


def _store(texts: list[bytes], *, quads: bool) -> ox.Store:
    """An in-memory store of N-Quads texts (each ending in a newline): as quads, or as the set of their triples."""
    store = ox.Store()
    data = b"".join(texts)
    if not data:
        return store
    if not quads:
        data = b"\n".join(line[: line.rindex(b" <")] + b" ." for line in data.split(b"\n") if line) + b"\n"
    format = ox.RdfFormat.N_QUADS if quads else ox.RdfFormat.N_TRIPLES
    if b"_:" in data:
        # A store's load gives blank nodes new labels; rows must name the nodes the SHACL engine
        # indexes (an owl:Restriction as a focus node), so these quads go in as parsed.
        store.bulk_extend(ox.parse(data, format=format))
    else:
        store.bulk_load(data, format=format)
    return store


def _distinct_dicts(rows: Iterable[dict]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault(tuple(sorted(row.items(), key=lambda kv: kv[0])), row)
    return list(seen.values())


def _distinct_sorted(rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return sorted(set(rows))


# -- QC ---------------------------------------------------------------------------------


@dataclass
class _CheckRunner:
    """Runs a QC check, found by its query text (picklable, for workers)."""

    checks: dict[str, qc.Check]

    @classmethod
    def of(cls, checks: list[qc.Check]) -> _CheckRunner:
        return cls({check.query: check for check in checks})

    def __call__(self, store: ox.Store, query: str) -> list[tuple[str, str, str]]:
        return qc.check_rows(self.checks[query], store)


def include_qc(checks: list[qc.Check], service: QueryService) -> None:
    """Have the shards' first evaluation (the SHACL gate's) answer the document-scoped QC checks too."""
    service.include({check.query: check.scope for check in checks}, quads=True, run=_CheckRunner.of(checks))


def qc_gate(checks: list[qc.Check], service: QueryService, ontology: Ontology, sources: Sources) -> list[qc.Finding]:
    """Every QC check's findings over the union of the release graphs."""
    answers = service.answers(
        {check.query: check.scope for check in checks}, quads=True, run=_CheckRunner.of(checks), merge=_distinct_sorted
    )
    rows = {check.rule: answers[check.query] for check in checks}
    return qc.findings_of(checks, rows, ontology, sources)


# -- SHACL ------------------------------------------------------------------------------


def shacl_gate(
    engine: str,
    shapes: rdflib.Graph,
    shapes_digest: str,
    glob: Global,
    parts: list[DocumentPart],
    service: QueryService,
    sources: Sources,
    cache: Cache,
    workers: Workers,
) -> ValidationResult:
    """SHACL results over the whole graph: pySHACL on all of it, or the fast engine shard by shard."""
    if engine == "pyshacl":
        everything = list(glob.triples)
        for part in parts:
            everything.extend(_part_triples(part))
        return pyshacl_validate(list(dict.fromkeys(everything)), shapes, sources)
    try:
        return _fast(shapes, shapes_digest, glob, parts, service, sources, cache, workers)
    except Unsupported as exc:
        where = shapes.where(exc) if isinstance(shapes, ShapesGraph) else None
        named = f" (shape <{exc.shape}>)" if exc.shape else ""
        raise InputError(
            where or "shapes",
            f"the fast SHACL engine cannot give pySHACL's results exactly here: {exc}{named}",
            "build with --shacl-engine pyshacl (slower, but it implements all of SHACL)",
        ) from None


def _part_triples(part: DocumentPart) -> list[ox.Triple]:
    """The part's distinct triples, parsed back from its N-Triples (the cache holds text)."""
    return list(ox.parse(part.nt.text(), format=ox.RdfFormat.N_TRIPLES))


@dataclass
class _ShardTask:
    """What the workers validating shards read (forked, or scattered to a Dask cluster)."""

    roots: list
    base: list[ox.Triple]
    base_literals: frozenset[ox.Literal]  # rewritable_literals of the base
    batches: list[tuple[list[DocumentPart], dict[str, list[dict]]]]
    sources: Sources
    whole: bool  # one shard of every document: validate shared nodes there too


def _validate_shard(task: _ShardTask, index: int) -> list[Violation]:
    batch, batch_rows = task.batches[index]
    docs = {part.doc_id for part in batch}
    own: list[ox.Triple] = []
    for part in batch:
        own.extend(_part_triples(part))

    def in_batch(node: object) -> bool:
        return task.whole or (isinstance(node, ox.NamedNode) and scope_of(node.value) in docs)

    data = list(dict.fromkeys(task.base + own)) if task.whole else task.base + own
    literals = task.base_literals.union(*(part.literals for part in batch))
    validator = Validator(data, task.roots, rows=batch_rows, literals=literals)
    return list(violations_of(validator.run(keep=in_batch), task.sources))


def _fast(
    shapes: rdflib.Graph,
    shapes_digest: str,
    glob: Global,
    parts: list[DocumentPart],
    service: QueryService,
    sources: Sources,
    cache: Cache,
    workers: Workers,
) -> ValidationResult:
    roots = ShapeParser(shapes).roots()
    for shape in walk_shapes(roots):
        if shape.sparql and shape not in roots:
            raise Unsupported("a SPARQL constraint inside sh:or or a qualified shape")
    reads = reads_of(roots)
    read_fwd = {p.value for p in reads.path_fwd | reads.subjects_targets}
    read_inv = {p.value for p in reads.path_inv | reads.objects_targets}
    for part in parts:
        if part.local:  # pragma: no cover - the facts reader only makes nodes of the document's own
            raise RuntimeError(f"document {part.doc_id}: {part.local}")
    whole = any(part.shared_subject_predicates & read_fwd or part.shared_object_predicates & read_inv for part in parts)
    queries = list(dict.fromkeys(shape_queries(roots)))
    rows: dict[str, list[dict]] = {}
    if reads.sparql:
        check_store_keeps(rewritable_literals(glob.triples).union(*(p.literals for p in parts)))
        scopes = {}
        for query in queries:
            scope, _, problem = declared_scope(query)
            problem = problem or declared_graphs(query)[2]
            if problem:
                raise InputError("shapes", f"SPARQL query of a shape: {problem}", "see README: Incremental builds")
            scopes[query] = scope

        # A store's union default graph repeats a triple once per graph holding it; queries that
        # neither count nor look at graphs give the same rows there, without a store of triples.
        union = all(bag_safe(query) for query in queries)
        run = _shape_rows_union if union else _shape_rows
        rows = service.answers(scopes, quads=union, run=run, merge=_distinct_dicts)
    present = {p.doc_id for p in parts}
    by_doc: dict[str, dict[str, list[dict]]] = {}
    shared_rows: dict[str, list[dict]] = {q: [] for q in queries}
    for query, solutions in rows.items():
        for row in solutions:
            this = row.get("this")
            owner = scope_of(this.value) if isinstance(this, ox.NamedNode) else None
            if owner in present and not whole:
                by_doc.setdefault(owner, {q: [] for q in queries})[query].append(row)
            else:
                shared_rows[query].append(row)
    wanted = reads.fwd | reads.inv
    violations: list[Violation] = []
    if whole:
        batches = [(parts, shared_rows)]
        base = glob.triples
    else:

        def shared_node(node: object) -> bool:
            return not (isinstance(node, ox.NamedNode) and scope_of(node.value) in present)

        shared_results = Validator(glob.triples, roots, rows=shared_rows).run(keep=shared_node)
        violations.extend(violations_of(shared_results, sources))
        batches = [
            (batch, {q: [r for part in batch for r in by_doc.get(part.doc_id, {}).get(q, [])] for q in queries})
            for batch in batched(parts)
        ]
        base = [t for t in glob.triples if t.predicate in wanted]
    base_digest = digest(*sorted(serialize_bytes(base, format=ox.RdfFormat.N_TRIPLES).split(b"\n")))
    missing: list[tuple[str, int]] = []
    for index, (batch, batch_rows) in enumerate(batches):
        key = digest(
            cache.fingerprint,
            "shard",
            "whole" if whole else "batch",
            shapes_digest,
            base_digest,
            _rows_digest(batch_rows),
            *sorted(part.key for part in batch),
        )
        found = cache.get("shard", key)
        if isinstance(found, list):
            violations.extend(found)
        else:
            missing.append((key, index))
    pending = [batches[i] for _, i in missing]
    task = _ShardTask(roots, base, frozenset(rewritable_literals(base)), pending, sources, whole)
    computed = workers.imap(_validate_shard, task, list(range(len(missing))))
    for (key, _), found in zip(missing, computed, strict=True):
        cache.put("shard", key, found)
        violations.extend(found)
    label = "one shard of every document" if whole else "per-document shards"
    return result_of(violations, f"fast engine, exact to pySHACL; {label}", lenient_shapes(roots))


def _shape_rows(store: ox.Store, query: str) -> list[dict]:
    return query_rows(store, query, union=False)


def _shape_rows_union(store: ox.Store, query: str) -> list[dict]:
    return query_rows(store, query, union=True)


def _rows_digest(rows: dict[str, list[dict]]) -> str:
    return digest(
        *(
            f"{query}\x00" + "\x01".join(sorted("\x02".join(f"{k}={v}" for k, v in sorted(r.items())) for r in found))
            for query, found in sorted(rows.items())
        )
    )


__all__ = [
    "BASE_GRAPHS",
    "Global",
    "QueryService",
    "Sources",
    "graph_store",
    "include_qc",
    "qc_gate",
    "reason_gate",
    "shacl_gate",
]
