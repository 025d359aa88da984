"""The build: one sequence of gates over document shards, then the release.

1. **Inputs**: the ontology, shapes, QC checks and mappings are read strictly; every
   document is paired with its facts file.
2. **Facts**: each document is read, segmented and its facts resolved into its *part*
   (:mod:`carnk_ld.parts`); with the global graphs G (ontology, mappings, metadata) it
   forms one shard. Errors of every file are collected and reported together.
3. **Reasoning**, 4. **SHACL**, 5. **QC**: :mod:`carnk_ld.gates`, each over all shards.
6. **Release**: :mod:`carnk_ld.serialise` merges the shards' pre-rendered pieces with G
   and :mod:`carnk_ld.release` switches the files in atomically.

Per-document work (parts, validation shards) runs through :mod:`carnk_ld.workers`, and
every result is memoised in the build cache (:class:`carnk_ld.parts.Cache`) under a key
that hashes everything it depends on, so a rebuild after one edit redoes only what the
edit changed and a build of one document is the same code as a build of thousands.
Nothing is written until every gate has passed.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from carnk_ld import qc
from carnk_ld.cache import Cache, digest
from carnk_ld.conflicts import Measure, conflict_rows
from carnk_ld.constants import (
    CHECKS_DIR,
    DEFAULT_OUT,
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
from carnk_ld.corpusfiles import corpus_file, corpus_files, ignored_in, ignored_lines, read_input
from carnk_ld.cq import QUERIES_DIR
from carnk_ld.documents import Document, read_document
from carnk_ld.errors import CarnkError, InputError, InputErrors, Location, QualityGateFailed, ValidationFailed
from carnk_ld.facts import load_facts
from carnk_ld.gates import Global, QueryService, Sources, classify_gate, include_qc, qc_gate, reason_gate, shacl_gate
from carnk_ld.graph import canonical_ontology, mapping_graph, metadata_graph, ontology_sources, sort_triples
from carnk_ld.mappings import Mapping, MappingSet, coverage, load_mappings
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.options import BuildOptions
from carnk_ld.parts import DocumentPart, Summary, compute_part, part_key, scope_of
from carnk_ld.progress import Progress
from carnk_ld.rdfio import RDF_SUFFIXES
from carnk_ld.reason import Hierarchy, inferred_axioms
from carnk_ld.release import (
    AfterOthers,
    FileState,
    Tree,
    publish_release,
    release_lock,
    release_target,
    resolve_out,
    reusable_digests,
)
from carnk_ld.serialise import ReleaseContent, Sections, render_release
from carnk_ld.site import CACHED_TYPES as SITE_CACHED_TYPES
from carnk_ld.site import SITE_DIR, SiteData, site_entries
from carnk_ld.validate import ValidationResult, Violation, load_shapes
from carnk_ld.workers import Workers, workers

# -- the build summary ------------------------------------------------------------------


@dataclass
class BuildSummary:
    """What a build did, for the closing summary and for tests."""

    documents: int = 0
    segments: int = 0
    segment_kinds: dict[str, int] = field(default_factory=dict)
    facts: int = 0
    plain_triples: int = 0
    negated: int = 0
    excluded: int = 0
    studies: int = 0
    triples: dict[str, int] = field(default_factory=dict)
    conforms: bool = False
    violations: int = 0
    engine: str = ""
    reasoner: str = ""
    new_inferred_edges: int = 0
    qc_counts: dict[str, int] = field(default_factory=dict)
    links: int = 0
    mapping_coverage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    out: Path | None = None
    cache: str = ""  # how the per-document cache served this build
    ran_on: str = ""  # where per-document work ran
    ignored: list[str] = field(default_factory=list)  # editor leftovers in corpus directories, with what each is

    def render(self) -> str:
        """A short human-readable summary."""
        kinds = ", ".join(f"{n} {k.replace('_', ' ')}s" for k, n in sorted(self.segment_kinds.items()))
        lines = [
            f"documents:  {self.documents}",
            f"segments:   {self.segments} ({kinds}); {self.excluded} excluded with a reason",
            f"facts:      {self.facts} statements ({self.negated} negated), "
            f"{self.plain_triples} published as plain triples; {self.studies} clinical studies",
            "triples:    " + ", ".join(f"{k} {v}" for k, v in self.triples.items()),
            f"reasoning:  coherent ({self.reasoner}); {self.new_inferred_edges} inferred subclass edges not asserted",
            f"validation: {'conforms' if self.conforms else 'FAILED'} ({self.violations} results; {self.engine})",
            "ontology QC: " + ", ".join(f"{n} {s}" for s, n in self.qc_counts.items()),
            f"mappings:   {self.links} links; of {self.mapping_coverage.get('classes', 0)} classes "
            f"{self.mapping_coverage.get('exact', 0)} exact, "
            f"{self.mapping_coverage.get('close_or_broad_only', 0)} only close/broad/narrow/related, "
            f"{self.mapping_coverage.get('no_term', 0)} no term found",
            f"cache:      {self.cache}",
            f"workers:    {self.ran_on}",
            f"time:       {self.seconds:.2f} s",
        ]
        lines += ignored_lines(self.ignored)
        if self.out is not None:
            lines.append(f"release:    {self.out}")
        return "\n".join(lines)


@dataclass
class CheckSummary:
    """What ``check`` found: the release it would publish passes every gate."""

    triples: int
    findings: list[qc.Finding]
    ignored: list[str]  # as in BuildSummary

    def render(self) -> str:
        """The ``ok:`` line, then the ignored files as the build summary names them."""
        counts = ", ".join(f"{sum(1 for f in self.findings if f.severity == s)} {s}" for s in ("WARN", "INFO"))
        ok = f"ok: {self.triples} triples; reasoning coherent; SHACL conforms; ontology QC 0 ERROR, {counts}"
        return "\n".join([ok, *ignored_lines(self.ignored)])


# -- gate 1: inputs ---------------------------------------------------------------------


#: The corpus directories whose every entry is read, ignored (and reported) or refused.
LISTED_DIRS = (ONTOLOGY_DIR, MAPPINGS_DIR, DOCUMENTS_DIR, FACTS_DIR, SHAPES_DIR, CHECKS_DIR)


def ignored_files(root: Path) -> list[str]:
    """The editor leftovers the build ignored in the corpus directories, as the summary names them."""
    return ignored_in(root, LISTED_DIRS)


def file_digest(root: Path, *names: Path) -> str:
    """A digest of corpus files' names and contents, ``names`` relative to ``root`` as errors show them."""
    return digest(
        *(x for name in names for x in (name.name, hashlib.sha256(read_input(root / name, name)).digest()))
    )


