"""The gates of a build, run on per-document parts so that a rebuild redoes only what changed.

The whole-graph path (:func:`carnk_ld.pipeline.check_corpus`) holds every triple in one
list and one store; on a million triples its gates alone take half a minute. Here the
graph stays split: G (the ontology, mappings and metadata graphs, rebuilt every time;
they are small) and one :class:`~carnk_ld.parts.DocumentPart` per document, kept in the
cache. Each gate gives exactly the whole-graph answer, for a reason stated where it is
computed and checked at run time; where that reason does not hold, :class:`Fallback` is
raised and the caller runs the whole-graph path instead. ``tests/test_incremental.py``
compares the two paths file by file, also after edits with a warm cache.

- **Reasoning.** HermiT's input is the ontology plus one individual per distinct set of
  asserted classes (see :func:`carnk_ld.reason.representatives`); its answer is cached
  under the ontology and that set of class sets.
- **Core SHACL.** A document's part mentions no other document's nodes (checked), and no
  part has a triple about a shared node (an ontology term, a literal) with a predicate
  the shapes read there (checked against :func:`carnk_ld.shacl.reads_of`). Then every
  constraint at a document's node reads only that document's triples and G, so each
  document is validated alone (a *shard*, cached), and shared nodes against G alone.
- **SPARQL parts and QC checks.** Each query's footprint (:mod:`carnk_ld.scope`) selects
  the quads it can read; its answer is cached under the digest of those quads and
  recomputed over just them when they change. A query with an unbounded footprint whose
  solutions each use at most one quad outside the ontology and mappings graphs runs per
  part, its answers cached with the part. Anything else runs over a store of everything.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from carnk_ld import qc
from carnk_ld.cache import Cache, digest
from carnk_ld.constants import (
    CHECKS_DIR,
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
    SHAPES_DIR,
)
from carnk_ld.errors import CarnkError, Location, QualityGateFailed, ValidationFailed
from carnk_ld.graph import canonical_ontology, mapping_graph, metadata_graph, ontology_sources, sort_triples
from carnk_ld.mappings import MappingSet, load_mappings
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.parts import (
    DocumentPart,
    ParallelTaskFailed,
    _group_key,
    batched,
    load_parts,
    map_parallel,
    scope_of,
)
from carnk_ld.progress import Progress
from carnk_ld.publish import sorted_lines, sorted_nquads
from carnk_ld.reason import Hierarchy, reason
from carnk_ld.scope import RDF_TYPE, Data, footprint, per_part, why_unbounded
from carnk_ld.shacl import (
    Unsupported,
    Validator,
    _check_store_keeps,
    _note_literal,
    _queries,
    _Shapes,
    _walk,
    query_rows,
    reads_of,
)
from carnk_ld.validate import RDF_SUFFIXES, ValidationResult, load_shapes, result_of, violations_of

#: Graphs that never change with a document: per-part answers are computed over these plus one part.
BASE_GRAPHS = (GRAPH_ONTOLOGY, GRAPH_MAPPINGS)


class Fallback(Exception):
    """The parts path cannot show its answer equals the whole-graph one: run the whole-graph path."""


@dataclass
class Global:
    """G: the graphs that are rebuilt on every build, with what the gates need of them."""

    graphs: dict[str, list[ox.Triple]]
    triples: list[ox.Triple]  # the distinct triples of G
    nq: bytes  # sorted N-Quads lines of G
    nt: bytes  # sorted N-Triples lines of G
    groups: dict[tuple[str, str | None], list[bytes]]  # (predicate, class) -> its N-Quads lines, sorted
    objects: dict[str, frozenset[str] | None]

    @classmethod
    def of(cls, graphs: dict[str, list[ox.Triple]]) -> Global:
        triples = list(dict.fromkeys(t for graph in graphs.values() for t in graph))
        nq = sorted_nquads(graphs)
        groups: dict[tuple[str, str | None], list[bytes]] = {}
        for line in nq.split(b"\n"):
            if line:
                groups.setdefault(_group_key(line), []).append(line)
        objects: dict[str, set[str]] = {}
        for t in triples:
            if isinstance(t.object, ox.NamedNode):
                objects.setdefault(t.predicate.value, set()).add(t.object.value)
        nt = sorted_lines(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        return cls(graphs, triples, nq, nt, groups, {p: frozenset(v) for p, v in objects.items()})

    def lines_in(self, graphs: tuple[str, ...]) -> list[bytes]:
        """G's N-Quads lines in the given graphs."""
        suffixes = tuple(f" <{g}> .".encode() for g in graphs)
        return [line for line in self.nq.split(b"\n") if line.endswith(suffixes)]


