"""The static site of a release (issue 18, contract 1): files, links, highlights, search, JSON-LD.

Expectations are derived from the release's own N-Triples and the corpus's documents (read
here, not through the site's code), so the tests hold for any corpus.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import shutil
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pyld.jsonld
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from carnk_ld.options import BuildOptions
from carnk_ld.pipeline import run_build
from carnk_ld.site import highlight
from tests.conftest import _build_once, assert_isomorphic, tree_bytes, write_sample_corpus

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
BASE = "https://w3id.org/carnk/"
KG = BASE + "kg/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OWL = "http://www.w3.org/2002/07/owl#"
OA = "http://www.w3.org/ns/oa#"
TERM_TYPES = {OWL + t for t in ("Class", "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "NamedIndividual")}
EXTENSIONS = ("html", "ttl", "jsonld", "nt", "rdf")


class Page(HTMLParser):
    """What the tests read of a page: ids, links, marks (with the offset of each piece in its segment)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.alternates: list[tuple[str, str]] = []
        self.jsonld: list[str] = []
        self.h1 = 0
        self.lang = ""
        self.landmarks: set[str] = set()
        self.images_without_alt = 0
        self.segments: dict[str, tuple[int, str]] = {}  # id -> (start, text of its .text span)
        self.marked: dict[str, list[tuple[int, str]]] = defaultdict(list)  # span key -> (document offset, text)
        self._segment: tuple[str, int] | None = None
        self._in_text = 0
        self._text: list[str] = []
        self._marks: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag in ("header", "nav", "main", "footer"):
            self.landmarks.add(tag)
        if tag == "h1":
            self.h1 += 1
        if tag == "img" and not a.get("alt"):
            self.images_without_alt += 1
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a["type"], a["href"]))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.hrefs.append(a["href"])
        if tag == "script" and a.get("type") == "application/ld+json":
            self._script = True
            self.jsonld.append("")
        if tag == "div" and "segment" in a.get("class", "").split():
            self._segment = (a["id"], int(a["data-start"]))
        if tag == "span" and a.get("class") == "text" and self._segment is not None:
            self._in_text = 1
            self._text = []
        elif self._in_text:
            self._in_text += 1
            if tag == "mark":
                self._marks.append(a["data-span"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False
        if self._in_text:
            self._in_text -= 1
            if tag == "mark":
                self._marks.pop()
            if self._in_text == 0 and self._segment is not None:
                self.segments[self._segment[0]] = (self._segment[1], "".join(self._text))
        if tag == "div":
            self._segment = None

    def handle_data(self, data: str) -> None:
        if self._script:
            self.jsonld[-1] += data
        if self._in_text and self._segment is not None:
            offset = self._segment[1] + len("".join(self._text))
            for key in set(self._marks):
                self.marked[key].append((offset, data))
            self._text.append(data)

    def feed_page(self, text: str) -> Page:
        self.feed(text)
        self.close()
        return self


def read_page(path: Path) -> Page:
    return Page().feed_page(path.read_text(encoding="utf-8"))


def release_triples(release: Path) -> list[ox.Triple]:
    return list(ox.parse((release / "carnk.nt").read_bytes(), format=ox.RdfFormat.N_TRIPLES))


def described(release: Path) -> set[str]:
    """The paths contract 1 says the site describes, from the release's triples.

    The ontology, its terms, documents, statements and study reports; then every other subject
    under the base that none of those owns (the dataset, graphs, distributions, mappings...).
    """
    found = {"ontology"}
    subjects = set()
    for t in release_triples(release):
        if not isinstance(t.subject, ox.NamedNode) or not t.subject.value.startswith(BASE):
            continue
        path = t.subject.value[len(BASE) :]
        subjects.add(path)
        if re.fullmatch(r"kg/doc/[^/]+|kg/(fact|study)/[^/]+/[^/]+", path):
            found.add(path)
        elif t.predicate.value == RDF + "type" and t.object.value in TERM_TYPES and not path.startswith("kg/"):
            found.add(path)
    owned = {path for path in subjects if any(path.startswith(p + "/") for p in found)}
    return found | (subjects - owned)


@pytest.fixture(scope="module")
def site(sample_release: Path) -> Path:
    return sample_release / "site"


def test_every_described_resource_has_its_five_files(sample_release: Path, site: Path) -> None:
    paths = described(sample_release)
    assert any(p.startswith("kg/fact/") for p in paths) and any(p.startswith("kg/study/") for p in paths)
    missing = [f"{p}.{ext}" for p in sorted(paths) for ext in EXTENSIONS if not (site / f"{p}.{ext}").is_file()]
    assert not missing
    assert (site / "index.html").is_file() and (site / "style.css").is_file()


def test_every_iri_of_the_release_has_a_page_or_an_owner_with_one(sample_release: Path, site: Path) -> None:
    paths = described(sample_release)
    for name in ("kg/dataset", "kg/graph/facts"):  # the dataset and a named graph, as a user looks them up
        assert name in paths and (site / f"{name}.html").is_file()
        assert f"IRI: <code>{BASE}{name}</code>" in (site / f"{name}.html").read_text(encoding="utf-8")
    without = []
    for t in release_triples(sample_release):
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE) and term.value != BASE:
                path = term.value[len(BASE) :]
                if path.startswith("releases/"):  # a release's files, published beside the site
                    continue
                if not any(path == p or path.startswith(p + "/") for p in paths):
                    without.append(path)
    assert not without, sorted(set(without))[:20]


def test_the_site_is_listed_in_the_checksums(sample_release: Path, site: Path) -> None:
    listed = {
        line.split("  ", 1)[1] for line in (sample_release / "SHA256SUMS").read_text().splitlines()
    }
    on_disk = {"site/" + str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert on_disk and on_disk <= listed


@pytest.fixture(scope="module")
def generated_release(generated_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release of the generated corpus: many documents, studies of registered trials, conflicts."""
    return _build_once(generated_corpus, tmp_path_factory.mktemp("generated-site") / "build")


def test_every_internal_link_and_fragment_resolves(site: Path) -> None:
    assert_links_resolve(site)


@pytest.mark.slow
def test_every_link_of_a_generated_corpus_site_resolves(generated_release: Path) -> None:
    assert_links_resolve(generated_release / "site")


def test_study_pages_show_the_conflicts_of_their_trial(generated_release: Path) -> None:
    rows = [line.split("\t") for line in (generated_release / "conflicts.tsv").read_text().splitlines()[1:]]
    assert rows, "the generated corpus has conflicting reports"
    trials: dict[tuple[str, str], list[str]] = defaultdict(list)  # (document, trial) -> its study reports
    for t in release_triples(generated_release):
        if t.predicate.value == BASE + "reportsOnTrial":
            document = t.subject.value[len(KG + "study/") :].split("/")[0]
            trials[(document, t.object.value)].append(t.subject.value[len(BASE) :])
    site = generated_release / "site"
    for trial, _, _, _, _, doc_a, value_a, _, doc_b, value_b, _ in rows:
        for document in (doc_a, doc_b):
            for study in trials[(document, trial)]:
                text = (site / f"{study}.html").read_text(encoding="utf-8")
                conflicts = text[text.index('id="section-conflicts"') :]
                assert f"<strong>{value_a}</strong>" in conflicts and f"<strong>{value_b}</strong>" in conflicts


def assert_links_resolve(site: Path) -> None:
    pages = {str(p.relative_to(site)): read_page(p) for p in site.rglob("*.html")}
    broken = []
    for name, page in sorted(pages.items()):
        assert page.lang == "en" and page.h1 == 1, name
        assert page.landmarks == {"header", "nav", "main", "footer"}, name
        assert page.images_without_alt == 0, name
        for href in page.hrefs + [h for _, h in page.alternates]:
            if re.match(r"[a-z][a-z0-9+.-]*:", href):  # absolute: outside the site
                continue
            target, _, fragment = href.partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) if target else name
            if resolved.startswith("../") or not (site / resolved).is_file():
                broken.append(f"{name}: {href} (no file {resolved})")
            elif fragment and (not resolved.endswith(".html") or fragment not in pages[resolved].ids):
                broken.append(f"{name}: {href} (no id {fragment} in {resolved})")
    assert not broken, "\n".join(broken[:20])


def test_every_iri_that_belongs_to_a_resource_has_its_fragment_on_its_page(sample_release: Path, site: Path) -> None:
    paths = described(sample_release)
    pages: dict[str, Page] = {}
    checked = set()
    for t in release_triples(sample_release):
        if not isinstance(t.subject, ox.NamedNode) or not t.subject.value.startswith(BASE):
            continue
        path = t.subject.value[len(BASE) :]
        owners = [p for p in paths if path.startswith(p + "/")]
        if path in paths or not owners or path in checked:
            continue
        checked.add(path)
        owner = max(owners, key=len)
        fragment = path[len(owner) + 1 :].replace("/", "-")
        page = pages.setdefault(owner, read_page(site / f"{owner}.html"))
        assert fragment in page.ids, f"{owner}.html has no id {fragment} for <{t.subject.value}>"
    assert any(p.startswith("kg/doc/") and "/segment/" in p for p in checked)


def test_pages_link_their_four_rdf_alternates(sample_release: Path, site: Path) -> None:
    media = {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt",
             "application/rdf+xml": "rdf"}
    for path in sorted(described(sample_release)):
        page = read_page(site / f"{path}.html")
        name = posixpath.basename(path)
        assert sorted(page.alternates) == sorted((m, f"{name}.{ext}") for m, ext in media.items()), path


def test_a_term_page_shows_a_statements_polarity_and_document(sample_release: Path, site: Path) -> None:
    by_subject: dict[str, dict[str, str]] = defaultdict(dict)
    for t in release_triples(sample_release):
        by_subject[t.subject.value][t.predicate.value] = t.object.value
    negated = sorted(s for s, p in by_subject.items() if p.get(BASE + "polarity") == BASE + "Negated")
    assert negated, "the sample corpus has a negated statement"
    statement = negated[0]
    term = by_subject[statement][RDF + "object"]
    assert term.startswith(BASE) and not term.startswith(KG)
    evidence = by_subject[statement][BASE + "evidence"]
    document = by_subject[evidence][OA + "hasSource"]
    text = (site / f"{term[len(BASE):]}.html").read_text(encoding="utf-8")
    statement_link = f'href="{statement[len(BASE):]}.html"'
    rows = [row for row in text.split("<tr>") if statement_link in row]
    assert rows, f"{term} page does not list {statement}"
    assert "negated" in rows[0]
    assert f'href="{document[len(BASE):]}.html"' in rows[0]


def test_a_document_page_highlights_each_quote_at_its_offsets(sample_release: Path, site: Path) -> None:
    root = sample_release.parent
    by_subject: dict[str, dict[str, str]] = defaultdict(dict)
    for t in release_triples(sample_release):
        by_subject[t.subject.value][t.predicate.value] = t.object.value
    checked = 0
    for subject, props in sorted(by_subject.items()):
        if props.get(RDF + "type") != OA + "TextPositionSelector" or not subject.startswith(KG + "fact/"):
            continue
        doc_id = subject[len(KG + "fact/") :].split("/")[0]
        document_text = (root / "documents" / f"{doc_id}.txt").read_text(encoding="utf-8")
        start, end = int(props[OA + "start"]), int(props[OA + "end"])
        page = read_page(site / "kg" / "doc" / f"{doc_id}.html")
        assert f"quote-{start}-{end}" in page.ids
        chunks = page.marked[f"{start}-{end}"]
        assert chunks and chunks[0][0] == start, subject
        for (before, text), (after, _) in itertools.pairwise(chunks):
            assert before + len(text) == after, (subject, before, after)  # contiguous: no text left out
        for seg_id, (seg_start, seg_text) in page.segments.items():
            assert seg_text == document_text[seg_start : seg_start + len(seg_text)], seg_id
        covered = "".join(text for _, text in chunks)
        assert covered == document_text[start:end]
        checked += 1
    assert checked


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("abcdef", [(1, 3)], 'a<mark data-span="1-3" id="quote-1-3">bc</mark>def'),
        (
            "abcdef",
            [(0, 6), (2, 4)],
            '<mark data-span="0-6" id="quote-0-6">ab<mark data-span="2-4" id="quote-2-4">cd</mark>ef</mark>',
        ),
        (  # crossing spans: the inner one is closed and opened again, without its id
            "abcdef",
            [(0, 4), (2, 6)],
            '<mark data-span="0-4" id="quote-0-4">ab<mark data-span="2-6" id="quote-2-6">cd</mark></mark>'
            '<mark data-span="2-6">ef</mark>',
        ),
        ("a<b", [(1, 2)], 'a<mark data-span="1-2" id="quote-1-2">&lt;</mark>b'),
    ],
)
def test_highlight_marks_spans_exactly(text: str, spans: list[tuple[int, int]], expected: str) -> None:
    assert str(highlight(text, 0, spans)) == expected


def test_highlight_at_an_offset_clips_a_span_to_the_segment() -> None:
    # a segment starting at offset 10; a quote from 8 to 13 began in the segment before
    assert str(highlight("hello", 10, [(8, 13)])) == '<mark data-span="8-13">hel</mark>lo'


def test_search_json_has_every_label(sample_release: Path, site: Path) -> None:
    entries = json.loads((site / "search.json").read_text(encoding="utf-8"))
    assert [e["path"] for e in entries] == sorted(e["path"] for e in entries)
    labels = {(e["label"], e["path"]) for e in entries}
    expected = set()
    paths = described(sample_release)
    for t in release_triples(sample_release):
        if t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label" and isinstance(t.subject, ox.NamedNode):
            path = t.subject.value[len(BASE) :]
            if path in paths:
                expected.add((t.object.value, path + ".html"))
    assert expected and expected <= labels
    synonyms = {s for e in entries for s in e["synonyms"]}
    exact = "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym"
    assert {t.object.value for t in release_triples(sample_release) if t.predicate.value == exact} <= synonyms


def test_embedded_jsonld_has_the_triples_of_the_n_triples_file(sample_release: Path, site: Path) -> None:
    paths = sorted(described(sample_release))
    chosen = ["ontology"]
    for prefix in ("kg/doc/", "kg/fact/", "kg/study/"):
        chosen.append(next(p for p in paths if p.startswith(prefix)))
    chosen.append(next(p for p in paths if not p.startswith("kg/") and p != "ontology"))
    for path in chosen:
        page = read_page(site / f"{path}.html")
        assert len(page.jsonld) == 1
        document = json.loads(page.jsonld[0])
        nquads = pyld.jsonld.to_rdf(document, {"format": "application/n-quads"})
        from_page = rdflib.Graph().parse(data=nquads, format="nt")
        from_file = rdflib.Graph().parse(site / f"{path}.nt", format="nt")
        assert len(from_file) > 0
        assert_isomorphic(from_file, from_page, path)
        for ext, fmt in (("ttl", "turtle"), ("rdf", "xml"), ("jsonld", "json-ld")):
            assert isomorphic(from_file, rdflib.Graph().parse(site / f"{path}.{ext}", format=fmt)), (path, ext)


def test_a_statement_page_describes_the_statement_and_its_parts(sample_release: Path, site: Path) -> None:
    statement = next(p for p in sorted(described(sample_release)) if p.startswith("kg/fact/"))
    found = {
        (t.subject.value, t.predicate.value, str(t.object))
        for t in ox.parse((site / f"{statement}.nt").read_bytes(), format=ox.RdfFormat.N_TRIPLES)
    }
    expected = {
        (t.subject.value, t.predicate.value, str(t.object))
        for t in release_triples(sample_release)
        if t.subject.value == BASE + statement or t.subject.value.startswith(BASE + statement + "/")
    }
    assert found == expected


def test_a_statement_page_is_titled_by_its_claim_in_words(sample_release: Path, site: Path) -> None:
    """A negated statement's heading: its subject, predicate and object by their labels, and "(negated)"."""
    by_subject: dict[str, dict[str, str]] = defaultdict(dict)
    for t in release_triples(sample_release):
        by_subject[t.subject.value].setdefault(t.predicate.value, t.object.value)
    label = RDFS_LABEL
    negated = sorted(s for s, p in by_subject.items() if p.get(BASE + "polarity") == BASE + "Negated")
    assert negated, "the sample corpus has a negated statement"
    statement = by_subject[negated[0]]
    words = [by_subject[statement[RDF + role]][label] for role in ("subject", "predicate", "object")]
    heading = re.search(r"<h1>(.*?)</h1>", (site / f"{negated[0][len(BASE):]}.html").read_text(encoding="utf-8"))
    assert heading and heading.group(1) == " · ".join(words) + " (negated)"


@pytest.mark.slow
def test_two_builds_give_identical_sites(
    project_root: Path, sample_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the second renders each document's pages in a worker process, one document per window
    monkeypatch.setattr("carnk_ld.workers.PARALLEL_FROM", 1)
    monkeypatch.setattr("carnk_ld.site.WINDOW", 1)
    root = write_sample_corpus(project_root, tmp_path / "sample")
    run_build(root, tmp_path / "out", BuildOptions(jobs=2, cache=False))
    first = tree_bytes(sample_release / "site")
    assert first and first == tree_bytes(tmp_path / "out" / "site")


def test_a_rebuild_renders_only_the_edited_document_and_writes_only_changed_files(
    project_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carnk_ld import site as site_module

    rendered: list[str] = []
    real = site_module._document_pages

    def recording(site, env, doc_id, *rest):  # type: ignore[no-untyped-def]
        rendered.append(doc_id)
        return real(site, env, doc_id, *rest)

    monkeypatch.setattr(site_module, "_document_pages", recording)
    root = write_sample_corpus(project_root, tmp_path / "sample")
    out = tmp_path / "out"
    run_build(root, out, BuildOptions(jobs=1))
    documents = sorted(rendered)
    assert len(documents) >= 2, "the sample corpus has two documents"
    before = {p.relative_to(out).as_posix(): (p.stat().st_ino, p.read_bytes()) for p in (out / "site").rglob("*")
              if p.is_file()}
    edited, other = documents[-1], documents[0]
    facts = root / "facts" / f"{edited}.yaml"
    text = facts.read_text(encoding="utf-8")
    source = re.search(r'^  source: "(.*)"$', text, re.MULTILINE)
    assert source, "the facts file names its source"
    edited_text = text.replace(source.group(0), '  source: "Another origin, for the rebuild test"')
    facts.write_text(edited_text, encoding="utf-8")

    rendered.clear()
    run_build(root, out, BuildOptions(jobs=1))
    assert rendered == [edited], "the other document's pages come from the cache and the previous release"
    after = {p.relative_to(out).as_posix(): (p.stat().st_ino, p.read_bytes()) for p in (out / "site").rglob("*")
             if p.is_file()}
    changed = sorted(name for name in after if name not in before or after[name][1] != before[name][1])
    assert f"site/kg/doc/{edited}.html" in changed
    assert b"Another origin, for the rebuild test" in after[f"site/kg/doc/{edited}.html"][1]
    assert not [name for name in changed if f"/{other}" in name], "the other document's files are unchanged"
    rewritten = [name for name in after if name not in changed and after[name][0] != before[name][0]]
    assert rewritten == [], "a file whose bytes did not change is linked from the previous release, not written"

    # the same bytes as a build of the edited corpus from nothing; and with the release gone but the
    # cache kept, every document is rendered again
    run_build(root, tmp_path / "fresh", BuildOptions(jobs=1, cache=False))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")
    shutil.rmtree(out)
    rendered.clear()
    run_build(root, out, BuildOptions(jobs=1))
    assert sorted(rendered) == documents
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")
