"""The project's competency questions give their approved answers (queries/answers/) on the project's release.

This is the one test that depends on what the project's corpus says: the approved answers are
curated data, reviewed and recorded with ``carnk-ld cq --approve``. How ``carnk-ld cq`` compares
and approves is tested on a corpus of the test's own in tests/test_cq_command.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.cq import compare_question, find_questions
from carnk_ld.store import EmbeddedStore
from tests.conftest import PROJECT

QUESTIONS = find_questions(PROJECT)


@pytest.fixture(scope="module")
def embedded(release: Path) -> EmbeddedStore:
    return EmbeddedStore.for_release(release)


def test_every_question_has_an_approved_answer_and_states_its_question() -> None:
    assert QUESTIONS, "queries/cq-*.rq"
    for question in QUESTIONS:
        assert question.answer_path.is_file(), f"{question.name} has no {question.answer_display}"
        assert question.query.startswith("# CQ "), f"{question.path.name} must state its question first"
    answers = {p.stem for p in (PROJECT / "queries" / "answers").glob("*")}
    assert answers == {q.name for q in QUESTIONS}, "an approved answer without its question"


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.name for q in QUESTIONS])
def test_competency_question(embedded: EmbeddedStore, question) -> None:
    comparison = compare_question(embedded, question)
    assert comparison.ok, "\n".join(comparison.render())


def test_an_answer_binding_one_variable_twice_is_refused_at_the_second_line(tmp_path: Path) -> None:
    from carnk_ld.cq import read_answer
    from carnk_ld.errors import InputError

    answer = tmp_path / "cq-99-x.tsv"
    answer.write_text("# bind: k=carnk:NKCell\n# bind: k=carnk:TCell\nk\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_answer(answer)
    assert raised.value.location.line == 2 and "?k is bound twice" in raised.value.message


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0c", "\x1e", "\x1c"])
def test_a_row_ends_at_a_line_feed_only(tmp_path: Path, separator: str) -> None:
    """Characters str.splitlines() breaks at are part of a cell, so a joined row never reads as two rows."""
    from carnk_ld.cq import read_answer

    path = tmp_path / "cq-x.tsv"
    path.write_bytes(f"kind\r\ncarnk:A{separator}carnk:B\ncarnk:C\n".encode())
    answer = read_answer(path)
    assert sorted(answer.rows) == [(f"carnk:A{separator}carnk:B",), ("carnk:C",)]


def test_an_answer_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    from carnk_ld.cq import read_answer

    path = tmp_path / "cq-x.tsv"
    path.write_bytes("\ufeffkind\ncarnk:A\n".encode())
    assert read_answer(path).variables == ("kind",)
