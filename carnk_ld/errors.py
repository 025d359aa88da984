"""Errors that end a build, each carrying the exit code the CLI reports.

Every error names where the problem is (file and line, or a term IRI) because curators
fix inputs by hand and need to find the spot without reading a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class CarnkError(Exception):
    """Base class; ``exit_code`` is what ``carnk-ld`` exits with."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """A place in an input file (1-based line and column)."""

    path: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class Locator(Protocol):
    """Where each node (by IRI) was written: a ``dict[str, Location]`` or :class:`carnk_ld.gates.Sources`."""

    def get(self, iri: str, /) -> Location | None: ...


class InputError(CarnkError):
    """Bad input: a file is missing, malformed, or contradicts another input (exit 2)."""

    exit_code = 2

    def __init__(self, location: Location | Path | str, message: str, hint: str | None = None):
        self.location = location if isinstance(location, Location) else Location(Path(location))
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """Format as ``file:line: error: message`` plus an optional hint line."""
        text = f"{self.location}: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


_SPARQL_ERROR_RE = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)
#: A prefixed name's prefix and colon, at the end of the text before an error's position.
_PREFIXED_NAME_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)?:[A-Za-z0-9_.%-]*$")


def sparql_syntax_error(
    exc: SyntaxError, path: Path, text: str | None = None, prefixes: Iterable[str] | None = None
) -> InputError:
    """The input error for a query in ``path`` that Oxigraph could not parse, at the line and column it names.

    Oxigraph puts the position in the message (``error at 3:2: expected ...``), not in ``lineno``,
    and lists what it expected, character classes included (lines of Unicode ranges): the message
    keeps one line, the words and tokens it expected, and (given the query ``text``) what stands
    there. An undeclared prefix is named as such, with the ``prefixes`` that need no declaration.

    >>> print(sparql_syntax_error(SyntaxError("error at 3:2: expected WHERE"), Path("q.rq")).render())
    q.rq:3:2: error: SPARQL syntax error: expected WHERE
    """
    match = _SPARQL_ERROR_RE.match(str(exc))
    if not match:
        return InputError(Location(path, exc.lineno, exc.offset), f"SPARQL syntax error: {exc.msg or exc}")
    line, column, problem = int(match[1]), int(match[2]), match[3]
    lines = text.split("\n") if text is not None else []
    before = lines[line - 1][: column - 1] if 0 < line <= len(lines) else ""
    prefix = _PREFIXED_NAME_RE.search(before) if "Prefix not found" in problem else None
    if prefix is not None:
        name = prefix.group(1) or ""
        hint = f"declare it: PREFIX {name}: <...>"
        if prefixes is not None:
            hint += f"; these need no declaration: {', '.join(prefixes)}"
        return InputError(
            Location(path, line, column - len(prefix.group(0))),
            f"SPARQL syntax error: the prefix {name}: is not declared",
            hint,
        )
    message = " ".join(problem.split())
    if message.startswith("expected one of "):
        # a character class ("['A' ..= 'Z' | ...]") says nothing a reader can act on: keep words and tokens
        items = [item for item in message.removeprefix("expected one of ").split(", ") if not item.startswith("[")]
        message = f"expected one of {', '.join(items)}" if items else "unexpected text"
    if lines:
        here = lines[line - 1][column - 1 : column + 19] if 0 < line <= len(lines) else ""
        message += f' at "{here.rstrip()}"' if here.strip() else " at the end of the line"
    return InputError(Location(path, line, column), f"SPARQL syntax error: {message}")


class InputErrors(CarnkError):
    """Several input errors found in one pass, reported together so curators fix them at once."""

    exit_code = 2

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


class QualityGateFailed(CarnkError):
    """Well-formed input that fails a quality gate: reasoning or the ontology QC report (exit 1)."""

    exit_code = 1


class ValidationFailed(CarnkError):
    """The assembled graph does not conform to the SHACL shapes (exit 1)."""

    exit_code = 1

    def __init__(self, report_text: str, violations: int):
        self.report_text = report_text
        self.violations = violations
        super().__init__(report_text)
