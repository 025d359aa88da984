"""The sharded build gives exactly what the whole graph gives, and never a stale answer.

The oracle (``tests/oracle.py``) assembles the whole graph, runs every gate on it and
serialises it the straightforward way. Every release file of the build is compared with
it byte for byte: cold, with a warm cache after each kind of edit a curator makes, with
any number of worker processes, and for document names that share prefixes or differ in
case. The gates are also compared on data with injected faults, including a violation
that only shows when two documents are seen together.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path
from unittest import mock

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnk_ld import gates
from carnk_ld.constants import GRAPH_FACTS, GRAPH_MAPPINGS, GRAPH_METADATA, GRAPH_ONTOLOGY, GRAPH_PROVENANCE
from carnk_ld.errors import CarnkError, InputError, ValidationFailed
from carnk_ld.gates import Global, QueryService, Sources, qc_gate, shacl_gate
from carnk_ld.graph import document_graph, metadata_graph, ontology_sources
from carnk_ld.options import BuildOptions
from carnk_ld.parts import Cache, Summary, part_from_graphs, scope_of
from carnk_ld.pipeline import BuildSummary, cache_dir, run_build
from carnk_ld.qc import load_checks
from carnk_ld.validate import fast_validate, load_shapes
from carnk_ld.workers import Workers
from tests.conftest import INPUT_DIRS, PROJECT, claim_of, edit, tree_bytes
from tests.oracle import KnowledgeGraph, build_graph, load_corpus, oracle_release, run_checks

N = ox.NamedNode
CARNK = "https://w3id.org/carnk/"
RDF_TYPE = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL_CLASS = N("http://www.w3.org/2002/07/owl#Class")


def _build(root: Path, out: Path, **options: object) -> BuildSummary:
    return run_build(root, out, BuildOptions(**options))  # type: ignore[arg-type]


def _graph_files(out: Path) -> dict[str, bytes]:
    """The release's files but the site, whose pages the oracle does not render (tests/test_site.py tests them).

    ``SHA256SUMS`` keeps the lines of those files; the site's are checked by comparing
    builds with each other (below and in tests/test_site.py).
    """
    files = {name: data for name, data in tree_bytes(out).items() if not name.startswith("site/")}
    files["SHA256SUMS"] = b"".join(
        line + b"\n" for line in files["SHA256SUMS"].split(b"\n") if line and b"  site/" not in line
    )
    return files


def _assert_oracle(root: Path, out: Path, step: str) -> None:
    """The release in ``out`` is the oracle's, file by file (the site aside)."""
    built, expected = _graph_files(out), oracle_release(root)
    assert built.keys() == expected.keys()
    for name in expected:
        assert built[name] == expected[name], f"after {step}: {name} differs from the whole-graph oracle"


def _reused(summary: BuildSummary) -> tuple[int, int]:
    words = summary.cache.split()
    return int(words[0]), int(words[2])


@pytest.mark.slow
def test_project_corpus_cold_and_warm_equal_the_oracle(tmp_path: Path) -> None:
    first = _build(PROJECT, tmp_path / "out")
    _assert_oracle(PROJECT, tmp_path / "out", "cold")
    assert _reused(first)[0] == 0
    again = _build(PROJECT, tmp_path / "out")
    assert _reused(again)[0] == _reused(again)[1]
    assert tree_bytes(tmp_path / "out") == tree_bytes(PROJECT / "build")  # and the committed release


