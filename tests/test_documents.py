"""Stage 1: reading and segmenting documents.

Unusable documents (bad bytes, empty, NUL, names unfit for IRIs) are cases of tests/bad_inputs/.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from carnk_ld.documents import read_document, segment_text
from tests.conftest import SAMPLE, SHARED

SAMPLE_DOC = SAMPLE / "documents" / "sample.txt"


def project_documents(project_root: Path) -> list[Path]:
    documents = sorted((project_root / "documents").glob("*.txt"))
    assert documents, f"{project_root}/documents has no documents"
    return documents


def test_project_documents_are_the_shared_sources_byte_for_byte(project_root: Path) -> None:
    pairs = [(p, SHARED / "documents" / p.name) for p in project_documents(project_root)]
    pairs = [(ours, shared) for ours, shared in pairs if shared.exists()]
    if not pairs:
        pytest.skip("../shared/documents has none of the project's documents; no copy can be compared")
    for ours, shared in pairs:
        assert ours.read_bytes() == shared.read_bytes(), ours.name


def test_checksum_is_sha256_of_the_bytes(project_root: Path) -> None:
    for path in project_documents(project_root):
        doc = read_document(path)
        assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert doc.iri == f"https://w3id.org/carnk/kg/doc/{path.stem}"


def test_offsets_index_the_text_exactly(project_root: Path) -> None:
    for path in [*project_documents(project_root), SAMPLE_DOC]:
        doc = read_document(path)
        assert doc.segments, path.name
        assert [s.index for s in doc.segments] == list(range(1, len(doc.segments) + 1))
        for segment in doc.segments:
            assert doc.text[segment.start : segment.end] == segment.text
            assert segment.text == segment.text.strip()


def test_segments_are_lines_split_into_sentences() -> None:
    doc = read_document(SAMPLE_DOC)
    lines = SAMPLE_DOC.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 17
    # line 7 holds two sentences, every other line is one segment
    assert len(doc.segments) == 18
    assert [s.text for s in doc.segments[6:8]] == [
        "CAR NK cells are usually given intravenously.",
        "They can also be given locoregionally.",
    ]
    assert [s.text for s in doc.segments[:6] + doc.segments[8:]] == lines[:6] + lines[7:]


def test_list_items_under_a_colon_line_are_their_own_segments() -> None:
    doc = read_document(SAMPLE_DOC)
    items = [s for s in doc.segments if s.kind == "list_item"]
    assert [s.text for s in items] == ["Umbilical cord blood", "NK cell lines", "Hematopoietic stem cells"]
    intro = doc.segments[items[0].list_intro - 1]
    assert intro.text == "NK cells for CAR engineering come from several sources:"
    # the sentence after the list is prose again
    after = doc.segments[items[-1].index]
    assert after.kind == "sentence" and after.text.startswith("In a phase 1 trial")


def test_sentences_split_on_terminal_punctuation_but_not_abbreviations() -> None:
    text = "NK cells kill, e.g. tumour cells. They need IL-15.[3] Do they persist? Yes."
    assert [s.text for s in segment_text(text)] == [
        "NK cells kill, e.g. tumour cells.",
        "They need IL-15.[3]",
        "Do they persist?",
        "Yes.",
    ]


def test_citation_markers_stay_with_their_sentence() -> None:
    doc = read_document(SAMPLE_DOC)
    assert any(s.text.endswith("capabilities of NK cells.[1][2]") for s in doc.segments)
    assert not any(s.text.startswith("[") for s in doc.segments)


def test_a_reference_list_entry_is_one_segment_whatever_its_full_stops() -> None:
    text = (
        "Shown in mice [1].\nReferences\n"
        "[1] Li Y, Hermanson DL, Kaufman DS. Cell Stem Cell 2018;23:181-192. doi:10.1/x\n"
        "Reference: Liu E, et al. Use of CAR NK Cells. N Engl J Med 2020;382:545-553.\n[2]not an entry. Next."
    )
    assert [(s.kind, s.text) for s in segment_text(text)] == [
        ("sentence", "Shown in mice [1]."),
        ("sentence", "References"),
        ("reference", "[1] Li Y, Hermanson DL, Kaufman DS. Cell Stem Cell 2018;23:181-192. doi:10.1/x"),
        ("reference", "Reference: Liu E, et al. Use of CAR NK Cells. N Engl J Med 2020;382:545-553."),
        ("sentence", "[2]not an entry."),
        ("sentence", "Next."),
    ]


def test_bulleted_lines_are_list_items_anywhere() -> None:
    segments = segment_text("Intro text.\n- first item.\n* second\n1. third")
    assert [(s.kind, s.text) for s in segments] == [
        ("sentence", "Intro text."),
        ("list_item", "first item."),
        ("list_item", "second"),
        ("list_item", "third"),
    ]


def test_crlf_line_ends_are_not_part_of_segments(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"First line here.\r\nSecond line.\r\n")
    doc = read_document(path)
    assert [s.text for s in doc.segments] == ["First line here.", "Second line."]
    assert doc.segments[1].start == len("First line here.\r\n")


def test_bom_is_dropped_and_offsets_count_from_the_first_character(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffNK cells kill.".encode())
    doc = read_document(path)
    assert doc.had_bom
    assert doc.segments[0].start == 0 and doc.text.startswith("NK")
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_astral_characters_count_as_one_code_point(tmp_path: Path) -> None:
    path = tmp_path / "astral.txt"
    path.write_text("Cells \U0001d4d2 kill. Next one.", encoding="utf-8")
    doc = read_document(path)
    assert doc.segments[1].start == len("Cells \U0001d4d2 kill. ")
    assert doc.segments[1].start == 14  # UTF-16 would count 15, UTF-8 bytes 17