@dataclass
class Inputs:
    """The inputs every shard shares, read and checked, and the documents with their facts files."""

    ontology: Ontology
    ontology_digest: str
    classes: Hierarchy  # the ontology's classification (HermiT, on the ontology alone)
    pairs: list[tuple[Path, Path]]  # each document with its facts file, by document name
    errors: list[InputError]  # documents and facts files that do not pair up


def read_inputs(root: Path, cache: Cache, java: str | None) -> Inputs:
    """Gate 1: read and classify the ontology and pair documents with facts files.

    Errors of the documents and facts files are collected (and reported with the errors of
    the next gate); an unreadable or incoherent ontology stops here. The mappings are read by
    :func:`read_mappings` while the documents' parts are computed.
    """
    ontology_path = corpus_file(root / ONTOLOGY_DIR, ONTOLOGY_FILE, Path(ONTOLOGY_DIR))
    ontology = load_ontology(ontology_path, display_path=Path(ONTOLOGY_DIR) / ONTOLOGY_FILE)
    ontology_digest = file_digest(root, Path(ONTOLOGY_DIR) / ONTOLOGY_FILE)
    classes = classify_gate(ontology, ontology_digest, canonical_ontology(ontology), cache, java)
    ontology = ontology.classified(classes.inferred_all)
    errors: list[InputError] = []
    documents = corpus_files(root / DOCUMENTS_DIR, (".txt",), Path(DOCUMENTS_DIR))
    facts = {path.stem: path for path in corpus_files(root / FACTS_DIR, (".yaml",), Path(FACTS_DIR))}
    by_stem = {path.stem: path for path in documents}
    pairs = [(path, facts[path.stem]) for path in documents if path.stem in facts]
    for path in documents:
        if path.stem not in facts:
            errors.append(_without_facts(path))
    orphans = [path for stem, path in sorted(facts.items()) if stem not in by_stem]
    if orphans:
        errors.extend(_orphan_errors(orphans, documents, ontology))
    if not documents:
        errors.append(InputError(DOCUMENTS_DIR, "the corpus has no documents", "add a *.txt file to documents/"))
    return Inputs(ontology, ontology_digest, classes, pairs, errors)


