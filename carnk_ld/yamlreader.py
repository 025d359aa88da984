"""A strict reader for hand-edited YAML.

YAML 1.1 loaders quietly turn ``no`` into ``False`` and ``0777`` into 511, follow
aliases (billion-laughs bombs), honour tags, and keep the last of two duplicate keys.
For curated data each of these silently changes what the curator wrote, so this reader
refuses tags, anchors and aliases and duplicate keys, and returns every scalar as the
text that was written, with its line number. The schema (in :mod:`carnk_ld.facts`)
decides what the text means.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from carnk_ld.corpusfiles import not_utf8, read_input
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.hints import CLOSED_SET_RATIO, did_you_mean

_INT_RE = re.compile(r"0|[1-9][0-9]*")
_NULLS = {"", "~", "null", "Null", "NULL"}

#: The largest count a facts file may state. Oxigraph holds xsd:integer in 64 bits and cannot
#: compare a larger one; this bound also leaves room for sums of thousands of counts in a query
#: and is exact as a JavaScript number (below 2**53), as JSON-LD readers often parse it.
MAX_COUNT = 10**15

#: Characters YAML 1.1 reads as line breaks (a CR not followed by LF included), which it folds
#: into a space inside a scalar and which end a comment early: never what a curator means raw.
_STRAY_BREAKS = {
    "\r": "CARRIAGE RETURN",
    "\x85": "NEXT LINE",
    "\u2028": "LINE SEPARATOR",
    "\u2029": "PARAGRAPH SEPARATOR",
}
_STRAY_BREAK_RE = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_ESCAPES = {"\r": "\\r", "\x85": "\\N", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class YScalar:
    """A scalar exactly as written; ``plain`` is False when it was quoted or a block scalar."""

    value: str
    line: int
    plain: bool
    #: Where the value starts on its line (1-based), when the parser said; not part of the value.
    column: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class YSeq:
    """A sequence with the line it starts on."""

    items: list[YNode]
    line: int


@dataclass(frozen=True)
class YMap:
    """A mapping; keys keep their own lines for error messages."""

    items: dict[str, tuple[int, YNode]]
    line: int


YNode = YScalar | YSeq | YMap


#: libyaml's parser when PyYAML was built with it (much faster on large facts files).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path, *, display_path: Path | None = None) -> YNode:
    """Parse one YAML document strictly into :class:`YNode` objects."""
    shown = display_path or path
    data = read_input(path, shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(data, exc, shown) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_yaml_text(text, shown)


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a code-point offset, counting lines by LF as editors do."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def stray_line_break(text: str) -> tuple[int, str] | None:
    """The offset and name of the first line break other than LF or CRLF, if any."""
    match = _STRAY_BREAK_RE.search(text)
    return (match.start(), _STRAY_BREAKS[match.group()]) if match else None


def parse_yaml_text(text: str, shown: Path) -> YNode:
    """Parse YAML text strictly; line numbers are those of ``text`` (reported against ``shown``)."""
    stray = stray_line_break(text)
    if stray is not None:
        offset, name = stray
        char = text[offset]
        hint = f'write it as {_ESCAPES[char]} inside a double-quoted string ("...{_ESCAPES[char]}...") if you mean it'
        if char == "\r":
            hint = "save the file with LF (or CRLF) line ends; " + hint
        raise InputError(
            Location(shown, *position(text, offset)),
            f"raw U+{ord(char):04X} ({name}) character: YAML reads it as a line break and would fold it into a space",
            hint,
        )
    composer = _Composer(shown)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            assert event.start_mark is not None  # the parser marks every event it emits
            line = event.start_mark.line + 1
            column = event.start_mark.column + 1
            if isinstance(event, yaml.DocumentStartEvent) and composer.documents:
                raise InputError(
                    Location(shown, line, column),
                    "a second YAML document starts here: expected exactly one YAML document",
                    "remove the second '---' line or move its content into the first document",
                )
            if isinstance(event, yaml.AliasEvent):
                raise InputError(
                    Location(shown, line, column),
                    f"YAML alias *{event.anchor} is not allowed",
                    "write the value out in full; aliases hide what a fact says and allow YAML bombs",
                )
            if anchor := getattr(event, "anchor", None):
                raise InputError(Location(shown, line, column), f"YAML anchor &{anchor} is not allowed")
            if (tag := getattr(event, "tag", None)) and not isinstance(event, (yaml.DocumentStartEvent,)):
                raise InputError(
                    Location(shown, line, column),
                    f"YAML tag {tag} is not allowed",
                    "remove the tag; values are interpreted by the facts schema",
                )
            composer.add(event, line, column)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, shown) from None
    except yaml.reader.ReaderError as exc:
        raise InputError(
            Location(shown, *position(text, exc.position)),
            f"character U+{exc.character:04X} is not allowed in YAML",
            'write control characters escaped inside a double-quoted string, e.g. "\\t" or "\\x07"',
        ) from None
    except yaml.YAMLError as exc:  # no mark to report: its text may hold a character position, so not shown
        raise InputError(Location(shown, 1), f"YAML error: {type(exc).__name__}") from None
    if composer.problem is not None:  # the whole file is well-formed YAML: now its first problem of structure
        raise composer.problem
    if composer.root is None:
        raise InputError(Location(shown, 1), "expected exactly one YAML document, found none")
    return composer.root


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, shown: Path) -> InputError:
    """A parser's error at its line and column, with what it was reading and a hint for the usual causes.

    PyYAML's own text ends with ``in "<unicode string>", line 3, column 1`` (or a character
    position) and a second mark; only the problem, its place and the context are kept.
    """
    mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
    where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
    message = f"YAML syntax error: {exc.problem or exc.context or 'unreadable YAML'}"
    tab = "tab" in (exc.problem or "")  # PyYAML's context for a tab (a scalar before it) only misleads
    if exc.context and context is not None and context is not mark and "next token" not in exc.context and not tab:
        message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    hint = None
    lines = text.split("\n")
    before = lines[mark.line][: mark.column + 1] if mark and mark.line < len(lines) else ""
    if tab or before.strip(" ") == "\t" or before.endswith("\t"):
        hint = "indent with spaces: YAML does not allow tab characters in indentation"
    elif "quoted scalar" in (exc.context or "") and "end of stream" in (exc.problem or ""):
        hint = "close the quote on the value's own line, or escape a quote inside it (\\\" or '')"
    elif (exc.problem or "").startswith("did not find expected key") or "block" in (exc.context or ""):
        hint = "check the indentation: the keys of one mapping and the items of one list line up"
    return InputError(where, message, hint)


@dataclass
class _Open:
    """A collection whose end event has not come yet."""

    line: int
    items: list[YNode] | dict[str, tuple[int, YNode]]
    key: tuple[str, int] | None = None  # a mapping's key (and its line) waiting for its value


class _Composer:
    """Builds :class:`YNode` values from the parser's events, the one pass over the text.

    PyYAML's own composer would need a second parse (the events are read first for what
    this reader refuses) and resolves tags that are never used here. The first problem of
    structure (a duplicate key, a key that is not plain text, a merge key) is kept, in
    document order, and raised only once the whole text has parsed, so a syntax error
    anywhere is reported first, as the parser finds it.
    """

    def __init__(self, shown: Path):
        self.shown = shown
        self.documents = 0
        self.root: YNode | None = None
        self.problem: InputError | None = None
        self._open: list[_Open] = []

    def _fail(self, line: int, message: str, hint: str | None = None, column: int | None = None) -> None:
        if self.problem is None:
            self.problem = InputError(Location(self.shown, line, column), message, hint)

    def add(self, event: yaml.Event, line: int, column: int | None = None) -> None:
        """Take one parser event (at ``line`` and ``column``)."""
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
        elif isinstance(event, yaml.ScalarEvent):
            self._attach(YScalar(event.value, line, event.style in (None, ""), column), line)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            top = self._open[-1] if self._open else None
            if top is not None and isinstance(top.items, dict) and top.key is None:
                self._fail(line, "mapping keys must be plain text", column=column)
            self._open.append(_Open(line, [] if isinstance(event, yaml.SequenceStartEvent) else {}))
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            done = self._open.pop()
            node: YNode = YSeq(done.items, done.line) if isinstance(done.items, list) else YMap(done.items, done.line)
            self._attach(node, done.line)

    def _attach(self, node: YNode, line: int) -> None:
        if not self._open:
            self.root = node
            return
        top = self._open[-1]
        if isinstance(top.items, list):
            top.items.append(node)
        elif top.key is not None:
            top.items[top.key[0]] = (top.key[1], node)
            top.key = None
        elif not isinstance(node, YScalar):  # a key that is a collection: reported where it started
            top.key = (f"\x00{line}", line)
        else:
            if node.value == "<<":
                self._fail(line, "YAML merge keys (<<) are not allowed", column=node.column)
            elif node.value in top.items:
                first = top.items[node.value][0]
                self._fail(
                    line,
                    f"duplicate key {node.value!r} (first defined on line {first})",
                    "YAML keeps only the last value; remove one of them",
                    node.column,
                )
            top.key = (node.value, line)


def _shorten(value: str, limit: int = 40) -> str:
    """A value as an error message quotes it: long ones cut, so a message stays readable."""
    return value if len(value) <= limit else value[:limit] + "…"


class Reader:
    """Schema helpers that turn :class:`YNode` values into Python values or errors with lines."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, where: int | YNode, message: str, hint: str | None = None) -> InputError:
        """An :class:`InputError` at a line of this file, or at a value (its line, and its column when known)."""
        if isinstance(where, int):
            return InputError(Location(self.path, where), message, hint)
        column = where.column if isinstance(where, YScalar) else None
        return InputError(Location(self.path, where.line, column), message, hint)

    def mapping(self, node: YNode, what: str, required: set[str], optional: set[str]) -> YMap:
        """Check that ``node`` is a mapping with exactly the allowed keys (all its wrong keys in one error)."""
        if not isinstance(node, YMap):
            raise self.error(node, f"{what} must be a mapping of keys to values")
        errors = self.key_errors(node, what, required, optional)
        if errors:
            raise errors[0] if len(errors) == 1 else InputErrors(errors)
        return node

    @staticmethod
    def empty(node: YNode) -> bool:
        """Whether ``node`` is an empty value (a key with nothing after it, or ``~``/``null``)."""
        return isinstance(node, YScalar) and node.plain and node.value in _NULLS

    def key_errors(self, node: YMap, what: str, required: set[str], optional: set[str]) -> list[InputError]:
        """An error for each key of ``node`` that is not allowed and each required key it lacks, in line order."""
        allowed = required | optional
        listed = f"allowed keys: {', '.join(sorted(allowed))}"
        errors = []
        for key, (line, _) in node.items.items():
            if key not in allowed and not key.startswith("\x00"):  # a collection as a key is the composer's error
                close = did_you_mean(key, allowed, CLOSED_SET_RATIO)
                hint = f"{close} {listed}" if close else listed
                errors.append(self.error(line, f"unknown key {key!r} in {what}", hint))
        errors.extend(
            self.error(node, f"{what} is missing the required key {key!r}")
            for key in sorted(required)
            if key not in node.items
        )
        return errors

    def sequence(self, node: YNode, what: str) -> YSeq:
        """Check that ``node`` is a sequence."""
        if not isinstance(node, YSeq):
            raise self.error(node, f"{what} must be a list")
        return node

    def text(self, node: YNode, what: str) -> str:
        """A non-empty string, exactly as written."""
        if not isinstance(node, YScalar):
            raise self.error(node, f"{what} must be a single value, not a list or mapping")
        if node.plain and node.value in _NULLS:
            raise self.error(node, f"{what} is empty")
        if not node.value.strip():
            raise self.error(node, f"{what} is empty")
        return node.value

    def integer(self, node: YNode, what: str) -> int:
        """A non-negative decimal integer written without quotes or leading zeros, at most :data:`MAX_COUNT`."""
        if not isinstance(node, YScalar) or not node.plain or not _INT_RE.fullmatch(node.value):
            value = _shorten(node.value) if isinstance(node, YScalar) else "a list or mapping"
            hint = None
            if isinstance(node, YScalar) and re.fullmatch(r"0[0-9]+", node.value):
                hint = "leading zeros are ambiguous (YAML 1.1 reads 0777 as octal); write the plain number"
            raise self.error(node, f"{what} must be a non-negative whole number, got {value!r}", hint)
        # Compared as text first: Python refuses to convert numbers of more than 4300 digits.
        if len(node.value) > len(str(MAX_COUNT)) or int(node.value) > MAX_COUNT:
            raise self.error(
                node,
                f"{what} {_shorten(node.value)} ({len(node.value)} digits) is over the limit of {MAX_COUNT:,} "
                "for a count",
                "RDF stores hold whole numbers in 64 bits and cannot compare larger ones; check the number",
            )
        return int(node.value)

    def choice(self, node: YNode, what: str, choices: dict[str, str]) -> str:
        """One of a fixed set of words, mapped to its meaning."""
        value = self.text(node, what)
        if value not in choices:
            hint = did_you_mean(value, list(choices), CLOSED_SET_RATIO)
            raise self.error(node, f"{what} must be one of {', '.join(choices)}; got {value!r}", hint)
        return choices[value]


def yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (YAML reads every JSON string the same way)."""
    return json.dumps(text, ensure_ascii=False)
