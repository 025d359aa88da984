"""The release: every serialisation says the same thing, deterministically."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pyld.jsonld
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import to_isomorphic
from rdflib.namespace import OWL, RDFS

from carnk_ld import release
from carnk_ld.constants import (
    GRAPH_FACTS,
    GRAPH_MAPPINGS,
    GRAPH_METADATA,
    GRAPH_ONTOLOGY,
    GRAPH_PROVENANCE,
    ONTOLOGY_IRI,
)
from carnk_ld.errors import InputError
from carnk_ld.release import Tree, TreeFile, publish_release, release_target
from tests.conftest import assert_isomorphic, edit, run_process, tree_bytes

EXPECTED_FILES = {
    "RELEASE.json",
    "SHA256SUMS",
    "carnk.jsonld",
    "carnk.nq",
    "carnk.nt",
    "carnk.sssom.tsv",
    "carnk.sssom.ttl",
    "carnk.ttl",
    "context.jsonld",
    "class-hierarchy.tsv",
    "coverage.tsv",
    "conflicts.tsv",
    "ontology-inferred.ttl",
    "ontology.owl",
    "mapping-coverage.tsv",
    "qc-report.tsv",
    "qc-report.txt",
    "void.ttl",
    "validation-report.txt",
}


def parse(path: Path, fmt: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(path, format=fmt)
    return graph


def no_fetch(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def test_release_has_every_file(release: Path) -> None:
    assert {p.name for p in release.iterdir()} == EXPECTED_FILES | {"site"}


def test_checksums_match_the_files(release: Path) -> None:
    lines = (release / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    site = {name for name in listed if name.startswith("site/")}
    assert set(listed) - site == EXPECTED_FILES - {"SHA256SUMS"}
    on_disk = {"site/" + str(p.relative_to(release / "site")) for p in (release / "site").rglob("*") if p.is_file()}
    assert site == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest


def test_the_marker_names_the_tool_and_format_and_is_listed(release: Path) -> None:
    assert (release / "RELEASE.json").read_bytes() == b'{"format": 1, "tool": "carnk-ld"}\n'
    assert "  RELEASE.json\n" in (release / "SHA256SUMS").read_text(encoding="ascii")


def test_all_serialisations_are_isomorphic(release: Path) -> None:
    nt = parse(release / "carnk.nt", "nt")
    assert len(nt) == len((release / "carnk.nt").read_text(encoding="utf-8").splitlines()) > 0
    assert_isomorphic(nt, parse(release / "carnk.ttl", "turtle"), "carnk.ttl")
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    # the one-graph dumps are the union of the named graphs less the ontology's header
    header = rdflib.URIRef(ONTOLOGY_IRI)
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        if s != header:
            union.add((s, p, o))
    assert_isomorphic(nt, union, "carnk.nq")
    # JSON-LD (named graphs) read back by pyld, an independent processor, with fetching forbidden
    document = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))
    nquads = pyld.jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": no_fetch})
    from_pyld = rdflib.Dataset()
    from_pyld.parse(data=nquads, format="nquads")
    # and by rdflib's own JSON-LD parser
    from_rdflib = rdflib.Dataset()
    from_rdflib.parse(release / "carnk.jsonld", format="json-ld")
    for name in (GRAPH_ONTOLOGY, GRAPH_FACTS, GRAPH_PROVENANCE, GRAPH_MAPPINGS, GRAPH_METADATA):
        graph = named_graph(dataset, name)
        assert_isomorphic(graph, named_graph(from_pyld, name), f"{name} of carnk.jsonld read by pyld")
        assert_isomorphic(graph, named_graph(from_rdflib, name), f"{name} of carnk.jsonld read by rdflib")


def named_graph(dataset: rdflib.Dataset, name: str) -> rdflib.Graph:
    """One named graph of a dataset as a plain graph."""
    graph = rdflib.Graph()
    for triple in dataset.graph(rdflib.URIRef(name)):
        graph.add(triple)
    return graph


def test_jsonld_uses_the_published_context(release: Path) -> None:
    document = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))
    context = json.loads((release / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert "@version" not in context["@context"]  # nothing in it needs JSON-LD 1.1
    # compacted: properties use prefixes, not full IRIs
    facts = next(graph for graph in document["@graph"] if graph["@id"] == "kg:graph/facts")
    statement = next(n for n in facts["@graph"] if n.get("@type") == "carnk:Statement")
    assert "rdf:subject" in statement and "carnk:polarity" in statement
    # a document that references the context file expands the same with a local loader
    referenced = {"@context": "https://w3id.org/carnk/context.jsonld", "@graph": document["@graph"]}

    def local_loader(url: str, options: dict | None = None) -> dict:
        assert url == "https://w3id.org/carnk/context.jsonld"
        return {"contextUrl": None, "documentUrl": url, "document": context}

    expanded = pyld.jsonld.expand(referenced, {"documentLoader": local_loader})
    assert expanded == pyld.jsonld.expand(document, {"documentLoader": no_fetch})


def test_ontology_rdfxml_is_the_ontology_graph(release: Path, project_root: Path) -> None:
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    ontology = rdflib.Graph()
    for s, p, o in dataset.graph(rdflib.URIRef(GRAPH_ONTOLOGY)):
        ontology.add((s, p, o))
    assert_isomorphic(ontology, parse(release / "ontology.owl", "xml"), "ontology.owl")
    source = parse(project_root / "ontology" / "carnk.ttl", "turtle")
    # What the release adds to the source is the reasoner's subclass edges, each annotated as inferred.
    inferred = rdflib.URIRef("http://www.geneontology.org/formats/oboInOwl#is_inferred")
    marked = set()
    for axiom in list(ontology.subjects(inferred, rdflib.Literal("true"))):
        edge = (
            ontology.value(axiom, OWL.annotatedSource),
            ontology.value(axiom, OWL.annotatedProperty),
            ontology.value(axiom, OWL.annotatedTarget),
        )
        assert edge[1] == RDFS.subClassOf and edge in ontology and edge not in source, edge
        marked.add((str(edge[0]), str(edge[2])))
        ontology.remove(edge)
        ontology.remove((axiom, None, None))
    assert_isomorphic(source, ontology, "the ontology graph of carnk.nq, less its inferred edges")
    # the marked edges are the direct parents class-hierarchy.tsv shows as inferred and not asserted
    rows = [line.split("\t") for line in (release / "class-hierarchy.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    assert marked == {(row[0], parent) for row in rows for parent in set(row[3].split()) - set(row[2].split())}


def test_nquads_have_one_graph_per_component_and_no_blank_nodes_outside_owl(release: Path) -> None:
    quads = list(ox.parse(path=str(release / "carnk.nq")))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {GRAPH_ONTOLOGY, GRAPH_FACTS, GRAPH_PROVENANCE, GRAPH_MAPPINGS, GRAPH_METADATA}
    for quad in quads:
        if quad.graph_name.value != GRAPH_ONTOLOGY:
            assert not isinstance(quad.subject, ox.BlankNode), quad
            assert not isinstance(quad.object, ox.BlankNode), quad


def test_ntriples_are_sorted_and_unique(release: Path) -> None:
    lines = (release / "carnk.nt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))


@pytest.mark.slow
def test_rebuild_in_separate_processes_is_byte_identical(tmp_path: Path, project_root: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        result = run_process("build", "--root", str(project_root), "--out", str(out))
        assert result.returncode == 0, result.stderr
    assert tree_bytes(first) == tree_bytes(second)


@pytest.mark.slow
def test_release_does_not_depend_on_where_the_corpus_lives(corpus: Path, release: Path) -> None:
    out = corpus / "elsewhere"
    result = run_process("build", "--root", ".", "--out", "elsewhere", cwd=corpus)
    assert result.returncode == 0, result.stderr
    assert tree_bytes(out) == tree_bytes(release)


def test_committed_release_is_what_the_inputs_build(release: Path, project_root: Path) -> None:
    committed = project_root / "build"
    assert tree_bytes(committed) == tree_bytes(release), "build/ is stale: run `make build` and commit it"


def test_blank_node_labels_are_canonical(release: Path) -> None:
    text = (release / "carnk.nt").read_text(encoding="utf-8")
    labels = {token for line in text.splitlines() for token in line.split() if token.startswith("_:")}
    assert labels and all(label.startswith("_:c14n") for label in labels)
    canonical = to_isomorphic(parse(release / "carnk.nt", "nt"))
    assert len(canonical) == len(text.splitlines())


def test_a_failed_isomorphism_names_the_differing_triples() -> None:
    one, two = rdflib.Graph(), rdflib.Graph()
    one.parse(data="<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:p> <urn:c> .\n", format="nt")
    two.parse(data="<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:p> <urn:d> .\n", format="nt")
    with pytest.raises(AssertionError) as failure:
        assert_isomorphic(one, two, "copy")
    text = str(failure.value)
    assert "<urn:a> <urn:p> <urn:c> ." in text and "<urn:a> <urn:p> <urn:d> ." in text
    assert "<urn:b>" not in text


# -- what --out may replace ------------------------------------------------------------


def listing(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (recursively): a file's bytes, a symlink's target, or "dir"."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = path.read_bytes()
    return found


def build(cli, root: Path, out: Path | str, command: str = "build"):
    return cli(command, "--root", str(root), "--out", str(out), "--no-progress")


@pytest.fixture
def broken_corpus(sample_corpus: Path) -> Path:
    """A corpus whose ontology does not parse: a refusal of --out must come before any gate reads it."""
    (sample_corpus / "ontology" / "carnk.ttl").write_text("this is not Turtle\n", encoding="utf-8")
    return sample_corpus


def test_a_folder_with_a_sha256sums_file_is_not_a_release(cli, sample_corpus: Path, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "ubuntu.iso").write_bytes(b"\x00ISO" * 1000)
    (downloads / "thesis-draft.docx").write_bytes(b"PK\x03\x04 my thesis")
    (downloads / "SHA256SUMS").write_text(f"{'0' * 64} *ubuntu.iso\n", encoding="ascii")
    before = listing(tmp_path)
    result = build(cli, sample_corpus, downloads)
    assert result.exit_code == 2, result.output
    assert f"{downloads}: error: refusing to replace {downloads}: not a carnk-ld release: there is no RELEASE.json" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert listing(tmp_path) == before


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        ("/", "the file system root cannot be a release folder"),
        ("a-file", "the output is a file; refusing to replace it"),
        ("/dev/null", "the output is not a folder (a device, socket or pipe)"),
        ("corpus", "this folder holds the corpus"),
        ("corpus/..", "this folder holds the corpus"),
        ("corpus/ontology", "the release folder would overlap the corpus input"),
        ("corpus/documents/release", "the release folder would overlap the corpus input"),
        ("corpus/queries", "the release folder would overlap the corpus input"),
        ("foreign", "not a carnk-ld release: there is no RELEASE.json"),
    ],
)
def test_an_output_that_is_not_a_release_is_refused_before_any_work(
    cli, broken_corpus: Path, tmp_path: Path, out: str, fragment: str, command: str
) -> None:
    corpus = tmp_path / "corpus"
    broken_corpus.rename(corpus)
    (tmp_path / "a-file").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me\n", encoding="utf-8")
    target = Path(out) if out.startswith("/") else tmp_path / out
    before = listing(tmp_path)
    root_before = sorted(os.listdir("/")) if out == "/" else None
    result = build(cli, corpus, target, command)
    assert result.exit_code == 2, result.output
    assert f"{target}: error: " in result.output or f"{target} (-> " in result.output, result.output
    assert fragment in result.output
    assert "hint: " in result.output
    assert "carnk.ttl" not in result.output, "the output must be refused before the corpus is read"
    assert "Traceback" not in result.output
    assert listing(tmp_path) == before
    if root_before is not None:
        assert sorted(os.listdir("/")) == root_before


def test_a_symlink_to_a_release_is_followed_and_stays_a_symlink(
    cli, sample_corpus: Path, sample_release: Path, tmp_path: Path
) -> None:
    target = tmp_path / "releases" / "current"
    target.parent.mkdir()
    shutil.copytree(sample_release, target)
    link = tmp_path / "published"
    link.symlink_to(target)
    edit(sample_corpus / "facts" / "sample.yaml", "Implied by the contrast", "Implied only by the contrast")
    before = tree_bytes(target)
    result = build(cli, sample_corpus, link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    after = tree_bytes(target)
    assert after != before and b"Implied only by the contrast" in after["carnk.ttl"]
    assert sorted(os.listdir(tmp_path)) == ["published", "releases", "sample"]
    assert sorted(os.listdir(target.parent)) == [".current.cache", "current"]


def test_a_symlink_to_a_foreign_folder_is_refused_and_stays_a_symlink(
    cli, sample_corpus: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8 not much of a photo")
    link = tmp_path / "published"
    link.symlink_to(foreign)
    before = listing(tmp_path)
    result = build(cli, sample_corpus, link)
    assert result.exit_code == 2, result.output
    assert f"refusing to replace {link} (-> {foreign}): not a carnk-ld release" in result.output
    assert listing(tmp_path) == before


def test_a_failed_build_leaves_the_parent_as_it_was(cli, sample_corpus: Path, tmp_path: Path) -> None:
    """No staging directory, lock, cache or created folder outlives a build that fails at a gate."""
    parent = tmp_path / "site"
    parent.mkdir()
    (parent / "index.html").write_text("<p>mine</p>\n", encoding="utf-8")
    # a house rule every curator note breaks: the build fails at SHACL, after it cached every document
    (sample_corpus / "shapes" / "local.shapes.ttl").write_text(HOUSE_RULE, encoding="utf-8")
    for out in (parent / "release", parent / "new" / "deeper" / "release"):
        before = listing(parent)
        result = build(cli, sample_corpus, out)
        assert result.exit_code == 1, result.output
        assert "House rule: no curator notes." in result.output
        assert listing(parent) == before


HOUSE_RULE = """\
@prefix carnk: <https://w3id.org/carnk/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://example.org/NoNotes> a sh:NodeShape ; sh:targetClass carnk:Statement ;
    sh:property [ sh:path rdfs:comment ; sh:maxCount 0 ; sh:message "House rule: no curator notes." ] .