def read_mappings(root: Path, inputs: Inputs, cache: Cache) -> MappingSet:
    """The mapping set, checked against the ontology (cached: loading bioregistry takes a second or more)."""
    return _mappings(root, inputs.ontology, inputs.ontology_digest, cache)


@dataclass
class Rules:
    """What the graph is checked against: SHACL shapes and QC checks."""

    shapes: rdflib.Graph
    shapes_digest: str
    checks: list[qc.Check]


def read_rules(root: Path) -> Rules:
    """The shapes and QC checks of a corpus tree, read strictly."""
    shapes_dir = root / SHAPES_DIR
    shapes = load_shapes(shapes_dir, display_dir=Path(SHAPES_DIR))
    files = corpus_files(shapes_dir, RDF_SUFFIXES, Path(SHAPES_DIR))
    shapes_digest = file_digest(root, *(Path(SHAPES_DIR) / path.name for path in files))
    checks = qc.load_checks(root / CHECKS_DIR, display_dir=Path(CHECKS_DIR))
    return Rules(shapes, shapes_digest, checks)


def _without_facts(path: Path) -> InputError:
    shown = Path(DOCUMENTS_DIR) / path.name
    try:
        segments = f"{len(read_document(path, display_path=shown).segments)} segments unaccounted"
    except InputError as exc:
        return exc
    return InputError(shown, f"document has no facts file ({segments})", f"curate its facts in facts/{path.stem}.yaml")


def _orphan_errors(orphans: list[Path], documents: list[Path], ontology: Ontology) -> list[InputError]:
    """Why each facts file without a document of its name fails (what it names, or that it names nothing)."""
    readable: dict[str, Document] = {}
    for path in documents:
        try:
            readable[path.name] = read_document(path, display_path=Path(DOCUMENTS_DIR) / path.name)
        except InputError:
            continue
    found: list[InputError] = []
    for path in orphans:
        try:
            load_facts(path, readable, ontology, display_path=Path(FACTS_DIR) / path.name)
        except InputErrors as exc:
            found.extend(exc.errors)
        except InputError as exc:
            found.append(exc)
        else:  # pragma: no cover - load_facts refuses a facts file not named after its document
            found.append(InputError(Path(FACTS_DIR) / path.name, "facts file has no document of its name"))
    return found


def _mappings(root: Path, ontology: Ontology, ontology_digest: str, cache: Cache) -> MappingSet:
    """The mapping set, cached under the mapping file, the ontology and the code (bioregistry is slow to load)."""
    path = corpus_file(root / MAPPINGS_DIR, MAPPINGS_FILE, Path(MAPPINGS_DIR))
    shown = Path(MAPPINGS_DIR) / MAPPINGS_FILE
    try:
        key = digest(cache.fingerprint, "mappings", ontology_digest, file_digest(root, shown))
    except InputError:
        return load_mappings(path, ontology, display_path=shown)  # reports a missing file in its own words
    return cache.memo("mappings", key, MappingSet, lambda: load_mappings(path, ontology, display_path=shown))


