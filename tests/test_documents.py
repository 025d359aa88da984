"""Stage 1: reading and segmenting documents."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from carnk_ld.documents import read_document, segment_text
from carnk_ld.errors import InputError
from tests.conftest import PROJECT, SHARED

DOC = PROJECT / "documents" / "carnk-overview.txt"


def test_project_document_is_the_shared_source_byte_for_byte() -> None:
    shared = SHARED / "documents" / "carnk-overview.txt"
    if not shared.exists():
        pytest.skip("../shared is not present in this clone; the copy cannot be compared")
    assert DOC.read_bytes() == shared.read_bytes()


def test_checksum_is_sha256_of_the_bytes() -> None:
    doc = read_document(DOC)
    assert doc.sha256 == hashlib.sha256(DOC.read_bytes()).hexdigest()
    assert doc.iri == "https://w3id.org/carnk/kg/doc/carnk-overview"


def test_offsets_index_the_text_exactly() -> None:
    doc = read_document(DOC)
    assert len(doc.segments) == 25
    for segment in doc.segments:
        assert doc.text[segment.start : segment.end] == segment.text
        assert segment.text == segment.text.strip()


def test_list_items_under_a_colon_line_are_their_own_segments() -> None:
    doc = read_document(DOC)
    items = [s for s in doc.segments if s.kind == "list_item"]
    assert [s.text for s in items] == [
        "Peripheral blood (autologous or allogeneic)",
        "Umbilical cord blood",
        "Induced pluripotent stem cells (iPSCs)",
        "NK cell lines",
        "Hematopoietic stem cells",
    ]
    intro = doc.segments[items[0].list_intro - 1]
    assert intro.text == "NK cells for CAR engineering can be derived from multiple sources:"
    # the sentence after the list is prose again
    assert doc.segments[22].kind == "sentence" and doc.segments[22].text.startswith("CD19-directed")


def test_sentences_split_on_terminal_punctuation_but_not_abbreviations() -> None:
    text = "NK cells kill, e.g. tumour cells. They need IL-15.[3] Do they persist? Yes."
    assert [s.text for s in segment_text(text)] == [
        "NK cells kill, e.g. tumour cells.",
        "They need IL-15.[3]",
        "Do they persist?",
        "Yes.",
    ]


def test_citation_markers_stay_with_their_sentence() -> None:
    doc = read_document(DOC)
    assert doc.segments[10].text.endswith("antigen-directed targeting.[1][2]")


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


@pytest.mark.parametrize(
    ("content", "fragment", "line"),
    [
        (b"Good line.\nBad \xe9 byte.\n", "not valid UTF-8", 2),
        (b"", "document is empty", None),
        (b"  \n\n", "document is empty", None),
        (b"One.\nTwo\x00.\n", "NUL character", 2),
    ],
)
def test_unusable_documents_are_rejected_with_the_line(
    tmp_path: Path, content: bytes, fragment: str, line: int | None
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_document(path)
    assert fragment in info.value.message
    assert info.value.location.line == line


def test_document_names_must_be_usable_in_iris(tmp_path: Path) -> None:
    path = tmp_path / "my doc.txt"
    path.write_text("Text.", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be used in an IRI"):
        read_document(path)