"""


def test_a_successful_build_leaves_the_release_and_its_cache_only(cli, sample_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "site" / "release"
    result = build(cli, sample_corpus, out)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out.parent)) == [".release.cache", "release"]
    assert sorted(os.listdir(tmp_path)) == ["sample", "site"]


def test_a_file_edited_after_the_start_check_is_still_refused_and_an_unchanged_one_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "release"
    publish_release({"a.txt": lambda: b"old\n", "b.txt": lambda: b"kept\n"}, out)
    verified: dict = {}
    release_target(out, verified=verified)  # as a build does when it starts
    hashed: list[str] = []
    real = release.sha256_file

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(release, "sha256_file", counting)
    publish_release({"a.txt": lambda: b"new\n"}, out, verified=dict(verified))
    assert hashed == [], "files in the state found intact at the start are not read again"
    assert (out / "a.txt").read_bytes() == b"new\n"

    release_target(out, verified=verified)
    (out / "a.txt").write_bytes(b"mine\n")  # the user edits the release while the build runs
    with pytest.raises(InputError) as refused:
        publish_release({"a.txt": lambda: b"newer\n"}, out, verified=verified)
    assert refused.value.location.path.name == "a.txt"
    assert "changed since it was built" in refused.value.message
    assert (out / "a.txt").read_bytes() == b"mine\n", "the edited release is left as it is"
    assert "a.txt" in hashed


def _tree(files: dict[str, bytes | None], digests: dict[str, str] | None = None) -> Tree:
    """A Tree of the given files; a file given as None has no bytes (the previous release's, by digest)."""
    digests = digests or {}

    def entries():
        for path, data in files.items():
            yield TreeFile(path, hashlib.sha256(data).hexdigest() if data is not None else digests[path], data)

    return Tree(entries)


def _inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def _rebuild(out: Path, files: dict) -> None:
    verified: dict = {}
    release_target(out, verified=verified)  # as a build does when it starts
    publish_release(files, out, verified=verified)


def test_a_folder_s_unchanged_files_are_taken_from_the_release_they_replace(tmp_path: Path) -> None:
    out = tmp_path / "release"
    publish_release({"t": _tree({"a.html": b"same\n", "d/b.html": b"old\n", "d/c.html": b"c\n"})}, out)
    before = _inodes(out)
    kept = hashlib.sha256(b"c\n").hexdigest()
    _rebuild(out, {"t": _tree({"a.html": b"same\n", "d/b.html": b"new\n", "d/c.html": None}, {"d/c.html": kept})})
    after = _inodes(out)
    assert after["t/a.html"] == before["t/a.html"], "an unchanged file is linked, not written again"
    assert after["t/d/c.html"] == before["t/d/c.html"], "a file given by digest only is the old file"
    assert after["t/d/b.html"] != before["t/d/b.html"]
    assert (out / "t" / "d" / "b.html").read_bytes() == b"new\n"
    assert (out / "t" / "d" / "c.html").read_bytes() == b"c\n"
    assert release.check_release(out)["t/d/c.html"] == kept


def test_without_hard_links_the_unchanged_files_are_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "release"
    publish_release({"t": _tree({"a.html": b"same\n", "b.html": b"b\n"})}, out)
    before = _inodes(out)

    def no_links(source: object, target: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    _rebuild(out, {"t": _tree({"a.html": b"same\n", "b.html": None}, {"b.html": hashlib.sha256(b"b\n").hexdigest()})})
    assert (out / "t" / "a.html").read_bytes() == b"same\n"
    assert (out / "t" / "b.html").read_bytes() == b"b\n"
    assert _inodes(out)["t/a.html"] != before["t/a.html"]
    release.check_release(out)


def test_a_file_given_by_digest_that_the_old_release_lacks_fails_the_build_and_keeps_the_release(
    tmp_path: Path,
) -> None:
    out = tmp_path / "release"
    publish_release({"t": _tree({"a.html": b"old\n"})}, out)
    before = tree_bytes(out)
    with pytest.raises(InputError) as failed:
        _rebuild(out, {"t": _tree({"b.html": None}, {"b.html": hashlib.sha256(b"other\n").hexdigest()})})
    assert "the release changed while the build ran" in failed.value.message
    assert tree_bytes(out) == before