def _errors(errors: list[InputError]) -> CarnkError:
    return errors[0] if len(errors) == 1 else InputErrors(errors)


# -- gate 2: facts, one part per document -----------------------------------------------

_ErrorRecord = tuple[str, int | None, int | None, str, str | None]


def _compute(ontology: Ontology, task: tuple[Path, Path, str]) -> DocumentPart | list[_ErrorRecord]:
    """One document's part, or its input errors as plain data (they cross process boundaries)."""
    doc_path, facts_path, key = task
    try:
        return compute_part(doc_path, facts_path, ontology, key)
    except InputErrors as exc:
        errors = exc.errors
    except InputError as exc:
        errors = [exc]
    return [(str(e.location.path), e.location.line, e.location.column, e.message, e.hint) for e in errors]


def compute_parts(
    inputs: Inputs, cache: Cache, pool: Workers, meanwhile: Callable[[], None] = lambda: None
) -> list[DocumentPart]:
    """Gate 2: every document's part, from the cache where its inputs are unchanged; errors of all files together.

    ``meanwhile`` runs in this process once, while the workers compute (after the first
    result, when this process would otherwise only wait for them); the input errors it
    raises are reported with the documents' errors.
    """
    parts: dict[str, DocumentPart] = {}
    todo: list[tuple[Path, Path, str]] = []
    errors = list(inputs.errors)
    for doc_path, facts_path in inputs.pairs:
        try:
            doc_bytes = read_input(doc_path, Path(DOCUMENTS_DIR) / doc_path.name)
            facts_bytes = read_input(facts_path, Path(FACTS_DIR) / facts_path.name)
        except InputError as exc:
            errors.append(exc)
            continue
        key = part_key(
            cache.fingerprint, inputs.ontology_digest, doc_path.name, doc_bytes, facts_path.name, facts_bytes
        )
        part = cache.get("part", key)
        if isinstance(part, DocumentPart) and part.key == key:
            parts[doc_path.stem] = part
        else:
            todo.append((doc_path, facts_path, key))
    ran = False

    def run_meanwhile() -> None:
        nonlocal ran
        if ran:
            return
        ran = True
        try:
            meanwhile()
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)

    for (doc_path, _, _), computed in zip(todo, pool.imap(_compute, inputs.ontology, todo), strict=True):
        run_meanwhile()
        if isinstance(computed, DocumentPart):
            cache.put("part", computed.key, computed)
            parts[doc_path.stem] = computed
        else:
            errors.extend(
                InputError(Location(Path(path), line, column), message, hint)
                for path, line, column, message, hint in computed
            )
    run_meanwhile()
    if errors:
        raise _errors(sorted(errors, key=_error_order))
    return [parts[stem] for stem in sorted(parts)]


def _error_order(error: InputError) -> tuple[int, str]:
    """Documents' errors first, then facts files', then the rest, each by file (a file's own in its order)."""
    path = error.location.path.as_posix()
    rank = 0 if path.startswith(DOCUMENTS_DIR + "/") else 1 if path.startswith(FACTS_DIR + "/") else 2
    return rank, path


# -- the gates in order -----------------------------------------------------------------


@dataclass
class Checked:
    """A corpus that passed every gate, with what the release needs."""

    root: Path
    ontology: Ontology
    mappings: MappingSet
    parts: list[DocumentPart]
    glob: Global
    global_graphs: dict[str, list[ox.Triple]]  # per named graph, G plus the parts' triples about shared nodes
    counts: dict[str, int]  # triples per named graph
    distinct_triples: int
    validation: ValidationResult
    hierarchy: Hierarchy
    checks: list[qc.Check]
    findings: list[qc.Finding]
    cache: Cache


