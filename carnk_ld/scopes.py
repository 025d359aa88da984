"""Where a SPARQL check or shape may be evaluated: per document, or only on the whole graph.

Each QC check (``queries/checks/*.rq``) and each SPARQL target or constraint of a shape
may declare, in a comment line of its query, ``# scope: document``: its answer over the
whole graph is the union of its answers over the shards (the global graphs plus one
document's part; see :mod:`carnk_ld.pipeline`), so it is evaluated shard by shard and a
rebuild re-evaluates only the shards that changed. Without a declaration (or with
``# scope: graph``) it runs on the whole graph, which is always correct.
``tests/test_scopes.py`` proves the declaration for every document-scoped query of the
project on a corpus with injected violations.

A whole-graph query may also declare which named graphs of the release its solutions read,
``# graphs: ontology mappings facts``: it then runs on a store of just those graphs, which
is smaller and quicker to build than one of everything. The same test proves that
declaration too.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from carnk_ld.errors import InputError, Location

Scope = Literal["document", "graph"]
SCOPES: tuple[Scope, ...] = ("document", "graph")

_SCOPE_LINE = re.compile(r"^[ \t]*#[ \t]*scope[ \t]*:[ \t]*(\S*)[ \t]*$", re.MULTILINE)
_GRAPHS_LINE = re.compile(r"^[ \t]*#[ \t]*graphs[ \t]*:(.*)$", re.MULTILINE)
#: The named graphs of the release a query may declare, by the last segment of their IRIs.
GRAPH_NAMES = ("ontology", "facts", "provenance", "mappings", "metadata")

# The tokens of SPARQL 1.1 and Turtle inside which a keyword is not a keyword (grammar
# productions IRIREF, STRING_LITERAL1/2, STRING_LITERAL_LONG1/2, comments and a prefixed
# name's local part). No parser at hand reports its tokens (Oxigraph's is not exposed to
# Python; rdflib's drops comments), so they are matched here.
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = rf"""\\[tbnrf\\"']|{_UCHAR}"""  # and UCHAR, as Turtle strings have it
# SPARQL 1.1's and Turtle's PN_CHARS_BASE, PN_CHARS_U, PN_CHARS and VARNAME's later characters,
# exactly, as regular-expression character classes' contents: a local part matched shorter than
# the parsers read it would leave an escaped '#' or quote after it to start a comment or a string.
PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
PN_CHARS_U = PN_CHARS_BASE + "_"
VARNAME_CHARS = PN_CHARS_U + "0-9\u00b7\u0300-\u036f\u203f\u2040"
PN_CHARS = VARNAME_CHARS + "\\-"
# PLX: PN_LOCAL_ESC (``carnk:a\#``, ``:it\'s``) and PERCENT. Parsers read a '#' or a quote
# escaped there as part of the name: it starts neither a comment nor a string.
_PLX = r"""\\[_~.\-!$&'()*+,;=/?#@%]|%[0-9A-Fa-f]{2}"""


def _token_pattern(comment: str) -> re.Pattern[str]:
    """The tokens with a comment running over characters ``comment`` (a regex character class)."""
    return re.compile(
        "|".join(
            (
                # Oxigraph and Turtle parsers read UCHAR escapes inside an IRI.
                rf"""(?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)""",
                rf"""(?P<long1>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*''')""",
                rf'''(?P<long2>"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*""")''',
                rf"""(?P<short1>'(?:[^'\\\n\r]|{_ECHAR})*')""",
                rf"""(?P<short2>"(?:[^"\\\n\r]|{_ECHAR})*")""",
                rf"(?P<comment>#{comment}*)",
                # From the ':' of a prefixed name to the end of its local part (a blank node
                # label's too: it has no escapes, so it reads the same). The prefix stays code,
                # since rdflib reads ``SERVICE:x`` as the keyword before ``:x``. A final '.'
                # belongs to the code after the name, but hides nothing inside it.
                rf"(?P<name>:(?:(?:[{PN_CHARS_U}:0-9]|{_PLX})(?:[{PN_CHARS}.:]|{_PLX})*)?)",
            )
        )
    )


# A comment ends at the first line end, CR or LF: parsers disagree on a lone CR, and
# ending it early keeps what follows visible to a keyword search.
_TOKENS = _token_pattern(r"[^\n\r]")
_TOKENS_TO_LF = _token_pattern(r"[^\n]")
_BLANK = {"iri": "<>", "long1": "''", "long2": "''", "short1": "''", "short2": "''", "comment": " "}
_LOCAL_ESCAPE = re.compile(r"\\.")


def _blank(match: re.Match[str]) -> str:
    """What is left of a token: a name as written but for its escapes, nothing of the others."""
    if match.lastgroup == "name":
        return _LOCAL_ESCAPE.sub("__", match.group())
    return _BLANK[match.lastgroup or "comment"]


def query_code(query: str) -> str:
    r"""The query with comments removed and IRIs and strings emptied: what is left are its keywords.

    >>> query_code('SELECT ?g # the GRAPH\nWHERE { ?s <http://x/#GRAPH> "GRAPH" }')
    "SELECT ?g  \nWHERE { ?s <> '' }"
    >>> query_code("# hidden\rSERVICE <x> {}")
    ' \rSERVICE <> {}'
    >>> query_code("SELECT * { ?s ?p '''a ' # b''' } # GRAPH")
    "SELECT * { ?s ?p '' }  "
    >>> query_code(r"SELECT * { ?s c:a\#b :it\'s } # c")
    'SELECT * { ?s c:a__b :it__s }  '
    """
    return _TOKENS.sub(_blank, query)


def code_lines(text: str) -> str:
    r"""``text`` with comments removed and IRIs and strings emptied, keeping every line break.

    >>> code_lines("<http://x/~a> '''a\nb''' ~ # <<\n<< :a")
    "<> ''\n ~  \n<< :a"
    >>> code_lines(r"c:s c:p c:a\# ~ c:r .")
    'c:s c:p c:a__ ~ c:r .'
    """
    return _TOKENS.sub(lambda match: _blank(match) + "\n" * match.group().count("\n"), text)


_STRING_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ESCAPED = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def string_literals(text: str) -> Iterator[tuple[str, list[int]]]:
    r"""Each string of a Turtle or SPARQL text: its value, and where in ``text`` each of its characters is written.

    Strings inside IRIs and comments are none; the value has the escapes applied, as a parser reads it.

    >>> list(string_literals(r"<x#'> :a\' 'a\tb' # 'c'"))
    [('a\tb', [12, 13, 15])]
    """
    for match in _TOKENS.finditer(text):
        if match.lastgroup not in ("long1", "long2", "short1", "short2"):
            continue
        quotes = 3 if match.lastgroup in ("long1", "long2") else 1
        position, end = match.start() + quotes, match.end() - quotes
        chars: list[str] = []
        offsets: list[int] = []
        while position < end:
            escape = _STRING_ESCAPE.match(text, position, end)
            offsets.append(position)
            if escape is None:
                chars.append(text[position])
                position += 1
                continue
            code = escape.group(1) or escape.group(2)
            if code:
                chars.append(chr(int(code, 16)) if int(code, 16) <= 0x10FFFF else "\ufffd")
            else:
                chars.append(_ESCAPED.get(escape.group(3), escape.group(3)))
            position = escape.end()
        yield "".join(chars), offsets


def declared_scope(query: str) -> tuple[Scope, int | None, str]:
    """The scope a query declares, the line of its declaration and what is wrong with it ("" if nothing).

    >>> declared_scope("# scope: document\\nSELECT * WHERE { ?s ?p ?o }")[:2]
    ('document', 1)
    >>> declared_scope("SELECT * WHERE { ?s ?p ?o }")
    ('graph', None, '')
    >>> declared_scope("# scope: everything\\nSELECT * {}")[2]
    "unknown scope 'everything' (write 'document' or 'graph')"
    """
    found = list(_SCOPE_LINE.finditer(query))
    if not found:
        return "graph", None, ""
    line = query.count("\n", 0, found[0].start()) + 1
    if len(found) > 1:
        return "graph", line, "more than one '# scope:' line"
    value = found[0].group(1)
    if value not in SCOPES:
        return "graph", line, f"unknown scope {value!r} (write 'document' or 'graph')"
    return value, line, ""


def declared_graphs(query: str) -> tuple[tuple[str, ...] | None, int | None, str]:
    r"""The named graphs a whole-graph query declares it reads (None: all), the declaration's line, a problem.

    >>> declared_graphs("# scope: graph\n# graphs: facts ontology\nSELECT * {}")[:2]
    (('facts', 'ontology'), 2)
    >>> declared_graphs("SELECT * {}")
    (None, None, '')
    >>> declared_graphs("# graphs: facts\nSELECT * {}")[2]
    "'# graphs:' is for whole-graph queries ('# scope: graph'); a document-scoped query reads its shards"
    >>> declared_graphs("# scope: graph\n# graphs: facts stuff\nSELECT * {}")[2]
    "unknown graph 'stuff' (write some of ontology, facts, provenance, mappings, metadata)"
    """
    found = list(_GRAPHS_LINE.finditer(query))
    if not found:
        return None, None, ""
    line = query.count("\n", 0, found[0].start()) + 1
    scope, scope_line, _ = declared_scope(query)
    if len(found) > 1:
        return None, line, "more than one '# graphs:' line"
    if scope != "graph" or scope_line is None:
        return (
            None,
            line,
            ("'# graphs:' is for whole-graph queries ('# scope: graph'); a document-scoped query reads its shards"),
        )
    names = tuple(found[0].group(1).split())
    unknown = [name for name in names if name not in GRAPH_NAMES]
    if unknown or not names:
        what = f"unknown graph {unknown[0]!r}" if unknown else "no graph named"
        return None, line, f"{what} (write some of {', '.join(GRAPH_NAMES)})"
    return names, line, ""


# SERVICE makes the engine fetch from the network with its own HTTP client, which the
# audit hook of carnk_ld.netguard cannot see, so a query using it must never reach an
# engine. Oxigraph's parser is not exposed to Python, so the query is read the way the
# grammar tokenises it, every way a parser could: with SPARQL's \uXXXX escapes applied
# and not (rdflib applies them before parsing, Oxigraph does not), with comments ending
# at the first CR or only at LF (Oxigraph ends them at CR, rdflib at LF), and with each
# '<...>' that could hide code if its '<' were a less-than also read that way.
_SERVICE = re.compile("service", re.IGNORECASE)
# A variable's name (VARNAME) is read greedily by both parsers, so a word inside one is not
# a keyword; a prefixed name's local part is a token of its own (see _token_pattern).
_VARIABLES = re.compile(f"[?$][{VARNAME_CHARS}]+")
# What can end the code before a keyword written without a space: a bracket, a '.' or ';',
# a string, a number or true/false.
_BARE_KEYWORD = re.compile(r"[)\].;'0-9e]service", re.IGNORECASE)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LONG_STRING_START = re.compile("'''|\"\"\"")
_MAX_READINGS = 64


def unescape_codepoints(query: str) -> str:
    r"""The query with SPARQL's codepoint escapes applied (SPARQL 1.1, section 19.2).

    >>> unescape_codepoints(r"\u0053ERVICE \U0001F600")
    'SERVICE \U0001f600'
    """

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _CODEPOINT.sub(char, query)


def service_offset(query: str) -> int | None:
    r"""Where the query may use ``SERVICE`` (an offset in ``query``), or None when no reading of it can.

    >>> service_offset("SELECT * { SERVICE <http://e/> { ?s ?p ?o } }")
    11
    >>> service_offset("SELECT ?service { ?s <http://e/service#p> 'SERVICE' } # SERVICE") is None
    True
    >>> service_offset("SELECT * { # hidden\rSERVICE <http://e/> {} }")
    20
    >>> service_offset(r"SELECT * { \u0053ERVICE <http://e/> {} }")
    11
    >>> service_offset("SELECT * { FILTER(1<'x)>')SERVICE<http://e/>{}#'\n}")
    26

    An escaped '#' or quote in a prefixed name starts no comment or string:

    >>> service_offset(r"SELECT * { BIND(c:a\# AS ?x) SERVICE <http://e/> {} }")
    29
    >>> service_offset(r"SELECT * { BIND(:it\'s AS ?x) SERVICE <http://e/> {} } # '")
    30
    """
    found = _find_service(query)
    return None if found is None else found[0]


def _find_service(query: str) -> tuple[int, bool] | None:
    """Where the query may use ``SERVICE``, and whether only because it has too many readings to try."""
    lines = query.split("\n")
    # Escapes never span a line, so unescaping line by line maps each offset back to its line.
    unescaped = [unescape_codepoints(line) for line in lines]
    raw_starts, unescaped_starts = [0], [0]
    for raw, text in zip(lines, unescaped, strict=True):
        raw_starts.append(raw_starts[-1] + len(raw) + 1)
        unescaped_starts.append(unescaped_starts[-1] + len(text) + 1)
    budget = [_MAX_READINGS]
    for tokens in (_TOKENS, _TOKENS_TO_LF):
        found = _Reading(query, tokens, budget).keyword(0)
        if found is not None:
            return found, budget[0] < 0  # a reading stops as soon as the budget runs out
        found = _Reading("\n".join(unescaped), tokens, budget).keyword(0)
        if found is not None:
            row = bisect.bisect_right(unescaped_starts, found) - 1
            return raw_starts[row] + min(found - unescaped_starts[row], len(lines[row])), budget[0] < 0
    return None


def service_line(query: str) -> int | None:
    """The 1-based line where the query may use ``SERVICE`` (see :func:`service_offset`), or None."""
    offset = service_offset(query)
    return None if offset is None else query.count("\n", 0, offset) + 1


def refuse_service(query: str, path: Path | str, *, first_line: int | None = 1) -> None:
    """Raise :class:`InputError` at ``path`` and the query's line if the query may use ``SERVICE``.

    ``first_line`` is the line of ``path`` where the query text starts (for a query inside a
    file), None if unknown: the error then names the file alone.
    """
    found = _find_service(query)
    if found is None:
        return
    offset, too_ambiguous = found
    where = Location(Path(path), None if first_line is None else first_line + query.count("\n", 0, offset))
    if too_ambiguous:
        raise InputError(
            where,
            f"the query is too ambiguous to check for SERVICE (more than {_MAX_READINGS} ways to read its "
            "'<'s as IRIs or less-thans), so it is refused: queries never reach the network",
            "write a space after a '<' that means less-than",
        )
    raise InputError(
        where,
        "SERVICE is refused: queries never reach the network",
        "query the release's own graphs; copy what you need from elsewhere into the inputs",
    )


class _Reading:
    """One tokenisation of a query; branches where a '<' could be a less-than instead of an IRI."""

    def __init__(self, text: str, tokens: re.Pattern[str], budget: list[int]):
        self.text, self.tokens, self.budget = text, tokens, budget
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.long_strings = [m.start() for m in _LONG_STRING_START.finditer(text)]

    def keyword(self, position: int) -> int | None:
        """The first SERVICE keyword from ``position`` in any reading."""
        while True:
            match = self.tokens.search(self.text, position)
            end = match.start() if match else len(self.text)
            code = _VARIABLES.sub(lambda name: " " * len(name.group(0)), self.text[position:end])
            found = _SERVICE.search(code)
            if found is not None:
                return position + found.start()
            if match is None:
                return None
            if match.lastgroup == "iri" and self.ambiguous(match):
                self.budget[0] -= 1
                if self.budget[0] < 0:
                    return match.start()  # too many readings to try: taken as using SERVICE
                below = self.keyword(match.start() + 1)
                if below is not None:
                    return below
            position = match.end()

    def ambiguous(self, match: re.Match[str]) -> bool:
        """Whether this ``<...>`` read as a less-than could hide code.

        A quote in it would start a string running past its '>'. A '#' would start a
        comment to the line end, which hides code only from a keyword before it or from
        a long string starting later on that line.
        """
        content = match.group("iri")
        if "'" in content:
            return True
        if "#" not in content:
            return False
        if _BARE_KEYWORD.search(content.split("#", 1)[0]):
            return True
        line_end = bisect.bisect_left(self.newlines, match.end())
        line_end = self.newlines[line_end] if line_end < len(self.newlines) else len(self.text)
        string = bisect.bisect_left(self.long_strings, match.end())
        return string < len(self.long_strings) and self.long_strings[string] < line_end


__all__ = [
    "GRAPH_NAMES",
    "SCOPES",
    "Scope",
    "declared_graphs",
    "declared_scope",
    "query_code",
    "refuse_service",
    "service_line",
    "service_offset",
    "string_literals",
    "unescape_codepoints",
]
