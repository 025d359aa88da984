"""Competency questions: answer every ``queries/cq-*.rq`` on a release and compare with its approved answer.

An approved answer is curated data next to its query, ``queries/answers/<question>.tsv``:

- optional ``# bind: name=VALUE`` lines, bindings for the query's variables (``--bind`` syntax);
- a header line of the query's variables, tab-separated;
- one line per solution: a compact IRI (``carnk:NKCell``) or a literal's lexical form per cell,
  empty where a variable is unbound. A tab, newline, carriage return or backslash inside a
  value is written ``\\t``, ``\\n``, ``\\r``, ``\\\\``, and a ``#`` that starts a row ``\\#``
  (a line starting with ``#`` is a ``# bind:`` line).

Literals compare by lexical form without datatype on purpose: Oxigraph's store and Virtuoso
both turn ``xsd:nonNegativeInteger`` into ``xsd:integer``, and the value is what must agree.
Rows compare as a multiset: their order is free, duplicates count. A curator reviews the rows
a change adds and removes, then records the new answer with ``carnk-ld cq --approve NAME``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from carnk_ld.corpusfiles import corpus_entries, ignored_in, ignored_lines, read_input_text, replace_file
from carnk_ld.errors import InputError, Location, sparql_syntax_error
from carnk_ld.query import cell, parse_bindings
from carnk_ld.scopes import refuse_service
from carnk_ld.store import EmbeddedStore, SparqlStore

QUERIES_DIR = "queries"
ANSWERS_DIR = "queries/answers"
BIND_PREFIX = "# bind: "
#: A competency question's file name; a name in ``queries/`` that is not one is refused.
_QUESTION_RE = re.compile(r"cq-[^/]+\.rq")
#: The folders of ``queries/``: approved answers, and the QC checks a build reads (carnk_ld.qc).
_QUERIES_SUBDIRS = ("answers", "checks")

Cells = tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One competency question: its query file and where its approved answer lives."""

    name: str
    path: Path
    answer_path: Path
    answer_display: Path  # the answer file as a curator sees it (relative to the corpus root)

    @property
    def query_display(self) -> Path:
        """The query's path as a curator sees it."""
        return Path(QUERIES_DIR) / self.path.name

    @property
    def query(self) -> str:
        """The SPARQL text."""
        return read_input_text(self.path, self.query_display)


@dataclass(frozen=True)
class Answer:
    """Variables and rows of cells (a multiset), plus the ``# bind:`` lines the answer was asked with."""

    variables: tuple[str, ...]
    rows: Counter[Cells]
    binds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """The current answer of a question next to its approved answer (None when there is none yet)."""

    question: Question
    approved: Answer | None
    actual: Answer

    @property
    def added(self) -> list[Cells]:
        """Rows the current answer has and the approved one has not (each extra duplicate counts)."""
        before = self.approved.rows if self.approved else Counter()
        return sorted((self.actual.rows - before).elements())

    @property
    def removed(self) -> list[Cells]:
        """Rows of the approved answer that the current answer lacks."""
        before = self.approved.rows if self.approved else Counter()
        return sorted((before - self.actual.rows).elements())

    @property
    def ok(self) -> bool:
        """Whether the current answer is the approved one."""
        return (
            self.approved is not None
            and self.approved.variables == self.actual.variables
            and self.approved.rows == self.actual.rows
        )

    def render(self) -> list[str]:
        """``NAME: ok``, or what differs followed by ``+``/``-`` rows as they would be written."""
        name = self.question.name
        if self.ok:
            return [f"{name}: ok"]
        if self.approved is None:
            lines = [f"{name}: no approved answer ({self.question.answer_display}); {_rows(len(self.added))} added"]
        else:
            lines = [
                f"{name}: differs from {self.question.answer_display} "
                f"({_rows(len(self.added))} added, {_rows(len(self.removed))} removed)"
            ]
            if self.approved.variables != self.actual.variables:
                lines.append(f"  - variables: {' '.join(self.approved.variables)}")
                lines.append(f"  + variables: {' '.join(self.actual.variables)}")
        lines += [f"  + {format_row(row)}" for row in self.added]
        lines += [f"  - {format_row(row)}" for row in self.removed]
        return lines