def check(root: Path, options: BuildOptions, cache: Cache, pool: Workers, progress: Progress) -> Checked:
    """Run every gate over the shards of ``root``; raise on the first gate that fails, write nothing."""
    with progress.stage("load") as counts:
        inputs = read_inputs(root, cache, options.java)
        read: list[MappingSet] = []
        parts = compute_parts(inputs, cache, pool, lambda: read.append(read_mappings(root, inputs, cache)))
        mappings = read[0]
        rules = read_rules(root)
        counts["documents"] = len(parts)
        counts["statements"] = sum(p.summary.facts for p in parts)
        counts["cached"] = cache.stats.hits["part"]
    ontology = inputs.ontology
    with progress.stage("assemble") as counts:
        kg_ontology = canonical_ontology(ontology)
        _refuse_instance_data(kg_ontology, ontology)
        released = canonical_ontology(ontology, inferred_axioms(inputs.classes))
        graphs = {GRAPH_ONTOLOGY: released, GRAPH_MAPPINGS: mapping_graph(mappings)}
        shared_by_graph = {
            name: set().union(*(p.shared.get(name, ()) for p in parts)) for name in (GRAPH_FACTS, GRAPH_PROVENANCE)
        }
        sizes = {
            GRAPH_ONTOLOGY: len(released),
            GRAPH_FACTS: sum(p.own_counts[GRAPH_FACTS] for p in parts) + len(shared_by_graph[GRAPH_FACTS]),
            GRAPH_PROVENANCE: sum(p.own_counts[GRAPH_PROVENANCE] for p in parts)
            + len(shared_by_graph[GRAPH_PROVENANCE]),
            GRAPH_MAPPINGS: len(graphs[GRAPH_MAPPINGS]),
        }
        # Every triple outside the parts' own subjects: the metadata graph counts the union's
        # distinct triples, of which its own are part.
        outside = set(released) | set(graphs[GRAPH_MAPPINGS])
        outside |= shared_by_graph[GRAPH_FACTS] | shared_by_graph[GRAPH_PROVENANCE]
        own = sum(p.own_triples for p in parts)
        graphs[GRAPH_METADATA] = metadata_graph(
            ontology, sizes, mappings, distinct=own + len(outside), elsewhere=outside.__contains__
        )
        sizes[GRAPH_METADATA] = len(graphs[GRAPH_METADATA])
        glob = Global.of(graphs)
        distinct = own + len(outside | set(graphs[GRAPH_METADATA]))
        global_graphs = {**graphs, **{name: sort_triples(triples) for name, triples in shared_by_graph.items()}}
        counts["triples"] = distinct
    sources = Sources(parts, ontology_sources(ontology, mappings))
    with progress.stage("reason") as counts:
        hierarchy = reason_gate(
            ontology, inputs.ontology_digest, kg_ontology, parts, inputs.classes, cache, options.java
        )
        counts["classes"] = len(hierarchy.inferred_all)
    service = QueryService(glob, parts, cache, pool)
    include_qc(rules.checks, service)
    with progress.stage("validate") as counts:
        result = shacl_gate(
            options.shacl_engine,
            rules.shapes,
            rules.shapes_digest,
            glob,
            parts,
            service,
            sources,
            cache,
            pool,
        )
        counts["results"] = len(result.violations)
    if not result.conforms:
        raise ValidationFailed(result.text(), len(result.violations))
    with progress.stage("qc") as counts:
        findings = qc_gate(rules.checks, service, ontology, sources)
        counts["findings"] = len(findings)
    errors = qc.errors_of(findings)
    if errors:
        raise QualityGateFailed("\n".join(f.render() for f in errors) + f"\nontology QC: {len(errors)} ERROR findings")
    return Checked(
        root, ontology, mappings, parts, glob, global_graphs, sizes, distinct, result, hierarchy, rules.checks,
        findings, cache,
    )