@dataclass
class PartsChecked:
    """A corpus that passed every gate on the parts path, with what the release needs."""

    root: Path
    ontology: Ontology
    mappings: MappingSet
    parts: list[DocumentPart]
    glob: Global
    global_triples: list[ox.Triple]  # G plus the parts' triples about shared nodes: sorted, distinct
    counts: dict[str, int]
    distinct_triples: int
    validation: ValidationResult
    hierarchy: Hierarchy
    checks: list[qc.Check]
    findings: list[qc.Finding]
    cache: Cache
    notes: list[str] = field(default_factory=list)  # which queries needed more than their footprint, and why


class Sources:
    """Where a node was written: its document's part, else the ontology (like ``KnowledgeGraph.sources``)."""

    def __init__(self, parts: list[DocumentPart], glob: dict[str, Location]):
        self.parts = {p.doc_id: p for p in parts}
        self.glob = glob

    def get(self, iri: str) -> Location | None:
        scope = scope_of(iri)
        part = self.parts.get(scope) if scope is not None else None
        if part is not None:
            return part.source(iri)
        return self.glob.get(iri)


def _file_digest(*paths: Path) -> str:
    return digest(*(x for path in paths for x in (path.name, hashlib.sha256(path.read_bytes()).digest())))


def _pairs(root: Path) -> list[tuple[Path, Path]]:
    """Each document with its facts file; anything else is for the whole-graph path to report."""
    from carnk_ld.pipeline import _listing

    documents = _listing(root / DOCUMENTS_DIR, ".txt", "documents")
    facts = {path.stem: path for path in _listing(root / FACTS_DIR, ".yaml", "facts")}
    if not documents or {d.stem for d in documents} != set(facts):
        raise Fallback("documents and facts files do not pair up")
    return [(d, facts[d.stem]) for d in documents]