@pytest.mark.slow
def test_every_kind_of_edit_rebuilds_exactly(generated_corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    out = tmp_path / "out"
    docs = sorted((root / "documents").glob("*.txt"))
    assert len(docs) >= 4
    total = len(docs)

    def step(name: str) -> tuple[int, int]:
        summary = _build(root, out)
        _assert_oracle(root, out, name)
        return _reused(summary)

    assert step("cold") == (0, total)
    assert step("unchanged") == (total, total)

    # a document gains an excluded sentence (provenance only)
    doc = docs[1]
    sentence = "An editorial note without a claim."
    text = doc.read_text(encoding="utf-8") + sentence + "\n"
    facts = root / "facts" / f"{doc.stem}.yaml"
    old_sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    doc.write_text(text, encoding="utf-8")
    edit(facts, old_sha, hashlib.sha256(text.encode("utf-8")).hexdigest())
    facts.write_text(
        facts.read_text(encoding="utf-8") + f'  - quote: "{sentence}"\n    reason: not-a-factual-claim\n',
        encoding="utf-8",
    )
    assert step("document") == (total - 1, total)

    # a fact changes polarity: statements, a plain triple and the negated-claim check change
    edit(root / "facts" / f"{docs[2].stem}.yaml", "polarity: negated", "polarity: affirmed")
    assert step("fact") == (total - 1, total)

    # a new document (a copy under a name sharing a prefix) and a removed one
    new = root / "documents" / f"{docs[3].stem}-2.txt"
    shutil.copy(docs[3], new)
    (root / "facts" / f"{new.stem}.yaml").write_text(
        (root / "facts" / f"{docs[3].stem}.yaml")
        .read_text(encoding="utf-8")
        .replace(f"document: {docs[3].name}", f"document: {new.name}"),
        encoding="utf-8",
    )
    docs[0].unlink()
    (root / "facts" / f"{docs[0].stem}.yaml").unlink()
    assert step("added-removed") == (total - 1, total)

    # a shape changes: parts are reused, validation is redone
    edit(
        root / "shapes" / "provenance.shapes.ttl",
        "sh:datatype xsd:string ; sh:minLength 1 ;",
        "sh:datatype xsd:string ; sh:minLength 1 ; sh:maxLength 100000 ;",
    )
    assert step("shape") == (total, total)

    # a QC check changes severity: its answers are recomputed, the report follows
    edit(root / "queries" / "checks" / "missing-synonym-violation.rq", "# severity: INFO", "# severity: WARN")
    step("check")
    assert "WARN missing-synonym" in (out / "qc-report.txt").read_text(encoding="utf-8")

    # the ontology changes: every part depends on it, none is reused
    ontology = root / "ontology" / "carnk.ttl"
    edit(ontology, 'rdfs:label "NK cell"@en', 'rdfs:label "NK cell"@en ;\n    rdfs:comment "edited"@en')
    assert step("ontology") == (0, total)


# Names that share prefixes, differ in case, and order differently as file names
# ("trial-2.txt" < "trial.txt") and as document ids ("trial" < "trial-2").
NAMES = ["trial", "trial-2", "trial.2", "trial_2", "Trial", "TRIAL", "trial2", "t", "a-b", "a.b", "a_b", "z9"]


def _corpus_of(names: list[str], root: Path) -> Path:
    """The project corpus with its documents copied under the given names (each with its facts)."""
    for name in INPUT_DIRS:
        if name not in ("documents", "facts"):
            shutil.copytree(PROJECT / name, root / name)
    (root / "documents").mkdir()
    (root / "facts").mkdir()
    sources = sorted((PROJECT / "documents").glob("*.txt"))
    for index, name in enumerate(names):
        source = sources[index % len(sources)]
        shutil.copy(source, root / "documents" / f"{name}.txt")
        facts = (PROJECT / "facts" / f"{source.stem}.yaml").read_text(encoding="utf-8")
        (root / "facts" / f"{name}.yaml").write_text(
            facts.replace(f"document: {source.name}", f"document: {name}.txt"), encoding="utf-8"
        )
    return root


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
def test_the_release_is_the_same_whatever_the_names_shards_jobs_and_cache(names: list[str], tmp_path_factory) -> None:
    base = tmp_path_factory.mktemp("names")
    root = _corpus_of(names, base / "corpus")
    expected = oracle_release(root)
    sites: dict[str, dict[str, bytes]] = {}
    for label, options, batches in (
        ("one process, cold cache", {"jobs": 1}, 64),
        ("one process, warm cache", {"jobs": 1}, 64),
        ("no cache", {"jobs": 1, "cache": False}, 64),
        ("one shard of every document", {"jobs": 1, "cache": False}, 1),
        ("a shard per document", {"jobs": 1, "cache": False}, 4096),
    ):
        out = base / label.replace(" ", "-").replace(",", "")
        with mock.patch("carnk_ld.parts.BATCHES", batches):
            _build(root, out, **options)
        assert _graph_files(out) == expected, f"{names}: {label}"
        sites[label] = {name: data for name, data in tree_bytes(out).items() if name.startswith("site/")}
    assert all(site == sites["one process, cold cache"] for site in sites.values())


@pytest.mark.slow
def test_worker_processes_give_the_same_release(generated_corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("carnk_ld.workers.PARALLEL_FROM", 1)  # every map runs in worker processes
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    summary = _build(root, tmp_path / "two", jobs=2)
    assert summary.ran_on == "2 local processes"
    _build(root, tmp_path / "one", jobs=1, cache=False)
    assert tree_bytes(tmp_path / "two") == tree_bytes(tmp_path / "one")
    _assert_oracle(root, tmp_path / "two", "two workers")


@pytest.mark.slow
def test_an_input_error_is_reported_the_same_by_worker_processes(
    generated_corpus: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("carnk_ld.workers.PARALLEL_FROM", 1)
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    facts = sorted((root / "facts").glob("*.yaml"))
    edit(facts[1], "polarity: negated", "polarity: no")
    edit(facts[3], "polarity: negated", "polarity: maybe")
    messages = []
    for jobs in (1, 2):
        with pytest.raises(CarnkError) as failure:
            _build(root, tmp_path / f"out-{jobs}", jobs=jobs)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert f"facts/{facts[1].name}:" in messages[0] and "got 'no'" in messages[0]
    assert messages[0].index(facts[1].name) < messages[0].index(facts[3].name)  # every file, in order
    assert not (tmp_path / "out-1").exists()


@pytest.mark.slow
def test_a_failing_gate_reports_what_the_oracle_reports(generated_corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    out = tmp_path / "out"
    _build(root, out)
    before = tree_bytes(out)
    edit(
        root / "shapes" / "provenance.shapes.ttl",
        "sh:datatype xsd:string ; sh:minLength 1 ;",
        "sh:datatype xsd:string ; sh:minLength 1 ; sh:maxLength 40 ;",
    )
    with pytest.raises(ValidationFailed) as failure:
        _build(root, out)
    assert failure.value.report_text.encode("utf-8") == oracle_release(root)["validation-report.txt"]
    assert "segments/" not in failure.value.report_text and "documents/" in failure.value.report_text
    assert tree_bytes(out) == before  # the previous release stays


@pytest.mark.slow
def test_cache_damage_and_code_changes_never_serve_stale_parts(
    generated_corpus: Path, tmp_path: Path, monkeypatch
) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    out = tmp_path / "out"
    _build(root, out)
    reference = tree_bytes(out)
    cache = cache_dir(out)
    parts = sorted(cache.glob("part-*"))
    damaged = parts[0].read_bytes()
    parts[0].write_bytes(damaged[:-10] + b"0123456789")  # same length, different content
    parts[1].write_bytes(b"")
    assert _reused(_build(root, out))[0] == len(parts) - 2
    assert tree_bytes(out) == reference
    monkeypatch.setattr("carnk_ld.cache.code_fingerprint", lambda: "another version of the code")
    assert _reused(_build(root, out))[0] == 0  # a new code version shares nothing with the old cache
    assert tree_bytes(out) == reference
    names = {p.name for p in cache.iterdir()}
    assert len([n for n in names if n.startswith("part-")]) == len(parts)  # the old entries were pruned


@pytest.mark.slow
def test_a_cache_others_can_write_to_is_never_read(generated_corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    out = tmp_path / "out"
    _build(root, out)
    reference = tree_bytes(out)
    cache = cache_dir(out)
    assert cache.stat().st_mode & 0o777 == 0o700
    cache.chmod(0o777)
    summary = _build(root, out)
    assert "writable by other users" in summary.cache and _reused(summary)[0] == 0
    assert tree_bytes(out) == reference
    cache.chmod(0o700)
    assert _reused(_build(root, out))[0] > 0


@pytest.mark.slow
def test_shapes_that_read_shared_nodes_validate_one_shard_of_everything(
    generated_corpus: Path, generated_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    # A relation some class has two plain triples of (from any documents): only the union of the
    # documents' shards shows that class over the shape's maximum.
    classes = {t.subject for t in generated_graph.ontology if t.predicate == RDF_TYPE and t.object == OWL_CLASS}
    counts = Counter((t.subject, t.predicate) for t in generated_graph.facts if t.subject in classes)
    path = min(p.value for (_, p), n in counts.items() if n >= 2)
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    (root / "shapes" / "extra.shapes.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://w3id.org/carnk/shapes/ReadsPlainTriples> a sh:NodeShape ;
    sh:targetClass owl:Class ;
    sh:property [ sh:path <PATH> ; sh:maxCount 1 ;
                  sh:severity sh:Warning ;
                  sh:message "reads what documents say about a class" ] .
""".replace("PATH", path),
        encoding="utf-8",
    )
    summary = _build(root, tmp_path / "out")
    assert "one shard of every document" in summary.engine
    _assert_oracle(root, tmp_path / "out", "shared-node shape")
    assert b"reads what documents say about a class" in (tmp_path / "out" / "validation-report.txt").read_bytes()


@pytest.mark.slow
def test_the_pyshacl_engine_gives_the_committed_release(tmp_path: Path) -> None:
    summary = _build(PROJECT, tmp_path / "out", shacl_engine="pyshacl", cache=False)
    assert summary.engine == "pySHACL"
    assert tree_bytes(tmp_path / "out") == tree_bytes(PROJECT / "build")


def test_the_ontology_may_not_describe_documents_nodes(corpus: Path, tmp_path: Path) -> None:
    ontology = corpus / "ontology" / "carnk.ttl"
    ontology.write_text(
        ontology.read_text(encoding="utf-8")
        + "\n<https://w3id.org/carnk/NKCell> <http://www.w3.org/2000/01/rdf-schema#seeAlso> "
        "<https://w3id.org/carnk/kg/doc/carnk-overview> .\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as failure:
        _build(corpus, tmp_path / "out")
    assert "ontology/carnk.ttl:" in str(failure.value) and "kg/doc/carnk-overview" in str(failure.value)


# -- the gates on shards, with injected faults --------------------------------------------


def _parts_of(root: Path, inject=None):
    """Parts built from each document's triples (optionally edited), G, and the whole-graph equivalent."""
    corpus = load_corpus(root)
    kg = build_graph(corpus.ontology, corpus.factsets, corpus.mappings, corpus.classes)
    parts, graphs_by_doc = [], {}
    for factset in sorted(corpus.factsets, key=lambda f: f.document.doc_id):
        graph = document_graph(factset)
        graphs = {GRAPH_FACTS: list(graph.facts), GRAPH_PROVENANCE: list(graph.provenance)}
        if inject:
            inject(factset.document.doc_id, graphs)
        graphs = {name: list(dict.fromkeys(triples)) for name, triples in graphs.items()}
        doc_id = factset.document.doc_id
        summary = Summary({}, 0, 0, 0, 0, frozenset())
        parts.append(
            part_from_graphs(
                doc_id, doc_id, graphs, graph.sources, graph.coverage, factset.document.shown, factset.path, summary
            )
        )
        graphs_by_doc[doc_id] = graphs
    global_graphs = {GRAPH_ONTOLOGY: kg.ontology, GRAPH_MAPPINGS: kg.mappings, GRAPH_METADATA: kg.metadata}
    if inject:
        inject(None, global_graphs)
    glob = Global.of(global_graphs)
    whole = dict(global_graphs)
    for name in (GRAPH_FACTS, GRAPH_PROVENANCE):
        whole[name] = list(dict.fromkeys(t for graphs in graphs_by_doc.values() for t in graphs[name]))
    return corpus, kg, parts, glob, whole


def _by_type(graphs: dict[str, list[ox.Triple]], cls: str) -> list[ox.NamedNode]:
    return [
        t.subject for ts in graphs.values() for t in ts if t.predicate == RDF_TYPE and t.object.value == CARNK + cls
    ]


def local_faults(doc_ids: list[str]):
    """Faults inside documents (each its own), in G, and one that needs two documents to show."""
    first, second = doc_ids[0], doc_ids[1]
    negated_claim: list[ox.Triple] = []

    def inject(doc_id: str | None, graphs: dict[str, list[ox.Triple]]) -> None:
        facts, prov = graphs.get(GRAPH_FACTS), graphs.get(GRAPH_PROVENANCE)
        if doc_id is None:  # G: an undefined ontology term, a broken mapping record
            graphs[GRAPH_ONTOLOGY] = [
                *graphs[GRAPH_ONTOLOGY],
                ox.Triple(N(CARNK + "Undefined"), RDF_TYPE, N("http://www.w3.org/2002/07/owl#Class")),
            ]
            record = next(
                t.object for t in graphs[GRAPH_MAPPINGS] if t.predicate.value == "https://w3id.org/sssom/mappings"
            )
            graphs[GRAPH_MAPPINGS] = [
                *graphs[GRAPH_MAPPINGS],
                ox.Triple(record, N("http://www.w3.org/2002/07/owl#annotatedProperty"), N(CARNK + "notSkos")),
            ]
            return
        assert facts is not None and prov is not None
        if doc_id == first:
            document = _by_type(graphs, "Document")[0]
            prov[:] = [t for t in prov if t.predicate.value != CARNK + "sha256"]
            prov.append(ox.Triple(document, N("http://purl.org/dc/terms/title"), ox.Literal("second title")))
            negated_claim.append(claim_of(facts, CARNK + "polarity", CARNK + "Negated"))
            negated_claim.append(claim_of(facts, CARNK + "modality", CARNK + "Possible"))
            facts.append(ox.Triple(_by_type(graphs, "Statement")[3], N(CARNK + "polarity"), N(CARNK + "Uncertain")))
            outcome = _by_type(graphs, "CompleteResponse")[0]
            facts[:] = [
                t for t in facts if not (t.subject == outcome and t.predicate.value == CARNK + "numerator")
            ]
            facts.append(
                ox.Triple(
                    outcome,
                    N(CARNK + "numerator"),
                    ox.Literal("900", datatype=N("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")),
                )
            )
        if doc_id == second:  # another document states the first one's denied claim as a plain fact
            facts.extend(negated_claim)
            sentence = _by_type(graphs, "Sentence")[2]
            prov[:] = [t for t in prov if not (t.subject == sentence and t.predicate.value == CARNK + "segmentText")]
            prov.append(ox.Triple(sentence, N(CARNK + "segmentText"), ox.Literal("")))
            prov[:] = [t for t in prov if t.predicate.value != CARNK + "exclusionReason"]

    return inject


def test_shards_give_the_whole_graph_results_with_faults_across_documents(generated_corpus: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated_corpus / "documents").glob("*.txt"))
    corpus, kg, parts, glob, whole = _parts_of(generated_corpus, local_faults(doc_ids))
    shapes = load_shapes(generated_corpus / "shapes")
    service = QueryService(glob, parts, Cache(None), Workers(1))
    sources = Sources(parts, ontology_sources(corpus.ontology, corpus.mappings))
    result = shacl_gate("fast", shapes, "s", glob, parts, service, sources, Cache(None), Workers(1))
    union = list(dict.fromkeys(t for ts in whole.values() for t in ts))
    expected = fast_validate(union, shapes, dict(kg.sources))
    assert result == expected, "\n".join(
        sorted({v.render() for v in result.violations} ^ {v.render() for v in expected.violations})
    )
    fired = {v.shape.rsplit("/", 1)[-1] for v in result.violations}
    assert {
        "DocumentShape",
        "SegmentShape",
        "StatementShape",
        "ClinicalStudyShape",
        "OntologyTermShape",
        "MappingRecordShape",
    } <= fired
    cross = [v for v in result.violations if "appears as a plain triple" in v.message]
    # The denial and the merely possible claim in one document, the claims as plain facts in another.
    assert len({v.focus for v in cross}) >= 2 and {scope_of(v.focus) for v in cross} == {doc_ids[0]}


def test_a_part_that_mentions_another_documents_node_is_a_bug_not_a_result(generated_corpus: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated_corpus / "documents").glob("*.txt"))

    def inject(doc_id, graphs):
        if doc_id == doc_ids[1]:
            graphs[GRAPH_FACTS].append(
                ox.Triple(N(f"{CARNK}kg/doc/{doc_ids[1]}"), N(CARNK + "x"), N(f"{CARNK}kg/doc/{doc_ids[0]}"))
            )

    _, _, parts, glob, _ = _parts_of(generated_corpus, inject)
    assert parts[1].local
    shapes = load_shapes(generated_corpus / "shapes")
    service = QueryService(glob, parts, Cache(None), Workers(1))
    with pytest.raises(RuntimeError, match="belongs to document"):
        shacl_gate("fast", shapes, "s", glob, parts, service, Sources(parts, {}), Cache(None), Workers(1))


def test_qc_on_shards_equals_qc_on_the_whole_dataset(generated_corpus: Path, tmp_path: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated_corpus / "documents").glob("*.txt"))
    deprecated = N(CARNK + "CARNKCell")

    def inject(doc_id, graphs):
        if doc_id is None:
            graphs[GRAPH_ONTOLOGY] = [
                *graphs[GRAPH_ONTOLOGY],
                ox.Triple(
                    deprecated,
                    N("http://www.w3.org/2002/07/owl#deprecated"),
                    ox.Literal("true", datatype=N("http://www.w3.org/2001/XMLSchema#boolean")),
                ),
                ox.Triple(
                    N(CARNK + "NKCell"),
                    N("http://www.w3.org/2000/01/rdf-schema#label"),
                    ox.Literal(" padded ", language="en"),
                ),
            ]
        elif doc_id == doc_ids[2]:
            graphs[GRAPH_FACTS].append(
                ox.Triple(N(f"{CARNK}kg/fact/{doc_id}/x"), N(CARNK + "undeclaredThing"), deprecated)
            )

    corpus, _, parts, glob, whole = _parts_of(generated_corpus, inject)
    checks = load_checks(generated_corpus / "queries" / "checks")
    service = QueryService(glob, parts, Cache(tmp_path / "cache"), Workers(1))
    found = qc_gate(checks, service, corpus.ontology, Sources(parts, {}))
    store = ox.Store()
    for name, triples in whole.items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, N(name)) for t in triples)
    expected = run_checks(checks, store, corpus.ontology)
    key = [(f.rule, f.entity, f.property, f.value) for f in found]
    assert key == [(f.rule, f.entity, f.property, f.value) for f in expected]
    assert {"deprecated-reference", "undeclared-term", "label-whitespace"} <= {f.rule for f in found}
    again = QueryService(glob, parts, Cache(tmp_path / "cache"), Workers(1))
    assert qc_gate(checks, again, corpus.ontology, Sources(parts, {})) == found  # from the cache
    assert again.cache.stats.hits["rows"] > 0


def test_metadata_counts_follow_the_parts(generated_corpus: Path) -> None:
    corpus, kg, parts, _, _ = _parts_of(generated_corpus)
    counts = {name: len(triples) for name, triples in kg.graphs().items()}
    shared = {name: set().union(*(p.shared[name] for p in parts)) for name in (GRAPH_FACTS, GRAPH_PROVENANCE)}
    for name in (GRAPH_FACTS, GRAPH_PROVENANCE):
        assert counts[name] == sum(p.own_counts[name] for p in parts) + len(shared[name])
    del counts[GRAPH_METADATA]
    outside = set(kg.ontology) | set(kg.mappings) | shared[GRAPH_FACTS] | shared[GRAPH_PROVENANCE]
    distinct = sum(p.own_triples for p in parts) + len(outside)
    described = metadata_graph(
        corpus.ontology, counts, corpus.mappings, distinct=distinct, elsewhere=outside.__contains__
    )
    assert described == kg.metadata


def test_a_whole_graph_answer_is_reused_until_an_edit_changes_a_graph_it_reads(
    sample_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers on every document are keyed by the graphs the query reads, not by the whole corpus."""
    (sample_corpus / "queries" / "checks" / "negated-statement-violation.rq").write_text(
        "# severity: INFO\n# title: negated statement\n# description: lists negated statements.\n"
        "# fix: none needed.\n# scope: graph\n# graphs: facts\n"
        "PREFIX carnk: <https://w3id.org/carnk/>\n"
        "SELECT ?entity ?property ?value WHERE {\n"
        "  ?entity carnk:polarity carnk:Negated .\n"
        '  BIND (carnk:polarity AS ?property) BIND ("" AS ?value)\n}\n',
        encoding="utf-8",
    )
    stores: list[tuple[str, ...] | None] = []
    real = gates.graph_store

    def counting(texts: list[bytes], *, quads: bool, graphs: tuple[str, ...] | None) -> ox.Store:
        stores.append(graphs)
        return real(texts, quads=quads, graphs=graphs)

    monkeypatch.setattr(gates, "graph_store", counting)
    out = tmp_path / "out"

    def evaluated() -> list[tuple[str, ...] | None]:
        stores.clear()
        _build(sample_corpus, out, jobs=1)
        _assert_oracle(sample_corpus, out, "build")
        return sorted(stores, key=str)

    assert ("facts",) in evaluated()
    # the document gains an excluded sentence: its provenance changes, its facts do not
    doc, facts = sample_corpus / "documents" / "sample.txt", sample_corpus / "facts" / "sample.yaml"
    sentence = "An editorial note without a claim."
    text = doc.read_text(encoding="utf-8") + sentence + "\n"
    edit(facts, hashlib.sha256(doc.read_bytes()).hexdigest(), hashlib.sha256(text.encode("utf-8")).hexdigest())
    doc.write_text(text, encoding="utf-8")
    facts.write_text(
        facts.read_text(encoding="utf-8") + f'  - quote: "{sentence}"\n    reason: not-a-factual-claim\n',
        encoding="utf-8",
    )
    assert ("facts",) not in evaluated(), "the facts graph is as it was: its answer is reused"
    edit(facts, "polarity: negated", "polarity: affirmed")
    assert ("facts",) in evaluated(), "a statement changed: the answer is computed again"
