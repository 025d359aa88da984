"""Chain the stages into one build: load, resolve, assemble, validate, publish.

Nothing is written until every input has been read and the graph validates, so a bad
input never leaves a partial release behind.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from carnk_ld import qc
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
from carnk_ld.documents import Document, read_document
from carnk_ld.errors import CarnkError, InputError, InputErrors, QualityGateFailed, ValidationFailed
from carnk_ld.facts import FactSet, load_facts
from carnk_ld.graph import KnowledgeGraph, build_graph
from carnk_ld.incremental import Fallback, PartsChecked, check_parts
from carnk_ld.mappings import MappingSet, coverage, load_mappings
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.parts import Cache, Summary
from carnk_ld.progress import Progress
from carnk_ld.publish import publish_release, release_lock, render_parts_release, render_release
from carnk_ld.reason import Hierarchy, reason, reasoner_input
from carnk_ld.validate import ValidationResult, load_shapes, validate_graph


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
    cache: str = ""  # how the per-document cache served this build ("" on the whole-graph path)

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
            f"time:       {self.seconds:.2f} s",
        ]
        if self.cache:
            lines.insert(-1, f"cache:      {self.cache}")
        if self.out is not None:
            lines.append(f"release:    {self.out}")
        return "\n".join(lines)


@dataclass
class Corpus:
    """All inputs of one tree, read and resolved."""

    root: Path
    ontology: Ontology
    documents: dict[str, Document]
    factsets: list[FactSet]
    mappings: MappingSet


def _listing(directory: Path, suffix: str, what: str) -> list[Path]:
    """Files of a corpus directory; anything unexpected is an error, never skipped silently."""
    if not directory.is_dir():
        raise InputError(directory.name, f"missing {what} directory", f"create {directory.name}/")
    files = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name == "README.md":
            continue
        if path.is_symlink() or not path.is_file() or path.suffix != suffix:
            raise InputError(
                Path(directory.name) / path.name,
                f"unexpected entry in {directory.name}/: only regular *{suffix} files are read",
                f"move it out of {directory.name}/ or rename it to *{suffix}",
            )
        files.append(path)
    return files


def load_corpus(root: Path) -> Corpus:
    """Read the ontology, documents and facts of a corpus tree; collect errors across files."""
    ontology = load_ontology(root / ONTOLOGY_DIR / ONTOLOGY_FILE, display_path=Path(ONTOLOGY_DIR) / ONTOLOGY_FILE)
    errors: list[InputError] = []
    documents: dict[str, Document] = {}
    for path in _listing(root / DOCUMENTS_DIR, ".txt", "documents"):
        try:
            documents[path.name] = read_document(path, display_path=Path(DOCUMENTS_DIR) / path.name)
        except InputError as exc:
            errors.append(exc)
    if not documents and not errors:
        errors.append(InputError(DOCUMENTS_DIR, "the corpus has no documents", "add a *.txt file to documents/"))
    factsets: list[FactSet] = []
    covered: set[str] = set()
    for path in _listing(root / FACTS_DIR, ".yaml", "facts"):
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
    return Corpus(root, ontology, documents, factsets, mapping_set)


@dataclass
class Checked:
    """A corpus that passed every gate, with what the gates produced for the release."""

    corpus: Corpus
    graph: KnowledgeGraph
    triples: list[ox.Triple]  # the sorted union of all graphs, computed once per build
    validation: ValidationResult
    hierarchy: Hierarchy
    checks: list[qc.Check]
    findings: list[qc.Finding]


def check_corpus(root: Path, progress: Progress | None = None) -> Checked:
    """Run every gate without writing anything; raise on the first gate that fails.

    Order: inputs (syntax, quotes, terms, coverage), reasoning (HermiT), SHACL, ontology QC.
    """
    progress = progress or Progress()
    with progress.stage("load") as counts:
        corpus = load_corpus(root)
        shapes = load_shapes(root / SHAPES_DIR, display_dir=Path(SHAPES_DIR))
        checks = qc.load_checks(root / CHECKS_DIR, display_dir=Path(CHECKS_DIR))
        counts["documents"] = len(corpus.documents)
        counts["statements"] = sum(len(fs.facts) for fs in corpus.factsets)
    with progress.stage("assemble") as counts:
        kg = build_graph(corpus.ontology, corpus.factsets, corpus.mappings)
        everything = kg.all_triples()
        counts["triples"] = len(everything)
    with progress.stage("reason") as counts:
        hierarchy = reason(corpus.ontology, reasoner_input(kg.ontology, kg.facts + kg.provenance))
        counts["classes"] = len(hierarchy.inferred_all)
    with progress.stage("store") as counts:
        store = qc.dataset_store(kg)  # one store for the SHACL SPARQL parts and for QC
        counts["quads"] = len(store)
    with progress.stage("validate") as counts:
        result = validate_graph(everything, shapes, kg.sources, store=store)
        counts["results"] = len(result.violations)
        counts["engine"] = result.engine
    if not result.conforms:
        raise ValidationFailed(result.text(), len(result.violations))
    with progress.stage("qc") as counts:
        findings = qc.run_checks(checks, store, corpus.ontology, kg.sources)
        counts["findings"] = len(findings)
    errors = qc.errors_of(findings)
    if errors:
        raise QualityGateFailed("\n".join(f.render() for f in errors) + f"\nontology QC: {len(errors)} ERROR findings")
    return Checked(corpus, kg, everything, result, hierarchy, checks, findings)


def run_build(root: Path, out: Path, progress: Progress | None = None) -> BuildSummary:
    """Build the release of ``root`` into ``out``; raise :class:`CarnkError` on failure."""
    started = time.perf_counter()
    progress = progress or Progress()
    try:
        with release_lock(out):
            return _build_locked(root, out, started, progress)
    finally:
        progress.save()


def cache_dir(out: Path) -> Path:
    """Where the per-document cache of a release lives: next to it, like the query store."""
    return out.absolute().parent / f".{out.name}.cache"


def incremental_enabled() -> bool:
    """The parts path unless ``CARNK_LD_INCREMENTAL=0`` or the reference serialisers are asked for."""
    return os.environ.get("CARNK_LD_INCREMENTAL", "1") != "0" and os.environ.get("CARNK_LD_REFERENCE") != "1"


def _build_locked(root: Path, out: Path, started: float, progress: Progress) -> BuildSummary:
    fallback = ""
    if incremental_enabled():
        cache = Cache(None if os.environ.get("CARNK_LD_CACHE") == "0" else cache_dir(out))
        try:
            parts_checked = check_parts(root, cache, progress)
        except Fallback as exc:
            fallback = str(exc)
        else:
            publish_release(render_parts_release(parts_checked), out, progress)
            cache.prune()
            summary = _parts_summary(parts_checked)
            summary.seconds = time.perf_counter() - started
            summary.out = out
            return summary
    checked = check_corpus(root, progress)
    corpus, kg = checked.corpus, checked.graph
    summary = _summary(
        [Summary.of(factset) for factset in corpus.factsets],
        checked.validation,
        checked.hierarchy,
        checked.findings,
        corpus.mappings,
        corpus.ontology,
    )
    files = render_release(checked, reference=os.environ.get("CARNK_LD_REFERENCE") == "1")
    publish_release(files, out, progress)
    counts = {name: len(graph) for name, graph in kg.graphs().items()}
    summary.triples = _triples(len(checked.triples), counts)
    if fallback:
        summary.cache = f"not used: {fallback}"
    summary.seconds = time.perf_counter() - started
    summary.out = out
    return summary


def _summary(
    documents: list[Summary],
    validation: ValidationResult,
    hierarchy: Hierarchy,
    findings: list[qc.Finding],
    mapping_set: MappingSet,
    ontology: Ontology,
) -> BuildSummary:
    """What the closing summary says, from per-document counts and the gates' results."""
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
    summary.conforms = validation.conforms
    summary.violations = len(validation.violations)
    summary.engine = validation.engine
    summary.reasoner = hierarchy.reasoner
    summary.new_inferred_edges = len(hierarchy.new_edges())
    summary.qc_counts = {s: sum(1 for f in findings if f.severity == s) for s in qc.SEVERITIES}
    summary.links = sum(1 for m in mapping_set.mappings if not m.no_term)
    summary.mapping_coverage, _ = coverage(mapping_set, ontology)
    return summary