def check_parts(root: Path, cache: Cache, progress: Progress | None = None) -> PartsChecked:
    """Every gate of :func:`carnk_ld.pipeline.check_corpus`, on parts; raises Fallback or a gate's error."""
    progress = progress or Progress()
    fingerprint = cache.fingerprint
    with progress.stage("load") as counts:
        try:  # on bad input the whole-graph path reports every error of every file, in its order
            ontology_path = root / ONTOLOGY_DIR / ONTOLOGY_FILE
            ontology = load_ontology(ontology_path, display_path=Path(ONTOLOGY_DIR) / ONTOLOGY_FILE)
            ontology_digest = _file_digest(ontology_path)
            shapes = load_shapes(root / SHAPES_DIR, display_dir=Path(SHAPES_DIR))
            shape_files = sorted(p for p in (root / SHAPES_DIR).iterdir() if p.suffix in RDF_SUFFIXES)
            shapes_digest = _file_digest(*shape_files)
            checks = qc.load_checks(root / CHECKS_DIR, display_dir=Path(CHECKS_DIR))
            mappings = _mappings(root, ontology, ontology_digest, cache, fingerprint)
            parts, fresh = load_parts(_pairs(root), ontology, ontology_digest, cache)
        except (CarnkError, OSError, ParallelTaskFailed) as exc:
            raise Fallback(f"input error: {exc}") from None
        counts["documents"] = len(parts)
        counts["statements"] = sum(p.summary.facts for p in parts)
        counts["cached"] = cache.stats.hits["part"]
    with progress.stage("assemble") as counts:
        kg_ontology = canonical_ontology(ontology)
        graphs = {GRAPH_ONTOLOGY: kg_ontology, GRAPH_MAPPINGS: mapping_graph(mappings)}
        shared_by_graph = {
            name: set().union(*(p.shared.get(name, ()) for p in parts)) for name in (GRAPH_FACTS, GRAPH_PROVENANCE)
        }
        sizes = {
            GRAPH_ONTOLOGY: len(kg_ontology),
            GRAPH_FACTS: sum(p.own_counts[GRAPH_FACTS] for p in parts) + len(shared_by_graph[GRAPH_FACTS]),
            GRAPH_PROVENANCE: sum(p.own_counts[GRAPH_PROVENANCE] for p in parts)
            + len(shared_by_graph[GRAPH_PROVENANCE]),
            GRAPH_MAPPINGS: len(graphs[GRAPH_MAPPINGS]),
            GRAPH_METADATA: 0,
        }
        graphs[GRAPH_METADATA] = metadata_graph(ontology, sizes, mappings)
        sizes[GRAPH_METADATA] = len(graphs[GRAPH_METADATA])
        glob = Global.of(graphs)
        for name, triples in glob.graphs.items():
            for t in triples:
                for term in (t.subject, t.object):
                    if isinstance(term, ox.NamedNode) and scope_of(term.value) is not None:
                        raise Fallback(f"the {name} graph mentions a document's node {term}")
        shared = sort_triples(set(glob.triples) | shared_by_graph[GRAPH_FACTS] | shared_by_graph[GRAPH_PROVENANCE])
        distinct = sum(p.own_triples for p in parts) + len(shared)
        counts["triples"] = distinct
    sources = Sources(parts, ontology_sources(ontology, mappings))
    with progress.stage("reason") as counts:
        hierarchy = _reason(ontology, ontology_digest, kg_ontology, parts, cache, fingerprint)
        counts["classes"] = len(hierarchy.inferred_all)
    service = QueryService(glob, parts, cache, fingerprint)
    with progress.stage("validate") as counts:
        result = validate_parts(shapes, shapes_digest, glob, parts, fresh, service, sources, cache, fingerprint)
        counts["results"] = len(result.violations)
    if not result.conforms:
        raise ValidationFailed(result.text(), len(result.violations))
    with progress.stage("qc") as counts:
        rows = service.qc_rows(checks)
        findings = qc.findings_of(checks, rows, ontology, sources)
        counts["findings"] = len(findings)
    errors = qc.errors_of(findings)
    if errors:
        raise QualityGateFailed("\n".join(f.render() for f in errors) + f"\nontology QC: {len(errors)} ERROR findings")
    return PartsChecked(
        root,
        ontology,
        mappings,
        parts,
        glob,
        shared,
        sizes,
        distinct,
        result,
        hierarchy,
        checks,
        findings,
        cache,
        service.notes,
    )


def _mappings(root: Path, ontology: Ontology, ontology_digest: str, cache: Cache, fingerprint: str) -> MappingSet:
    """The mapping set, cached under the mapping file, the ontology and the code (bioregistry is slow to load)."""
    path = root / MAPPINGS_DIR / MAPPINGS_FILE
    try:
        key = digest(fingerprint, "mappings", ontology_digest, _file_digest(path))
    except OSError:
        raise Fallback("no mapping file") from None
    found = cache.get("mappings", key)
    if isinstance(found, MappingSet):
        return found
    try:
        mapping_set = load_mappings(path, ontology, display_path=Path(MAPPINGS_DIR) / MAPPINGS_FILE)
    except CarnkError as exc:
        raise Fallback(f"input error: {exc}") from None
    cache.put("mappings", key, mapping_set)
    return mapping_set


def _reason(
    ontology: Ontology,
    ontology_digest: str,
    kg_ontology: list[ox.Triple],
    parts: list[DocumentPart],
    cache: Cache,
    fingerprint: str,
) -> Hierarchy:
    """HermiT on the ontology plus one individual per class set (what the whole-graph path gives it)."""
    least: dict[frozenset[str], str] = {}
    for part in parts:
        for classes, individual in part.conjunctions.items():
            best = least.get(classes)
            if best is None or f"<{individual}>" < f"<{best}>":
                least[classes] = individual
    key = digest(fingerprint, "reason", ontology_digest, *("\t".join(sorted(c)) for c in sorted(least, key=sorted)))
    found = cache.get("reason", key)
    if isinstance(found, Hierarchy):
        return found
    rdf_type = ox.NamedNode(RDF_TYPE)
    typed = [
        ox.Triple(ox.NamedNode(individual), rdf_type, ox.NamedNode(c))
        for classes, individual in sorted(least.items(), key=lambda kv: kv[1])
        for c in sorted(classes)
    ]
    try:
        hierarchy = reason(ontology, [*kg_ontology, *typed])
    except QualityGateFailed:  # the whole-graph path explains it with every individual
        raise Fallback("the reasoner found a problem") from None
    cache.put("reason", key, hierarchy)
    return hierarchy


