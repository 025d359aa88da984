"""``carnk-ld annotate``: concept mentions with ConText cues, as validated W3C Web Annotations.

The matching cases are data (tests/fixtures/annotate/annotate-cases.yaml) over a tiny fixture
ontology the tests own; the command is tested on the sample corpus, with expectations read
from its document files, never from the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from carnk_ld.annotate import (
    GRAPH_ANNOTATIONS,
    SYNONYM_PROPERTIES,
    Annotated,
    Lexicon,
    Mention,
    annotate,
    annotation_triples,
    cues_in,
    validate_annotations,
)
from carnk_ld.documents import read_document
from carnk_ld.errors import ValidationFailed
from carnk_ld.mappings import Mapping, MappingSet
from carnk_ld.ontology import load_ontology

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "annotate"
CASES = yaml.safe_load((FIXTURES / "annotate-cases.yaml").read_text(encoding="utf-8"))
CARNK = "https://w3id.org/carnk/"
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_CASE_RE = re.compile(r"^(?P<text>.+?) -> (?P<term>\w+) \[(?P<matched>[a-z ]+)\](?: \| (?P<cues>.+))?$")


def fixture_mappings(ontology) -> MappingSet:
    """One exact match with its external label (MONDO:0005527, as ../shared/reference/vocabulary-ids.md has it)."""
    row = Mapping(
        1, CARNK + "Neurotoxicity", "neurotoxicity", "skos:exactMatch", "MONDO:0005527",
        "http://purl.obolibrary.org/obo/MONDO_0005527", "toxic encephalopathy", "semapv:ManualMappingCuration", "", "",
    )  # fmt: skip
    return MappingSet(Path("mappings/carnk.sssom.tsv"), {}, {}, [row], {})


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    ontology = load_ontology(FIXTURES / "lexicon.ttl")
    return Lexicon.of(ontology, fixture_mappings(ontology))


def document_of(tmp_path: Path, text: str, name: str = "case.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_document(path)


def shown(mention: Mention) -> str:
    text = f"{mention.text} -> {mention.term.removeprefix(CARNK)} [{mention.matched}]"
    if mention.cues:
        text += " | " + ", ".join(f"{c.kind}:{c.text}" for c in mention.cues)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mentions_and_cues(case: dict, lexicon: Lexicon, tmp_path: Path) -> None:
    for line in case["mentions"]:
        assert _CASE_RE.match(line), f"malformed case line {line!r}"
    document = document_of(tmp_path, case["text"] + "\n")
    found = [shown(m) for m in annotate(document, lexicon)]
    assert found == case["mentions"]


def test_offsets_index_the_text_with_a_bom_and_crlf_lines(lexicon: Lexicon, tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeffHeading\r\nNK cell therapy may cause GvHD.\r\nNo CRS.\r\n".encode())
    document = read_document(path)
    mentions = annotate(document, lexicon)
    assert [m.text for m in mentions] == ["NK cell therapy", "GvHD", "CRS"]
    for m in mentions:
        assert document.text[m.start : m.end] == m.text
        for cue in m.cues:
            assert document.text[cue.start : cue.end] == cue.text
    assert [(c.text, c.kind, c.direction) for c in cues_in(document)] == [
        ("may", "hedge", "forward"),
        ("No", "negation", "forward"),
    ]


def test_mentions_are_sorted_by_offsets_then_term(lexicon: Lexicon, tmp_path: Path) -> None:
    document = document_of(tmp_path, "The CAR and NK cells.\nThe CAR again.\n")
    mentions = annotate(document, lexicon)
    keys = [(m.start, m.end, m.term) for m in mentions]
    assert keys == sorted(keys) and len(keys) == 5


def test_every_synonym_property_the_project_ontology_uses_is_read(project_root: Path) -> None:
    """A new synonym property in the ontology (e.g. skos:altLabel) must feed the lexicon, or mentions are lost."""
    ontology = load_ontology(project_root / "ontology" / "carnk.ttl")
    used = {
        t.predicate.value
        for t in ontology.triples
        if re.search(r"(?i)synonym|altLabel|abbreviation", t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1])
    }
    related = {p for p in used if re.search(r"(Related|Broad|Narrow)Synonym$", p)}
    assert used - related <= set(SYNONYM_PROPERTIES)


# -- the command ---------------------------------------------------------------------------------


def _quads(data: bytes, fmt: ox.RdfFormat) -> list[ox.Quad]:
    return list(ox.parse(data, format=fmt))


def test_text_output_points_at_each_mention_in_the_file(sample_corpus: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(sample_corpus)
    result = cli("annotate", "documents/sample.txt", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("# carnk-ld annotate")
    file_lines = (sample_corpus / "documents" / "sample.txt").read_text(encoding="utf-8").split("\n")
    pattern = re.compile(
        r'^documents/sample\.txt:(\d+):(\d+)  segment (\d+)  "([^"]+)"  ->  carnk:\w+ \([^)]+\)((?:  \[[^]]+\])*)$'
    )
    negated = []
    for line in lines[1:]:
        match = pattern.match(line)
        assert match, line
        row, column, surface = int(match[1]), int(match[2]), match[4]
        assert file_lines[row - 1][column - 1 : column - 1 + len(surface)] == surface
        if '[negated by "' in match[5]:
            negated.append(surface)
    # the sample document says "do not cause graft versus host disease" and "no development of CRS or GvHD"
    assert {"graft versus host disease", "CRS", "GvHD"} <= set(negated)


def test_rdf_output_is_web_annotations_that_quote_the_document(sample_corpus: Path, cli, tmp_path: Path) -> None:
    out = tmp_path / "a.nq"
    result = cli("annotate", "--root", str(sample_corpus), "--format", "nq", "--output", str(out))
    assert result.exit_code == 0, result.output
    quads = _quads(out.read_bytes(), ox.RdfFormat.N_QUADS)
    assert quads and {q.graph_name.value for q in quads} == {GRAPH_ANNOTATIONS}
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
    props: dict[str, dict[str, list[ox.Term]]] = {}
    for q in quads:
        props.setdefault(q.subject.value, {}).setdefault(q.predicate.value, []).append(q.object)
    texts = {
        f"https://w3id.org/carnk/kg/doc/{p.stem}": p.read_text(encoding="utf-8")
        for p in (sample_corpus / "documents").glob("*.txt")
    }
    annotations = [s for s, p in props.items() if ox.NamedNode(OA + "Annotation") in p.get(RDF_TYPE, [])]
    assert annotations
    for node in annotations:
        p = props[node]
        assert p[OA + "motivatedBy"] == [ox.NamedNode(OA + "identifying")]
        (body,) = p[OA + "hasBody"]
        assert body.value.startswith(CARNK)
        (target,) = p[OA + "hasTarget"]
        (source,) = props[target.value][OA + "hasSource"]
        selectors = props[target.value][OA + "hasSelector"]
        quote = next(s for s in selectors if ox.NamedNode(OA + "TextQuoteSelector") in props[s.value][RDF_TYPE])
        position = next(s for s in selectors if ox.NamedNode(OA + "TextPositionSelector") in props[s.value][RDF_TYPE])
        start, end = (int(props[position.value][OA + k][0].value) for k in ("start", "end"))
        assert texts[source.value][start:end] == props[quote.value][OA + "exact"][0].value
        assert node.endswith(f"/{start}-{end}/{body.value.removeprefix(CARNK)}")
    negated = [s for s, p in props.items() if CARNK + "negatedBy" in p]
    assert negated
    for node in negated:
        (cue,) = props[node][CARNK + "negatedBy"]
        exact = next(props[s.value][OA + "exact"][0].value for s in props[cue.value][OA + "hasSelector"]
                     if OA + "exact" in props[s.value])  # fmt: skip
        assert exact.lower() in {"no", "not", "without", "n't"}


def test_rdf_formats_hold_the_same_graph_and_the_same_bytes_every_run(sample_corpus: Path, cli, tmp_path) -> None:
    data = {}
    for fmt in ("nq", "ttl", "jsonld", "nq"):
        out = tmp_path / f"a.{fmt}"
        result = cli("annotate", "--root", str(sample_corpus), "--format", fmt, "--output", str(out))
        assert result.exit_code == 0, result.output
        if fmt in data:
            assert out.read_bytes() == data[fmt]
        data[fmt] = out.read_bytes()
    syntaxes = {"nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}
    triples = {fmt: {(q.subject, q.predicate, q.object) for q in _quads(data[fmt], syntaxes[fmt])} for fmt in syntaxes}
    assert triples["nq"] == triples["ttl"] == triples["jsonld"]
    assert {q.graph_name.value for q in _quads(data["jsonld"], ox.RdfFormat.JSON_LD)} == {GRAPH_ANNOTATIONS}


def test_the_release_holds_no_annotations(sample_release: Path) -> None:
    quads = _quads((sample_release / "carnk.nq").read_bytes(), ox.RdfFormat.N_QUADS)
    assert not [q for q in quads if q.predicate.value == RDF_TYPE and q.object.value == OA + "Annotation"]
    assert not [q for q in quads if q.graph_name.value == GRAPH_ANNOTATIONS]
    assert not [q for q in quads if q.predicate.value in (OA + "hasBody", OA + "hasTarget")]


@pytest.mark.parametrize("where", ["documents/out.txt", "facts/out.ttl", "ontology/out.ttl", "release/out.ttl"])
def test_output_is_refused_inside_the_corpus_inputs_or_the_release(where, sample_corpus, sample_release, cli):
    path = sample_release / "out.ttl" if where.startswith("release/") else sample_corpus / where
    before = sorted(p.name for p in sample_release.iterdir())
    result = cli("annotate", "--root", str(sample_corpus), "--output", str(path))
    assert result.exit_code == 2
    assert f"{path}: error: --output: inside" in result.output and "nothing was written" in result.output
    assert not path.exists()
    assert sorted(p.name for p in sample_release.iterdir()) == before


def test_output_replaces_only_an_earlier_annotate_output(sample_corpus: Path, cli, tmp_path: Path) -> None:
    mine = tmp_path / "mine.ttl"
    mine.write_text("my notes\n", encoding="utf-8")
    result = cli("annotate", "--root", str(sample_corpus), "--output", str(mine))
    assert result.exit_code == 2 and "is not an output of carnk-ld annotate" in result.output
    assert mine.read_text(encoding="utf-8") == "my notes\n"
    for fmt in ("jsonld", "ttl", "text"):
        out = tmp_path / "again"
        first = cli("annotate", "--root", str(sample_corpus), "--format", "nq", "--output", str(out))
        assert first.exit_code == 0
        second = cli("annotate", "--root", str(sample_corpus), "--format", fmt, "--output", str(out))
        assert second.exit_code == 0, second.output


def test_a_path_that_is_not_a_document_is_an_input_error(sample_corpus: Path, cli) -> None:
    result = cli("annotate", "documents/missing.txt", "--root", str(sample_corpus))
    assert result.exit_code == 2
    assert "documents/missing.txt: error: not a document of the corpus" in result.output


def test_annotations_that_break_a_shape_are_not_written(sample_corpus: Path, lexicon, monkeypatch) -> None:
    import carnk_ld.annotate as module

    ontology = load_ontology(sample_corpus / "ontology" / "carnk.ttl")
    document = read_document(sample_corpus / "documents" / "trial.txt")
    mentions = annotate(document, Lexicon.of(ontology, None))
    assert mentions
    real = module.annotation_triples

    def two_bodies(doc, found):
        triples = real(doc, found)
        first = next(t for t in triples if t.predicate.value == OA + "hasBody")
        return [*triples, ox.Triple(first.subject, first.predicate, ox.NamedNode(CARNK + "NotATerm"))]

    monkeypatch.setattr(module, "annotation_triples", two_bodies)
    with pytest.raises(ValidationFailed) as failed:
        validate_annotations(sample_corpus, ontology, [Annotated(document, "documents/trial.txt", mentions)])
    assert "exactly one body" in failed.value.report_text
    assert "class or a named individual" in failed.value.report_text


def test_a_quote_that_is_not_the_documents_text_is_not_written(sample_corpus: Path) -> None:
    ontology = load_ontology(sample_corpus / "ontology" / "carnk.ttl")
    document = read_document(sample_corpus / "documents" / "trial.txt")
    (first, *_) = annotate(document, Lexicon.of(ontology, None))
    shifted = Mention(first.segment, first.start + 1, first.end + 1, first.text, first.term, first.matched, ())
    assert annotation_triples(document, [shifted])  # it would be written as RDF ...
    with pytest.raises(ValidationFailed) as failed:  # ... but validation refuses it
        validate_annotations(sample_corpus, ontology, [Annotated(document, "documents/trial.txt", [shifted])])
    assert "is not the document's text there" in failed.value.report_text


def test_every_batch_of_documents_is_validated(sample_corpus: Path, monkeypatch) -> None:
    import carnk_ld.annotate as module

    ontology = load_ontology(sample_corpus / "ontology" / "carnk.ttl")
    lexicon = Lexicon.of(ontology, None)
    annotated = [
        Annotated(doc, f"documents/{doc.path.name}", annotate(doc, lexicon))
        for doc in (read_document(sample_corpus / "documents" / n) for n in ("sample.txt", "trial.txt"))
    ]
    real = module.annotation_triples

    def no_motivation_in_trial(doc, found):
        triples = real(doc, found)
        return [t for t in triples if doc.doc_id != "trial" or t.predicate.value != OA + "motivatedBy"]

    monkeypatch.setattr(module, "annotation_triples", no_motivation_in_trial)
    monkeypatch.setattr(module, "VALIDATION_BATCH", 1)
    with pytest.raises(ValidationFailed) as failed:
        validate_annotations(sample_corpus, ontology, annotated)
    assert failed.value.violations == len(annotated[1].mentions) > 0
    assert "kg/annotation/trial/" in failed.value.report_text
    assert "kg/annotation/sample/" not in failed.value.report_text


def test_a_failed_validation_writes_nothing(sample_corpus: Path, cli, tmp_path: Path, monkeypatch) -> None:
    import carnk_ld.annotate as module

    real = module.annotation_triples

    def no_body(doc, found):
        return [t for t in real(doc, found) if t.predicate.value != OA + "hasBody"]

    monkeypatch.setattr(module, "annotation_triples", no_body)
    out = tmp_path / "a.nq"
    result = cli("annotate", "--root", str(sample_corpus), "--format", "nq", "--output", str(out))
    assert result.exit_code == 1
    assert "exactly one body" in result.output and "annotate failed:" in result.output
    assert not out.exists() and not list(tmp_path.glob(".a.nq.*"))
    printed = cli("annotate", "--root", str(sample_corpus))
    assert printed.exit_code == 1 and "-> carnk:" not in printed.output