def _refuse_instance_data(kg_ontology: list[ox.Triple], ontology: Ontology) -> None:
    """The ontology describes terms; documents' nodes come from facts files only (each shard owns its own)."""
    for t in kg_ontology:
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode) and scope_of(term.value) is not None:
                subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else ""
                raise InputError(
                    Location(ontology.path, ontology.line_of(subject) if subject else None),
                    f"the ontology refers to the document node <{term.value}>",
                    "documents, segments, statements and studies are made from facts files; "
                    "describe terms in the ontology, not instance data",
                )


# -- the release ------------------------------------------------------------------------


#: What a release file is made by: a function giving its bytes (or chunks), one rendered after the
#: others from their sizes and digests (void.ttl), or a folder of files (the site).
ReleaseFiles = dict[str, Callable[[], bytes | list[bytes]] | AfterOthers | Tree]


def release_files(
    checked: Checked, pool: Workers | None = None, previous: dict[str, str] | None = None
) -> ReleaseFiles:
    """Every release file as name -> a function rendering it; the static site as a folder (:class:`Tree`).

    ``pool`` renders the pages of documents (default: this process). ``previous`` is what
    the release being replaced holds intact (name -> SHA-256, see
    :func:`carnk_ld.release.reusable_digests`): a document's pages found there and in the
    cache are not rendered again.
    """
    prefix = SITE_DIR + "/"
    kept = {name[len(prefix) :]: sha for name, sha in (previous or {}).items() if name.startswith(prefix)}
    glob = checked.glob
    content = ReleaseContent(
        glob.graphs[GRAPH_ONTOLOGY],
        glob.graphs[GRAPH_MAPPINGS],
        glob.graphs[GRAPH_METADATA],
        checked.validation,
        checked.hierarchy,
        checked.checks,
        checked.findings,
        checked.mappings,
        checked.ontology,
    )
    files: ReleaseFiles = dict(
        render_release(checked.parts, glob.nt, glob.nq, checked.global_graphs, content)
    )
    conflicts = conflict_rows([Measure(*row) for part in checked.parts for row in part.summary.measures])
    global_triples = sort_triples({t for triples in checked.global_graphs.values() for t in triples})
    site = SiteData(checked.ontology, checked.hierarchy, checked.mappings, global_triples, conflicts)
    files[SITE_DIR] = Tree(lambda: site_entries(checked.parts, site, pool, checked.cache, kept))
    return files


def cached_types() -> dict[str, type]:
    """The dataclasses the build cache may hold, by the name its files use (the decoder's allow-list)."""
    classes: list[type] = [DocumentPart, Sections, Summary, Hierarchy, MappingSet, Mapping, Violation, Location]
    classes.extend(SITE_CACHED_TYPES)
    return {cls.__name__: cls for cls in classes}


def cache_dir(out: Path) -> Path:
    """Where the per-document cache of a release lives: next to it (symlinks followed), like the query store."""
    target = resolve_out(out)
    return target.parent / f".{target.name}.cache"


def corpus_inputs(root: Path) -> list[Path]:
    """The folders a build or ``cq`` reads: a release may not be, hold or lie inside one of them."""
    names = (ONTOLOGY_DIR, SHAPES_DIR, DOCUMENTS_DIR, FACTS_DIR, MAPPINGS_DIR, QUERIES_DIR)
    return [root / name for name in names]


