"""Every document records its origin and licence; its text is republished only under a licence that allows it.

The sample corpus's trial.txt is put under a licence the allow-list (carnk_ld/licences.tsv) does not
hold, or under ``unknown``, and given a sentence longer than the short-quote limit with a fact quoting
all of it. The release must then hold none of its segments' text in any file, except the quotes of at
most 200 characters its facts select, while its facts and their position selectors stay.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.constants import GRAPH_FACTS, GRAPH_PROVENANCE, KG
from carnk_ld.documents import read_document
from carnk_ld.facts import load_facts
from carnk_ld.graph import document_graph
from carnk_ld.licences import SHORT_QUOTE, republishing_licences
from carnk_ld.ontology import load_ontology

DCTERMS = "http://purl.org/dc/terms/"
OA = "http://www.w3.org/ns/oa#"
CARNK = "https://w3id.org/carnk/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
#: A licence that does not allow republishing (NoDerivatives, NonCommercial): not on the allow-list.
BY_NC_ND = "https://creativecommons.org/licenses/by-nc-nd/4.0/"
LONG = (
    "In a further cohort treated at three centres over two years, with follow-up visits every month and "
    "imaging at each visit, CAR NK cell therapy was again made off the shelf from one donor whose cells "
    "were expanded and banked for many patients."
)
LONG_FACT = f"""  - id: carnk-off-the-shelf-again
    quote: "{LONG}"
    subject: CARNKCellTherapy
    predicate: hasManufacturingModel
    object: OffTheShelfManufacturing
"""


def put_trial_under(root: Path, licence: str) -> list[str]:
    """trial.txt under ``licence``, with a long sentence and a fact quoting all of it; its segments' texts."""
    document = root / "documents" / "trial.txt"
    text = document.read_text(encoding="utf-8") + LONG + "\n"
    document.write_text(text, encoding="utf-8")
    facts = root / "facts" / "trial.yaml"
    yaml = facts.read_text(encoding="utf-8")
    old_sha = yaml.split("sha256: ", 1)[1].split("\n", 1)[0]
    yaml = yaml.replace(old_sha, hashlib.sha256(text.encode()).hexdigest())
    yaml = yaml.replace(f"  licence: {CC_BY}\n", f"  licence: {licence}\n")
    yaml = yaml.replace("\nstudies: []", LONG_FACT + "\nstudies: []")
    assert f"licence: {licence}" in yaml and LONG in yaml
    facts.write_text(yaml, encoding="utf-8")
    return segment_texts(root, "trial")


def segment_texts(root: Path, name: str) -> list[str]:
    """The texts of a document's segments, as the build splits it."""
    path = root / "documents" / f"{name}.txt"
    return [s.text for s in read_document(path, display_path=Path("documents") / path.name).segments]


def test_the_long_sentence_exceeds_the_short_quote_limit() -> None:
    assert len(LONG) > SHORT_QUOTE and BY_NC_ND not in republishing_licences() and CC_BY in republishing_licences()


def release_texts(release: Path) -> dict[str, str]:
    return {
        p.relative_to(release).as_posix(): p.read_bytes().decode("utf-8", errors="replace")
        for p in sorted(release.rglob("*"))
        if p.is_file()
    }


def quads(release: Path, graph: str) -> list[ox.Quad]:
    return [q for q in ox.parse(path=str(release / "carnk.nq")) if q.graph_name.value == graph]


