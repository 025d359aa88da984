"""Property-based: arbitrary Unicode in documents and facts builds cleanly or fails with a located error.

Every example is checked. A build that succeeds must read every literal that came from the inputs
(segment texts, quotes, curator notes) back identically from N-Triples, Turtle, N-Quads and
JSON-LD. A build that fails must fail as bad input (exit 2) naming the fuzzed document or facts
file and a line, without a traceback, and write nothing. Lines that are well-formed sentences
must always build.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from carnk_ld.cli import main
from tests.test_bad_inputs import literals

pytestmark = pytest.mark.slow

# Any character a UTF-8 text file can hold on one line, NUL aside (NUL is refused by design).
LINE_CHARS = st.characters(
    exclude_categories=("Cs",), exclude_characters="\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
)
TRICKY = st.sampled_from(["\u0301", "\u200f", "\u202e", "\U0001f9ec", "\U00010348", '"', "\\", "'", "«", "Ω", "\u05d0"])
WORD = st.text(st.one_of(LINE_CHARS, TRICKY), min_size=1, max_size=12)
SENTENCE = st.lists(WORD, min_size=1, max_size=5).map(lambda words: " ".join(words).strip() + ".")
# Raw lines: leading spaces, colons that open lists, bullets, full stops mid-line; many must be refused.
RAW_LINE = st.text(st.one_of(LINE_CHARS, TRICKY, st.sampled_from([".", ":", " ", "-", "A"])), min_size=1, max_size=30)
LINE = st.one_of(SENTENCE, SENTENCE, RAW_LINE)
NOTE = st.text(
    st.one_of(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), TRICKY), min_size=1, max_size=40
)
# A word that cannot end a sentence, open a list or split a line: no whitespace, no terminal punctuation.
SAFE_WORD = st.text(
    st.one_of(LINE_CHARS, TRICKY).filter(lambda c: not c.isspace() and c not in ".!?"), min_size=1, max_size=12
)
LOCATED_ERROR = re.compile(r"^(documents/fuzz\.txt|facts/fuzz\.yaml):\d+(:\d+)?: error: ", re.MULTILINE)
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}


def corpus_for(project_root: Path, root: Path, sentences: list[str], notes: list[str]) -> None:
    for name in ("ontology", "shapes", "mappings"):
        shutil.copytree(project_root / name, root / name)
    shutil.copytree(project_root / "queries" / "checks", root / "queries" / "checks")
    (root / "documents").mkdir()
    (root / "facts").mkdir()
    document = root / "documents" / "fuzz.txt"
    document.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    facts = [
        {
            "id": f"f{i}",
            "quote": sentence,
            "subject": "CARNKCellTherapy",
            "predicate": "hasChallenge",
            "object": "PersistenceInVivo",
            "note": notes[i % len(notes)],
        }
        for i, sentence in enumerate(sentences)
    ]
    data = {"document": "fuzz.txt", "sha256": hashlib.sha256(document.read_bytes()).hexdigest(), "facts": facts}
    (root / "facts" / "fuzz.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def build(project_root: Path, sentences: list[str], notes: list[str], *, must_build: bool) -> None:
    """Build the fuzzed corpus and check the outcome, whichever it is."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        corpus_for(project_root, root, sentences, notes)
        out = Path(tmp) / "release"
        result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out)], catch_exceptions=False)
        if must_build:
            assert result.exit_code == 0, result.output
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert LOCATED_ERROR.search(result.output), result.output
            assert "build failed: bad input; the previous release is untouched" in result.output
            assert not out.exists()
            return
        found = literals(out)
        expected = set(sentences) | {notes[i % len(notes)] for i in range(len(sentences))}
        for name, values in found.items():
            missing = expected - values
            assert not missing, f"{sorted(missing)!r} did not round-trip through {name}"


@settings(max_examples=30, **SETTINGS)
@given(sentences=st.lists(LINE, min_size=1, max_size=4, unique=True), notes=st.lists(NOTE, min_size=1, max_size=3))
def test_arbitrary_unicode_builds_and_round_trips_or_fails_at_a_line(
    project_root: Path, sentences: list[str], notes: list[str]
) -> None:
    build(project_root, sentences, notes, must_build=False)


@settings(max_examples=15, **SETTINGS)
@given(
    words=st.lists(st.lists(SAFE_WORD, min_size=1, max_size=5), min_size=1, max_size=4),
    notes=st.lists(NOTE.filter(str.strip), min_size=1, max_size=3),  # a blank note is refused, rightly
)
def test_well_formed_sentences_of_any_characters_always_build(
    project_root: Path, words: list[list[str]], notes: list[str]
) -> None:
    # "Fact <i> says" makes every line a sentence of its own that occurs once and in no other line.
    sentences = [f"Fact {i} says {' '.join(line)}." for i, line in enumerate(words)]
    build(project_root, sentences, notes, must_build=True)