def _triples(distinct: int, counts: dict[str, int]) -> dict[str, int]:
    return {
        "all": distinct,
        "ontology": counts[GRAPH_ONTOLOGY],
        "facts": counts[GRAPH_FACTS],
        "provenance": counts[GRAPH_PROVENANCE],
        "mappings": counts[GRAPH_MAPPINGS],
        "metadata": counts[GRAPH_METADATA],
        "carnk.nq quads": sum(counts.values()),
    }


def _parts_summary(checked: PartsChecked) -> BuildSummary:
    parts = checked.parts
    summary = _summary(
        [p.summary for p in parts],
        checked.validation,
        checked.hierarchy,
        checked.findings,
        checked.mappings,
        checked.ontology,
    )
    summary.triples = _triples(checked.distinct_triples, checked.counts)
    stats = checked.cache.stats
    if checked.cache.refused:
        where = f" (cache not used: {checked.cache.refused})"
    else:
        where = f" ({checked.cache.directory.name})" if checked.cache.directory is not None else " (disabled)"
    summary.cache = f"{stats.hits['part']} of {len(parts)} documents reused{where}"
    if checked.notes:
        summary.cache += "; " + "; ".join(checked.notes)
    return summary


def check_tree(root: Path, progress: Progress | None = None, out: Path | None = None) -> tuple[int, list[qc.Finding]]:
    """Every gate, nothing written (the cache is read, not written); the triple count and QC findings."""
    if incremental_enabled():
        directory = None if os.environ.get("CARNK_LD_CACHE") == "0" else cache_dir(out or root / "build")
        try:
            checked = check_parts(root, Cache(directory, writable=False), progress)
        except Fallback:
            pass
        else:
            return checked.distinct_triples, checked.findings
    whole = check_corpus(root, progress)
    return len(whole.triples), whole.findings


__all__ = ["BuildSummary", "CarnkError", "Checked", "Corpus", "check_corpus", "check_tree", "load_corpus", "run_build"]