@pytest.mark.parametrize("licence", [BY_NC_ND, "unknown"])
def test_a_document_whose_licence_does_not_allow_it_has_no_text_in_the_release(
    sample_corpus: Path, cli, licence: str
) -> None:
    segments = put_trial_under(sample_corpus, licence)
    out = sample_corpus / "build"
    result = cli("build", "--root", str(sample_corpus), "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    doc = KG + "doc/trial"
    prov = [q.triple for q in quads(out, GRAPH_PROVENANCE)]
    exact = {t.object.value for t in prov if t.predicate.value == OA + "exact"}
    kept = {s for s in segments if s in exact}  # a whole segment quoted by a short quote stays as that quote
    assert all(len(q) <= SHORT_QUOTE for q in kept)
    texts = release_texts(out)
    for segment in segments:
        if segment in kept:
            continue
        holding = [name for name, text in texts.items() if segment in text]
        assert not holding, f"segment text {segment!r} is in {holding}"
    for segment in kept:  # only as a quote selector's oa:exact
        assert not any(t.object.value == segment for t in prov if t.predicate.value != OA + "exact")
    coverage = [line.split("\t") for line in texts["coverage.tsv"].splitlines() if line.startswith("trial\t")]
    assert len(coverage) == len(segments) and all(row[-1] == "" for row in coverage)
    # the facts and their position selectors are all there; the long quote has no quote selector
    statements = {
        t.subject.value
        for t in (q.triple for q in quads(out, GRAPH_FACTS))
        if t.subject.value.startswith(KG + "fact/trial/") and t.predicate.value.endswith("#type")
    }
    assert {s.rsplit("/", 1)[1] for s in statements} == {
        "carnk-off-the-shelf",
        "carnk-intravenous",
        "carnk-off-the-shelf-again",
    }
    subjects = {t.subject.value for t in prov}
    for statement in statements:
        assert f"{statement}/position" in subjects
    assert f"{KG}fact/trial/carnk-off-the-shelf-again/quote" not in subjects
    assert f"{KG}fact/trial/carnk-intravenous/quote" in subjects
    assert not any(
        t.predicate.value in (OA + "prefix", OA + "suffix") and "/fact/trial/" in t.subject.value for t in prov
    )
    # the document says where it comes from, its licence, and why its text is not there
    about = {t.predicate.value: t.object for t in prov if t.subject.value == doc}
    assert about[DCTERMS + "source"] == ox.Literal("Written for the carnk-ld test suite")
    if licence == "unknown":
        assert DCTERMS + "license" not in about
        assert "licence is unknown" in about[DCTERMS + "rights"].value
    else:
        assert about[DCTERMS + "license"] == ox.NamedNode(licence)
        assert licence in about[DCTERMS + "rights"].value
    # the other document, under CC BY, keeps its text
    sample = [t for t in prov if t.subject.value.startswith(KG + "doc/sample/segment/")]
    assert any(t.predicate.value == CARNK + "segmentText" for t in sample)
    assert DCTERMS + "rights" not in {t.predicate.value for t in prov if t.subject.value == KG + "doc/sample"}


def test_a_document_under_an_allowing_licence_keeps_every_segment_s_text(sample_release: Path) -> None:
    prov = [q.triple for q in quads(sample_release, GRAPH_PROVENANCE)]
    root = sample_release.parent
    for name in ("sample", "trial"):
        published = {
            t.object.value
            for t in prov
            if t.predicate.value == CARNK + "segmentText" and t.subject.value.startswith(f"{KG}doc/{name}/")
        }
        assert published == set(segment_texts(root, name))
        about = {t.predicate.value: t.object for t in prov if t.subject.value == f"{KG}doc/{name}"}
        assert about[DCTERMS + "license"] == ox.NamedNode(CC_BY) and DCTERMS + "rights" not in about
        evidence = {t.subject.value for t in prov if t.subject.value.startswith(f"{KG}fact/{name}/")}
        positions = {s.removesuffix("/position") for s in evidence if s.endswith("/position")}
        quotes = {s.removesuffix("/quote") for s in evidence if s.endswith("/quote")}
        assert positions and quotes == positions  # every statement keeps its quote selector


@pytest.mark.parametrize(
    ("source", "published"),
    [
        ('"doi:10.1056/NEJMoa1910607"', ox.NamedNode("https://doi.org/10.1056/NEJMoa1910607")),
        ("https://example.org/trial.html", ox.NamedNode("https://example.org/trial.html")),
        ('"A summary written for the suite"', ox.Literal("A summary written for the suite")),
    ],
)
def test_the_source_is_published_as_an_iri_or_a_line_of_text(
    sample_corpus: Path, source: str, published: ox.NamedNode | ox.Literal
) -> None:
    facts = sample_corpus / "facts" / "trial.yaml"
    yaml = facts.read_text(encoding="utf-8").replace(
        '  source: "Written for the carnk-ld test suite"', f"  source: {source}"
    )
    facts.write_text(yaml, encoding="utf-8")
    document = read_document(sample_corpus / "documents" / "trial.txt", display_path=Path("documents/trial.txt"))
    factset = load_facts(facts, {"trial.txt": document}, load_ontology(sample_corpus / "ontology" / "carnk.ttl"))
    graph = document_graph(factset)
    sources = [t.object for t in graph.provenance if t.predicate.value == DCTERMS + "source"]
    assert sources == [published]
