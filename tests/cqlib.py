"""Competency questions and their expected answers, shared by the embedded and server tests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.query import parse_binding
from carnk_ld.store import SparqlStore, Table
from carnk_ld.vocab import compact_iri

PROJECT = Path(__file__).resolve().parent.parent
QUERIES = sorted((PROJECT / "queries").glob("cq-*.rq"))
FIXTURES = Path(__file__).resolve().parent / "cq"


@dataclass(frozen=True)
class Question:
    name: str
    query: str
    bindings: dict[str, ox.NamedNode | ox.Literal]
    variables: tuple[str, ...]
    expected: Counter[tuple[str, ...]]


def load_question(path: Path) -> Question:
    fixture = FIXTURES / f"{path.stem}.tsv"
    lines = fixture.read_text(encoding="utf-8").splitlines()
    bindings = dict(parse_binding(line.removeprefix("# bind: ")) for line in lines if line.startswith("# bind: "))
    rows = [line for line in lines if not line.startswith("#")]
    variables = tuple(rows[0].split("\t"))
    expected = Counter(tuple(row.split("\t")) for row in rows[1:])
    return Question(path.stem, path.read_text(encoding="utf-8"), bindings, variables, expected)


def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    """Compare by IRI (shortened) or literal lexical form.

    Datatypes are left out on purpose: Oxigraph's store and Virtuoso both turn
    xsd:nonNegativeInteger into xsd:integer, so the value is what must agree across stores.
    """
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value)
    return term.value


def answer(store: SparqlStore, question: Question) -> tuple[tuple[str, ...], Counter[tuple[str, ...]]]:
    table: Table = store.select(question.query, question.bindings)
    return table.variables, Counter(tuple(cell(t) for t in row) for row in table.rows)