def validate_parts(
    shapes: rdflib.Graph,
    shapes_digest: str,
    glob: Global,
    parts: list[DocumentPart],
    fresh: dict[str, dict[str, list[ox.Triple]]],
    service: QueryService,
    sources: Sources,
    cache: Cache,
    fingerprint: str,
) -> ValidationResult:
    """The fast engine's results over the whole graph, computed as G plus one shard per batch of documents."""
    if os.environ.get("CARNK_LD_SHACL", "auto") not in ("auto", "fast"):
        raise Fallback(f"CARNK_LD_SHACL={os.environ['CARNK_LD_SHACL']} asks for pySHACL on the whole graph")
    try:
        roots = _Shapes(shapes).roots()
    except Unsupported as exc:
        raise Fallback(f"SHACL feature outside the fast engine: {exc}") from None
    for shape in _walk(roots):
        if shape.sparql and shape not in roots:
            raise Fallback("a SPARQL constraint inside sh:or or a qualified shape")
    reads = reads_of(roots)
    read_fwd = {p.value for p in reads.path_fwd | reads.subjects_targets}
    read_inv = {p.value for p in reads.path_inv | reads.objects_targets}
    for part in parts:
        if part.local:
            raise Fallback(f"document {part.doc_id}: {part.local}")
        if part.shared_subject_predicates & read_fwd or part.shared_object_predicates & read_inv:
            raise Fallback(f"document {part.doc_id} says something about a shared node that the shapes read")
    queries = list(dict.fromkeys(_queries(roots)))
    rows: dict[str, list[dict]] = {}
    if reads.sparql:
        literals: set[ox.Literal] = set().union(*(p.literals for p in parts))
        for t in glob.triples:
            if isinstance(t.object, ox.Literal):
                _note_literal(t.object, literals)
        try:
            _check_store_keeps(literals)
        except Unsupported as exc:
            raise Fallback(str(exc)) from None
        rows = service.shacl_rows(queries)
    present = {p.doc_id for p in parts}
    by_doc: dict[str, dict[str, list[dict]]] = {}
    shared_rows: dict[str, list[dict]] = {q: [] for q in queries}
    for query, solutions in rows.items():
        for row in solutions:
            this = row.get("this")
            owner = scope_of(this.value) if isinstance(this, ox.NamedNode) else None
            if owner in present:
                by_doc.setdefault(owner, {q: [] for q in queries})[query].append(row)
            else:
                shared_rows[query].append(row)

    def shared_node(node: object) -> bool:
        return not (isinstance(node, ox.NamedNode) and scope_of(node.value) in present)

    results = Validator(glob.triples, roots, rows=shared_rows).run(keep=shared_node)
    violations = list(violations_of(results, sources))
    wanted = reads.fwd | reads.inv
    base = [t for t in glob.triples if t.predicate in wanted]
    base_digest = digest(*sorted(ox.serialize(base, format=ox.RdfFormat.N_TRIPLES).split(b"\n")))
    missing: list[tuple[str, list[DocumentPart], dict[str, list[dict]]]] = []
    for batch in batched(parts):
        batch_rows = {q: [row for part in batch for row in by_doc.get(part.doc_id, {}).get(q, [])] for q in queries}
        key = digest(
            fingerprint,
            "shard",
            shapes_digest,
            base_digest,
            _rows_digest(batch_rows),
            *sorted(part.key for part in batch),
        )
        found = cache.get("shard", key)
        if isinstance(found, list):
            violations.extend(found)
        else:
            missing.append((key, batch, batch_rows))

    def shard(index: int) -> list:
        _, batch, batch_rows = missing[index]  # workers inherit ``missing``: only the index is sent
        docs = {part.doc_id for part in batch}
        own: list[ox.Triple] = []
        for part in batch:
            graphs = fresh.get(part.doc_id)
            if graphs is not None:
                own.extend(t for triples in graphs.values() for t in triples)
            else:
                own.extend(q.triple for q in part.quads())

        def in_batch(node: object) -> bool:
            return isinstance(node, ox.NamedNode) and scope_of(node.value) in docs

        return list(violations_of(Validator(base + own, roots, rows=batch_rows).run(keep=in_batch), sources))

    try:
        tasks = list(range(len(missing)))
        shards = map_parallel(shard, tasks) if len(missing) >= 4 else [shard(task) for task in tasks]
    except ParallelTaskFailed as exc:
        raise Fallback(f"a validation shard failed: {exc}") from None
    for (key, _, _), found in zip(missing, shards, strict=True):
        cache.put("shard", key, found)
        violations.extend(found)
    return result_of(violations, "fast engine, exact to pySHACL; per-document shards")