@dataclass
class Report:
    """The outcome of ``carnk-ld cq``: one comparison per question and the answers approved first."""

    comparisons: list[Comparison]
    approved: list[Question] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # editor leftovers in queries/, with what each is

    @property
    def ok(self) -> bool:
        """Whether every question gives its approved answer."""
        return all(c.ok for c in self.comparisons)

    def render(self) -> list[str]:
        """The lines ``carnk-ld cq`` prints."""
        lines = [f"approved {q.name}: wrote {q.answer_display}" for q in self.approved]
        for comparison in self.comparisons:
            lines += comparison.render()
        lines += ignored_lines(self.ignored)
        differ = sum(not c.ok for c in self.comparisons)
        total = len(self.comparisons)
        lines.append(f"{total} question{'s' if total != 1 else ''}: {total - differ} ok, {differ} differ")
        if differ:
            lines.append("review the rows; to record a question's current answer: carnk-ld cq --approve NAME")
        return lines


def _rows(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def find_questions(root: Path) -> list[Question]:
    """The competency questions of a corpus tree, in file-name order, refusing any entry that is not read.

    ``queries/`` holds the questions (``cq-*.rq``), ``answers/`` and ``checks/`` (the QC checks a
    build reads); ``queries/answers/`` holds one ``NAME.tsv`` per question (a question may have none
    yet). A curator who misnames a question, or keeps an answer whose question was renamed, would
    otherwise see it silently left out; README.md and editor leftovers are skipped, and named by
    :func:`ignored_query_files`. A question or answer that is a pipe or a device is refused when
    it is read (:func:`carnk_ld.corpusfiles.read_input`), naming what it is.
    """
    shown = Path(QUERIES_DIR)
    questions = []
    for path in corpus_entries(root / QUERIES_DIR, shown):
        if path.name in _QUERIES_SUBDIRS and path.is_dir():
            continue
        if path.is_dir() or not _QUESTION_RE.fullmatch(path.name):
            raise InputError(
                shown / path.name,
                "unexpected entry in queries/: only competency questions (cq-NAME.rq files), answers/ and "
                "checks/ are read",
                "rename a question to cq-NAME.rq, or move the entry out of queries/",
            )
        name = path.name.removesuffix(".rq")
        questions.append(Question(name, path, root / ANSWERS_DIR / f"{name}.tsv", Path(ANSWERS_DIR) / f"{name}.tsv"))
    if os.path.lexists(root / ANSWERS_DIR):
        names = {q.name for q in questions}
        for path in corpus_entries(root / ANSWERS_DIR, Path(ANSWERS_DIR)):
            where = Path(ANSWERS_DIR) / path.name
            if path.is_dir() or not path.name.endswith(".tsv"):
                raise InputError(
                    where,
                    "unexpected entry in queries/answers/: only approved answers (NAME.tsv files) are read",
                    "name an answer after its question (cq-NAME.tsv), or move the entry out of queries/answers/",
                )
            if path.name.removesuffix(".tsv") not in names:
                raise InputError(
                    where,
                    f"approved answer without its question: there is no {QUERIES_DIR}/{path.name[:-4]}.rq",
                    "rename it after its question, or remove it if the question is gone",
                )
    return questions


def ignored_query_files(root: Path) -> list[str]:
    """The editor leftovers :func:`find_questions` skipped, as the summary names them."""
    return ignored_in(root, (QUERIES_DIR, ANSWERS_DIR))


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "#": "#"}


def _escape(value: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in value)


def _unescape(value: str, where: Location) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for c in chars:
        if c != "\\":
            out.append(c)
            continue
        code = next(chars, "")
        if code not in _UNESCAPES:
            raise InputError(where, f"unknown escape '\\{code}' in a cell", "write \\t, \\n, \\r, \\# or \\\\")
        out.append(_UNESCAPES[code])
    return "".join(out)


def format_row(row: Cells) -> str:
    """A row as its line in an answer file.

    >>> format_row(("carnk:NKCell", "", "a\\tb"))
    'carnk:NKCell\\t\\ta\\\\tb'
    """
    line = "\t".join(_escape(value) for value in row)
    return "\\" + line if line.startswith("#") else line