def run_build(
    root: Path, out: Path, options: BuildOptions | None = None, progress: Progress | None = None
) -> BuildSummary:
    """Build the release of ``root`` into ``out``; raise :class:`CarnkError` on failure.

    ``out`` is checked before any work starts (:func:`carnk_ld.release.release_target`);
    a cache this build created is removed again if the build fails, so a failed first
    build leaves nothing next to the release.
    """
    options = options or BuildOptions()
    progress = progress or Progress()
    started = time.perf_counter()
    verified: dict[str, FileState] = {}
    target = release_target(out, corpus=root, inputs=corpus_inputs(root), verified=verified)
    with release_lock(target), workers(options.jobs, options.scheduler) as pool:
        directory = cache_dir(target) if options.cache else None
        fresh = directory is not None and not directory.exists()
        try:
            cache = Cache(directory, types=cached_types())
            checked = check(root, options, cache, pool, progress)
            files = release_files(checked, pool, reusable_digests(target, verified))
            publish_release(files, target, progress, checkpoint=options.checkpoint, verified=verified)
        except BaseException:
            if fresh and directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        cache.prune()
        summary = _summary(checked, pool)
    summary.seconds = time.perf_counter() - started
    summary.out = out
    return summary


def check_tree(
    root: Path, options: BuildOptions | None = None, out: Path | None = None, progress: Progress | None = None
) -> CheckSummary:
    """Every gate, nothing written (the cache is read, not written); the triple count, QC findings, ignored files.

    ``out`` (default ``build/`` under the root) locates the cache and is refused as a
    build would refuse it.
    """
    options = options or BuildOptions()
    target = release_target(out or root / DEFAULT_OUT, corpus=root, inputs=corpus_inputs(root))
    directory = cache_dir(target) if options.cache else None
    with workers(options.jobs, options.scheduler) as pool:
        cache = Cache(directory, writable=False, types=cached_types())
        checked = check(root, options, cache, pool, progress or Progress())
    return CheckSummary(checked.distinct_triples, checked.findings, ignored_files(root))


def _summary(checked: Checked, pool: Workers) -> BuildSummary:
    """What the closing summary says, from per-document counts and the gates' results."""
    documents = [part.summary for part in checked.parts]
    summary = BuildSummary()
    summary.documents = len(documents)
    kinds: Counter[str] = Counter()
    for document in documents:
        kinds.update(document.segment_kinds)
    summary.segment_kinds = dict(kinds)
    summary.segments = sum(kinds.values())
    summary.facts = sum(d.facts for d in documents)
    summary.plain_triples = len(set().union(*(d.plain for d in documents)))
    summary.negated = sum(d.negated for d in documents)
    summary.excluded = sum(d.excluded for d in documents)
    summary.studies = sum(d.studies for d in documents)
    summary.conforms = checked.validation.conforms
    summary.violations = len(checked.validation.violations)
    summary.engine = checked.validation.engine
    summary.reasoner = checked.hierarchy.reasoner
    summary.new_inferred_edges = len(checked.hierarchy.new_edges())
    summary.qc_counts = {s: sum(1 for f in checked.findings if f.severity == s) for s in qc.SEVERITIES}
    summary.links = sum(1 for m in checked.mappings.mappings if not m.no_term)
    summary.mapping_coverage, _ = coverage(checked.mappings, checked.ontology)
    counts = checked.counts
    summary.triples = {
        "all": checked.distinct_triples,
        "ontology": counts[GRAPH_ONTOLOGY],
        "facts": counts[GRAPH_FACTS],
        "provenance": counts[GRAPH_PROVENANCE],
        "mappings": counts[GRAPH_MAPPINGS],
        "metadata": counts[GRAPH_METADATA],
        "carnk.nq quads": sum(counts.values()),
    }
    cache = checked.cache
    if cache.refused:
        where = f" (cache not used: {cache.refused})"
    else:
        where = f" ({cache.directory.name})" if cache.directory is not None else " (disabled)"
    summary.cache = f"{cache.stats.hits['part']} of {len(documents)} documents reused{where}"
    summary.ran_on = pool.describe()
    summary.ignored = ignored_files(checked.root)
    return summary


__all__ = [
    "BuildSummary",
    "CheckSummary",
    "Checked",
    "Inputs",
    "cache_dir",
    "cached_types",
    "check",
    "check_tree",
    "compute_parts",
    "corpus_inputs",
    "read_inputs",
    "read_mappings",
    "read_rules",
    "release_files",
    "run_build",
]