def _rows_digest(rows: dict[str, list[dict]]) -> str:
    return digest(
        *(
            f"{query}\x00" + "\x01".join(sorted("\x02".join(f"{k}={v}" for k, v in sorted(r.items())) for r in found))
            for query, found in sorted(rows.items())
        )
    )


class QueryService:
    """Answers SPARQL queries over the whole dataset from parts: by footprint, per part, or over everything."""

    def __init__(
        self,
        glob: Global,
        parts: list[DocumentPart],
        cache: Cache,
        fingerprint: str,
    ):
        self.glob = glob
        self.parts = parts
        self.cache = cache
        self.fingerprint = fingerprint
        self.notes: list[str] = []
        self._everything: dict[bool, ox.Store] = {}

    # -- footprints -------------------------------------------------------------------
    def _keys(self, query: str) -> set[tuple[str, str | None]] | None:
        """The (predicate, class) groups the query can read, or None when unbounded."""
        found = footprint(query)
        if found is None:
            return None
        predicates: dict[str, frozenset[str] | None] = dict.fromkeys((p for p, _ in found.entries), frozenset())
        for predicate, classes in found.entries:
            prior = predicates[predicate]
            predicates[predicate] = None if classes is None or prior is None else prior | classes
        for binder in found.binders:
            values: set[str] = set()
            parts_objects = (p.objects.get(binder, frozenset()) for p in self.parts)  # None: too many to list
            for objects in [self.glob.objects.get(binder, frozenset()), *parts_objects]:
                if objects is None:
                    return None
                values |= objects or frozenset()
            for value in values:
                predicates[value] = None
        all_keys = set(self.glob.groups)
        for part in self.parts:
            all_keys.update(part.groups)
        keys = set()
        for predicate, klass in all_keys:
            if predicate in predicates:
                classes = predicates[predicate]
                if classes is None or klass in classes:
                    keys.add((predicate, klass))
        return keys

    def _slice_digest(self, keys: set[tuple[str, str | None]]) -> str:
        fields = []
        for key in sorted(keys, key=repr):
            if key in self.glob.groups:
                fields.append(repr(key) + hashlib.sha256(b"\n".join(self.glob.groups[key])).hexdigest())
        for part in self.parts:
            fields.append(part.doc_id)
            fields.extend(repr(key) + part.groups[key] for key in sorted(keys & part.groups.keys(), key=repr))
        return digest(*fields)

    def _slice_store(self, keys: set[tuple[str, str | None]], *, quads: bool) -> ox.Store:
        lines: list[bytes] = []
        for key in keys:
            lines.extend(self.glob.groups.get(key, ()))
        for part in self.parts:
            if keys & part.groups.keys():
                lines.extend(part.group_lines(keys))
        return _store(lines, quads=quads)

    def _everything_store(self, *, quads: bool) -> ox.Store:
        if quads not in self._everything:
            lines = self.glob.nq.split(b"\n")
            for part in self.parts:
                lines.extend(part.nquads().split(b"\n"))
            self._everything[quads] = _store([line for line in lines if line], quads=quads)
        return self._everything[quads]

    def _answer(self, queries: Iterable[str], *, quads: bool, run) -> dict[str, object]:
        """Answers by footprint where bounded; ``run(store, query)`` evaluates; the rest returned unanswered."""
        answers: dict[str, object] = {}
        missing: dict[str, tuple[str, set]] = {}
        for query in queries:
            keys = self._keys(query)
            if keys is None:
                continue
            key = digest(self.fingerprint, "slice", "quads" if quads else "triples", query, self._slice_digest(keys))
            found = self.cache.get("rows", key)
            if isinstance(found, list):
                answers[query] = found
            else:
                missing[query] = (key, keys)
        if missing:
            store = self._slice_store(set().union(*(keys for _, keys in missing.values())), quads=quads)
            for query, (key, _) in missing.items():
                answers[query] = run(store, query)
                self.cache.put("rows", key, answers[query])
        return answers

    def shacl_rows(self, queries: list[str]) -> dict[str, list[dict]]:
        """SPARQL targets and constraints over the data graph (a set of triples, like pySHACL's)."""

        def run(store: ox.Store, query: str) -> list[dict]:
            try:
                return query_rows(store, query, union=False)
            except Unsupported as exc:
                raise Fallback(str(exc)) from None

        answers = self._answer(queries, quads=False, run=run)
        for query in queries:
            if query not in answers:
                self.notes.append(f"a SHACL SPARQL query read every triple: {why_unbounded(query)}")
                answers[query] = run(self._everything_store(quads=False), query)
        return answers  # type: ignore[return-value]

    def qc_rows(self, checks: list[qc.Check]) -> dict[str, list[tuple[str, str, str]]]:
        """Each QC check's rows over the union of the release graphs."""
        by_query = {check.query: check for check in checks}

        def run(store: ox.Store, query: str) -> list[tuple[str, str, str]]:
            return qc.check_rows(by_query[query], store)

        answers = self._answer(by_query, quads=True, run=run)
        data = Data(
            frozenset({GRAPH_FACTS, GRAPH_PROVENANCE, GRAPH_METADATA}),
            frozenset(set().union(*(p.predicates for p in self.parts)))
            | {t.predicate.value for t in self.glob.graphs[GRAPH_METADATA]},
            frozenset(set().union(*(p.classes for p in self.parts)))
            | {
                t.object.value
                for t in self.glob.graphs[GRAPH_METADATA]
                if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode)
            },
        )
        split = [q for q in by_query if q not in answers and per_part(q, data)]
        if split:
            for query, found in self._per_part(split, by_query).items():
                answers[query] = found
        rows = {}
        for query, check in by_query.items():
            if query not in answers:
                self.notes.append(f"QC check {check.rule} read every quad: {why_unbounded(query)}")
                answers[query] = run(self._everything_store(quads=True), query)
            rows[check.rule] = answers[query]
        return rows  # type: ignore[return-value]

    def _per_part(self, queries: list[str], by_query: dict[str, qc.Check]) -> dict[str, list[tuple[str, str, str]]]:
        """Answers over base + each batch of parts (then base + the metadata graph), united.

        For such a query the answers over base + several parts are the union of its answers
        over base + each of them, so a batch of documents is as exact as one document; a
        batch's answers are cached under the keys of its parts.
        """
        base_lines = self.glob.lines_in(BASE_GRAPHS)
        base_digest = digest(*base_lines)
        found: dict[str, set] = {q: set() for q in queries}
        metadata = b"".join(line + b"\n" for line in self.glob.lines_in((GRAPH_METADATA,)))
        units = [
            (digest(*sorted(part.key for part in batch)), [part.nquads() for part in batch])
            for batch in batched(self.parts)
        ]
        units.append((digest(metadata), [metadata]))
        for unit_key, data in units:
            keys = {q: digest(self.fingerprint, "part-rows", q, base_digest, unit_key) for q in queries}
            todo = []
            for query in queries:
                cached = self.cache.get("rows", keys[query])
                if isinstance(cached, list):
                    found[query].update(cached)
                else:
                    todo.append(query)
            if not todo:
                continue
            store = _store(base_lines, quads=True)
            for member in data:
                if member:
                    store.bulk_load(member, format=ox.RdfFormat.N_QUADS)
            for query in todo:
                answer = qc.check_rows(by_query[query], store)
                self.cache.put("rows", keys[query], answer)
                found[query].update(answer)
        return {q: sorted(rows) for q, rows in found.items()}


def _store(lines: list[bytes], *, quads: bool) -> ox.Store:
    """An in-memory store of N-Quads lines: as quads, or as the set of their triples."""
    store = ox.Store()
    if not lines:
        return store
    if quads:
        store.bulk_load(b"\n".join(lines) + b"\n", format=ox.RdfFormat.N_QUADS)
    else:
        triples = [line[: line.rindex(b" <")] + b" ." for line in lines]
        store.bulk_load(b"\n".join(triples) + b"\n", format=ox.RdfFormat.N_TRIPLES)
    return store


__all__ = ["Fallback", "PartsChecked", "QueryService", "check_parts", "validate_parts"]
