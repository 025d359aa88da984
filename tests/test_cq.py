"""Competency questions answered by the release in the embedded store, exactly as the document says."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.store import EmbeddedStore
from tests.cqlib import FIXTURES, QUERIES, answer, load_question


@pytest.fixture(scope="module")
def embedded(release: Path) -> EmbeddedStore:
    return EmbeddedStore.for_release(release)


def test_every_question_has_a_fixture_and_states_its_question() -> None:
    assert len(QUERIES) >= 15
    for path in QUERIES:
        assert (FIXTURES / f"{path.stem}.tsv").is_file(), path.name
        assert path.read_text(encoding="utf-8").startswith("# CQ "), f"{path.name} must state its question first"
    assert {p.stem for p in FIXTURES.glob("*.tsv")} == {p.stem for p in QUERIES}


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_competency_question(embedded: EmbeddedStore, path: Path) -> None:
    question = load_question(path)
    variables, rows = answer(embedded, question)
    assert variables == question.variables
    assert rows == question.expected


def test_store_is_built_once_and_reused(release: Path) -> None:
    from carnk_ld.store import store_path

    first = store_path(release)
    stamp = (first / "COMPLETE").stat().st_mtime_ns
    assert store_path(release) == first
    assert (first / "COMPLETE").stat().st_mtime_ns == stamp