def read_answer(path: Path, display: Path | None = None) -> Answer:
    """Read an approved answer; a malformed file is an :class:`InputError` naming its line."""
    shown = display or path
    # a byte order mark some editors write is no part of the header, as in a query file
    text = read_input_text(path, shown, line_breaks="lf").removeprefix("\ufeff")
    binds: list[str] = []
    variables: tuple[str, ...] | None = None
    rows: Counter[Cells] = Counter()
    # Rows end at LF (CRLF) only: a cell's U+2028, U+0085 or form feed is part of its value, as the
    # answer was written, and a raw CR inside a line cannot come from an approved answer (\r is escaped).
    for number, line in enumerate(text.removesuffix("\n").split("\n") if text else [], start=1):
        where = Location(shown, number)
        if "\r" in line:
            raise InputError(where, "a raw carriage return inside a line", "write it in a cell as \\r")
        if line.startswith(BIND_PREFIX):
            if variables is not None:
                raise InputError(where, "a '# bind:' line must come before the header line")
            binding = line.removeprefix(BIND_PREFIX)
            try:
                parse_bindings([*binds, binding])
            except InputError as exc:
                raise InputError(where, exc.message, exc.hint) from None
            binds.append(binding)
        elif line.startswith("#"):
            raise InputError(where, "a line starting with '#' must be '# bind: name=VALUE'")
        elif variables is None:
            variables = tuple(line.split("\t"))
            bad = [v for v in variables if not v or not v.replace("_", "a").isalnum()]
            if bad:
                raise InputError(where, f"the header must be the query's variable names, tab-separated; got {line!r}")
        else:
            cells = line.split("\t")
            if len(cells) != len(variables):
                raise InputError(where, f"row has {len(cells)} cells but the header names {len(variables)} variables")
            rows[tuple(_unescape(c, where) for c in cells)] += 1
    if variables is None:
        raise InputError(Location(shown, 1), "no header line of variable names")
    return Answer(variables, rows, tuple(binds))


def render_answer(answer: Answer) -> str:
    """An answer file's text: ``# bind:`` lines, the header, then the rows sorted (deterministic)."""
    lines = [BIND_PREFIX + b for b in answer.binds]
    lines.append("\t".join(answer.variables))
    lines += sorted(format_row(row) for row in answer.rows.elements())
    return "\n".join(lines) + "\n"


def ask(store: SparqlStore, question: Question, binds: tuple[str, ...] = ()) -> Answer:
    """The question's current answer on ``store``, asked with the given ``# bind:`` bindings.

    A query that does not parse or is not a SELECT, and a binding of a variable the query does
    not use (a typo would otherwise bind nothing), are :class:`InputError` naming the file.
    """
    query = question.query
    refuse_service(query, question.query_display)  # Oxigraph's SERVICE calls bypass carnk_ld.netguard
    bindings = parse_bindings(binds)
    for number, name in enumerate(bindings, start=1):
        if not re.search(rf"[?$]{re.escape(name)}\b", query):
            where = Location(question.answer_display, _bind_line(question.answer_path, number))
            raise InputError(where, f"?{name} does not occur in {question.query_display}")
    try:
        table = store.select(query, bindings)
    except SyntaxError as exc:
        raise sparql_syntax_error(exc, question.query_display) from None
    except InputError as exc:
        raise InputError(question.query_display, exc.message, exc.hint) from None
    rows = Counter(tuple(cell(term) for term in row) for row in table.rows)
    return Answer(table.variables, rows, binds)


def _bind_line(path: Path, nth: int) -> int:
    """The line of the ``nth`` ``# bind:`` line of an answer file."""
    lines = read_input_text(path, path).splitlines()
    return [i for i, line in enumerate(lines, start=1) if line.startswith(BIND_PREFIX)][nth - 1]


def compare_question(store: SparqlStore, question: Question) -> Comparison:
    """Ask one question with its approved bindings and set the answer next to the approved one."""
    approved = read_answer(question.answer_path, question.answer_display) if question.answer_path.exists() else None
    actual = ask(store, question, approved.binds if approved else ())
    return Comparison(question, approved, actual)


def write_answer(path: Path, answer: Answer) -> None:
    """Write an approved answer atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, render_answer(answer).encode("utf-8"))


def run_competency_questions(root: Path, release: Path, approve: tuple[str, ...] = ()) -> Report:
    """Compare every question of ``root`` on ``release``; first record the current answers of ``approve``.

    Every name is checked before anything is written, so a typo approves nothing.
    """
    questions = find_questions(root)
    by_name = {q.name: q for q in questions}
    unknown = [name for name in approve if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or f"none: {root / QUERIES_DIR} has no cq-*.rq"
        raise InputError("--approve", f"unknown competency question {unknown[0]!r}", f"known questions: {known}")
    store = EmbeddedStore.for_release(release)
    report = Report([], ignored=ignored_query_files(root))
    for name in dict.fromkeys(approve):
        comparison = compare_question(store, by_name[name])
        write_answer(comparison.question.answer_path, comparison.actual)
        report.approved.append(comparison.question)
    report.comparisons = [compare_question(store, q) for q in questions]
    return report
