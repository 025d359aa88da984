"""``carnk-ld suggest``: facts drafted from mentions, cues and the predicates' domains and ranges.

Drafting cases are data (tests/fixtures/annotate/suggest-cases.yaml) over the fixture ontology
of tests/test_annotate.py; the command is tested on the sample corpus, where uncommenting what it
appends must give a facts file the facts reader accepts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from carnk_ld.annotate import Lexicon
from carnk_ld.documents import read_document
from carnk_ld.facts import IS_A, load_facts
from carnk_ld.ontology import load_ontology
from carnk_ld.suggest import render, suggest
from tests.oracle import classified
from tests.test_annotate import CARNK, FIXTURES, fixture_mappings

CASES = yaml.safe_load((FIXTURES / "suggest-cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ontology():
    return load_ontology(FIXTURES / "lexicon.ttl")


@pytest.fixture(scope="module")
def lexicon(ontology) -> Lexicon:
    return Lexicon.of(ontology, fixture_mappings(ontology))


def document_of(tmp_path: Path, text: str):
    path = tmp_path / "case.txt"
    path.write_text(text, encoding="utf-8")
    return read_document(path)


def _local(iri: str) -> str:
    return "is_a" if iri == IS_A else iri.removeprefix(CARNK)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_drafted_facts(case: dict, ontology, lexicon, tmp_path: Path) -> None:
    document = document_of(tmp_path, case["text"] + "\n")
    found = []
    for s in suggest(document, lexicon, ontology, []):
        row = {"subject": _local(s.subject), "predicate": _local(s.predicate), "object": _local(s.object),
               "quote": s.quote}  # fmt: skip
        for key in ("polarity", "modality", "frequency"):
            if getattr(s, key):
                row[key] = getattr(s, key)
        if s.note:
            assert "preliminary" in s.note
            row["note"] = "preliminary"
        found.append(row)
    assert found == case["suggestions"]


def test_a_quote_grows_until_it_is_unique_in_the_document(ontology, lexicon, tmp_path: Path) -> None:
    text = "NK cell therapy may cause neurotoxicity.\nSo NK cell therapy may cause neurotoxicity in mice.\n"
    document = document_of(tmp_path, text)
    suggestions = suggest(document, lexicon, ontology, [])
    assert [s.segment.index for s in suggestions] == [1, 2]
    for s in suggestions:
        assert document.text.count(s.quote) == 1
        assert s.quote in s.segment.text
        assert "NK cell therapy may cause neurotoxicity" in s.quote


def test_no_quote_with_a_citation_marker(ontology, lexicon, tmp_path: Path) -> None:
    document = document_of(tmp_path, "NK cell therapy may cause neurotoxicity[1] and GvHD.\n")
    suggestions = suggest(document, lexicon, ontology, [])
    assert [(_local(s.object), s.quote) for s in suggestions] == [
        ("Neurotoxicity", "NK cell therapy may cause neurotoxicity")
    ]


def test_covered_segments_are_skipped_and_ids_already_taken_are_not_reused(ontology, lexicon, tmp_path) -> None:
    text = "NK cell therapy may cause neurotoxicity.\nCAR-NK may cause neurotoxicity.\nFT596 may cause CRS.\n"
    document = document_of(tmp_path, text)
    suggestions = suggest(document, lexicon, ontology, [2], taken_ids=["nk-cell-therapy-neurotoxicity"])
    assert [(s.segment.index, s.fact_id) for s in suggestions] == [
        (1, "nk-cell-therapy-neurotoxicity-2"),
        (3, "ft596-cytokine-release-syndrome"),
    ]
    rendered = render(suggestions, document.segments)
    assert "# segment 2: CAR-NK may cause neurotoxicity." in rendered
    assert rendered.count("# - id: ") == 2


# -- the command ---------------------------------------------------------------------------------


def _uncommented(text: str, indent: str) -> str:
    """The text with every suggestion block uncommented, as a curator accepts it."""
    block = re.compile(rf"^# ({re.escape(indent)}- id: |{re.escape(indent)}  [a-z_]+: )")
    return "\n".join(line[2:] if block.match(line) else line for line in text.split("\n"))


def _partial_facts(sample: Path) -> bytes:
    """The sample's facts file cut to its first fact, so that most segments are unaccounted."""
    lines = (sample / "facts" / "sample.yaml").read_text(encoding="utf-8").split("\n")
    start = lines.index("facts:")
    metadata = [line for line in lines[:start] if line.startswith(("metadata:", "  "))]
    header = lines[: lines.index("metadata:")] + metadata
    first = next(i for i in range(start + 2, len(lines)) if lines[i].startswith("  - id:"))
    return ("\n".join([*header, "facts:", *lines[start + 1 : first]]) + "\n").encode("utf-8")


def test_write_appends_blocks_that_the_reader_accepts_once_uncommented(sample_corpus: Path, cli) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    before = _partial_facts(sample_corpus)
    facts.write_bytes(before)
    result = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus), "--write")
    assert result.exit_code == 0, result.output
    after = facts.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    added = after[len(before) :].decode("utf-8")
    assert added.count("- id: ") >= 3
    facts.write_text(before.decode("utf-8") + _uncommented(added, "  "), encoding="utf-8")
    document = read_document(sample_corpus / "documents" / "sample.txt")
    ontology, _ = classified(sample_corpus / "ontology" / "carnk.ttl")
    factset = load_facts(facts, {"sample.txt": document}, ontology, require_coverage=False)
    assert len(factset.facts) == 1 + added.count("- id: ")


def test_without_write_nothing_changes_and_the_blocks_are_printed(sample_corpus: Path, cli) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    facts.write_bytes(_partial_facts(sample_corpus))
    before = facts.read_bytes()
    result = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    assert facts.read_bytes() == before
    assert "# segment 3: " in result.output and "# - id: " in result.output


def test_a_fully_curated_document_gets_no_suggestion(sample_corpus: Path, cli) -> None:
    result = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    assert "# segment" not in result.output


def test_write_without_a_facts_file_is_refused(sample_corpus: Path, cli) -> None:
    (sample_corpus / "facts" / "sample.yaml").unlink()
    result = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus), "--write")
    assert result.exit_code == 2
    assert "facts/sample.yaml: error: the facts file does not exist" in result.output
    assert "carnk-ld new documents/sample.txt" in result.output
    assert not (sample_corpus / "facts" / "sample.yaml").exists()
    printed = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus))
    assert printed.exit_code == 0 and "# segment 1: " in printed.output


def test_a_broken_facts_file_is_reported_not_drafted_over(sample_corpus: Path, cli) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    facts.write_bytes(_partial_facts(sample_corpus).replace(b"subject: CARNKCellTherapy", b"subject: CARNKCelTherapy"))
    before = facts.read_bytes()
    result = cli("suggest", "documents/sample.txt", "--root", str(sample_corpus), "--write")
    assert result.exit_code == 2
    assert "facts/sample.yaml:" in result.output and "'CARNKCelTherapy' is not declared" in result.output
    assert facts.read_bytes() == before
