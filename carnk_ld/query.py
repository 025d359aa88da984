"""Run user SPARQL against the release safely: checked, parameterised and time-limited.

Queries are parsed before they run. Updates (``LOAD``, ``INSERT`` ...) and ``SERVICE``
are refused on the embedded store: the release is read-only and builds never reach the
network. Parameters are parsed as RDF terms and joined in as a trailing ``VALUES`` block
written by the RDF serialiser, never user text pasted into the query. The query runs in
a child process that is killed when the timeout fires, so a runaway query really stops;
checking and parsing run there too, so the timeout bounds everything. The child dies with
its parent, however the parent ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import math
import multiprocessing
import os
import re
import signal
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from carnk_ld.constants import PREFIXES
from carnk_ld.errors import InputError, Location, sparql_syntax_error
from carnk_ld.scopes import query_code, refuse_service
from carnk_ld.store import add_values
from carnk_ld.vocab import compact_iri

#: What a SELECT or ASK query's answer may be written as.
TABLE_FORMATS = ("table", "csv", "tsv", "json")
#: What a CONSTRUCT or DESCRIBE query's graph may be written as ("table" and "json": N-Triples and JSON-LD).
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld")
FORMATS = TABLE_FORMATS + GRAPH_FORMATS
BOM = "\ufeff"
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The longest --timeout accepted, in seconds (a day).
MAX_TIMEOUT = 86400.0
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# N-Triples terms (IRIREF, STRING_LITERAL_QUOTE with LANGTAG or a datatype), as in the RDF 1.1 grammar.
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_IRIREF = rf"<(?:[^\x00-\x20<>\"{{}}|^`\\]|{_UCHAR})*>"
_IRIREF_RE = re.compile(_IRIREF)
_TERM_RE = re.compile(
    rf"""{_IRIREF}|"(?:[^"\\\n\r]|\\[tbnrf"'\\]|{_UCHAR})*"(?:@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*|\^\^{_IRIREF})?"""
)


class QueryTimeout(InputError):
    """The query ran longer than allowed and was stopped."""


@dataclass(frozen=True)
class QueryOutcome:
    """Serialised results plus what kind of query produced them."""

    kind: str  # "select", "ask", "graph"
    data: bytes


def prepared_query(text: str) -> str:
    """The query text every parser and the store read: without a leading byte order mark.

    Editors write a BOM at the start of UTF-8 files; it is no SPARQL, and rdflib would report a
    syntax error nowhere in particular. (The release's prefixes are not written into the text:
    Oxigraph takes them as a map, and rdflib's variable-scope reading needs no IRIs.)


    >>> prepared_query("\\ufeffASK {}")
    'ASK {}'
    """
    return text.removeprefix(BOM)


def check_query(text: str, *, source: str = "query") -> str:
    """Refuse updates and SERVICE; return the query form ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")."""
    from rdflib.plugins.sparql import parser

    if not query_code(text).strip():  # an empty text parses as an update that does nothing
        raise InputError(source, "the query is empty", "write a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    refuse_service(text, source)
    try:
        parsed = parser.parseQuery(text)
    except Exception as query_error:
        try:
            update = parser.parseUpdate(text)
        except Exception:
            raise _syntax_error(text, source, query_error) from None
        if "request" not in update:  # only PREFIX or BASE lines: no query form at all
            raise InputError(
                source, "the query has no SELECT, ASK, CONSTRUCT or DESCRIBE", "write the query after its PREFIX lines"
            ) from None
        raise InputError(
            source, "SPARQL updates (INSERT, DELETE, LOAD, CLEAR, ...) are refused: the release is read-only"
        ) from None
    if _contains(parsed, "ServiceGraphPattern"):  # refuse_service sees it first; rdflib's parse confirms
        raise InputError(source, "SERVICE is refused: queries on the release never reach the network")
    form = parsed[1].name  # e.g. SelectQuery
    return form.removesuffix("Query").upper()


def _syntax_error(text: str, source: str, rdflib_error: Exception) -> InputError:
    """A query that does not parse, as one line at its line and column.

    Oxigraph (the store that runs the query) names the spot and what it expected there more
    precisely than rdflib's parser, which points at the start of the clause it could not read.
    """
    try:
        ox.Store().query(text, prefixes=PREFIXES)  # an empty store: only the parse costs anything
    except SyntaxError as exc:
        return sparql_syntax_error(exc, Path(source), text, PREFIXES)
    lineno, col = getattr(rdflib_error, "lineno", None), getattr(rdflib_error, "col", None)
    message = getattr(rdflib_error, "msg", None) or str(rdflib_error).splitlines()[0]
    return InputError(Location(Path(source), lineno, col), f"SPARQL syntax error: {message}")


def check_format(form: str, fmt: str) -> None:
    """Refuse a ``--format`` that the query's answer cannot be written as (a graph as CSV, rows as Turtle)."""
    if form in ("SELECT", "ASK") and fmt in GRAPH_FORMATS:
        article = "an" if form == "ASK" else "a"
        raise InputError(
            "--format",
            f"{fmt} is for the graph of a CONSTRUCT or DESCRIBE query; the query is {article} {form} query",
            f"use --format {', '.join(TABLE_FORMATS)}",
        )
    if form in ("CONSTRUCT", "DESCRIBE") and fmt in ("csv", "tsv"):
        raise InputError(
            "--format",
            f"{fmt} is for the rows of a SELECT query; the query is a {form} query, whose answer is a graph",
            "use --format turtle, ntriples or jsonld (json is JSON-LD)",
        )


#: The file extension of each graph format a query answers in; any other (``table``, ``ntriples``) is N-Triples.
_GRAPH_EXTENSIONS = {"turtle": "ttl", "jsonld": "jsonld", "json": "jsonld", "rdfxml": "rdf"}


def graph_bytes(triples: list[ox.Triple], fmt: str) -> bytes:
    """A query's graph in ``fmt`` (one of :data:`FORMATS` or ``rdfxml``), sorted so the same answer is
    the same bytes, with the release's prefixes: :func:`carnk_ld.serialise.rdf_bytes`."""
    from carnk_ld.serialise import rdf_bytes

    return rdf_bytes(triples, _GRAPH_EXTENSIONS.get(fmt, "nt"))


def bindable(text: str) -> set[str]:
    """The variables a trailing ``VALUES`` block restricts: in scope where it joins the query.

    That is after grouping, so a grouped query's ``GROUP BY`` variables, else every variable
    in scope in its ``WHERE`` clause (not one only inside a subquery, a ``FILTER`` or a ``MINUS``).

    >>> sorted(bindable("SELECT ?s WHERE { ?s ?p ?o FILTER(?f) { SELECT ?x WHERE { ?x ?q ?y } } }"))
    ['o', 'p', 's', 'x']
    >>> sorted(bindable("SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o"))
    ['o']
    """
    from rdflib.plugins.sparql import algebra, parser
    from rdflib.term import Variable

    parsed = parser.parseQuery(text)
    # Which IRI a prefixed name stands for does not change which variables are in scope, and
    # rdflib's prefix table forgets a prefix when another is declared for the same namespace
    # (and knows none of the release's predeclared ones): the names become placeholder IRIs.
    parsed[1] = algebra.traverse(parsed[1], visitPost=_placeholder_iri)
    node = algebra.translateQuery(parsed).algebra.p
    while node.name in ("Slice", "Project", "Distinct", "Reduced", "OrderBy", "Extend", "Filter", "AggregateJoin"):
        if node.name == "AggregateJoin":
            return {str(v) for v in node.p.expr or () if isinstance(v, Variable)}
        node = node.p
    return set(_in_scope(node))


def _placeholder_iri(node: Any) -> Any:
    """A placeholder IRI for a prefixed name of rdflib's parse tree (None for anything else: left as it is)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef

    if isinstance(node, CompValue) and node.name == "pname":
        return URIRef(f"urn:carnk-ld:pname:{node.prefix or ''}:{node.localname or ''}")
    return None


def _in_scope(node: Any) -> Iterator[str]:
    """The variables in scope of an rdflib algebra pattern (SPARQL 1.1, section 18.2.1)."""
    from rdflib.term import Variable

    name = getattr(node, "name", "")
    if name == "BGP":
        for triple in node.triples:
            yield from (str(term) for term in triple if isinstance(term, Variable))
    elif name in ("Join", "LeftJoin", "Union"):
        yield from _in_scope(node.p1)
        yield from _in_scope(node.p2)
    elif name == "Minus":
        yield from _in_scope(node.p1)
    elif name in ("Filter", "ToMultiSet", "Slice", "Distinct", "Reduced", "OrderBy"):
        yield from _in_scope(node.p)
    elif name == "Extend":
        yield str(node.var)
        yield from _in_scope(node.p)
    elif name == "Graph":
        if isinstance(node.term, Variable):
            yield str(node.term)
        yield from _in_scope(node.p)
    elif name == "Project":  # a subquery: what it projects
        yield from (str(v) for v in node.PV)
    elif name == "values":
        for row in node.res:
            yield from (str(v) for v in row)


def _contains(node: object, name: str) -> bool:
    """Walk rdflib's parse tree (pyparsing results and CompValue dicts) looking for ``name``."""
    from pyparsing import ParseResults

    if getattr(node, "name", None) == name:
        return True
    if isinstance(node, dict):
        return any(_contains(v, name) for v in node.values())
    if isinstance(node, (list, tuple, ParseResults)):
        return any(_contains(v, name) for v in node)
    return False


def parse_binding(text: str) -> tuple[str, ox.NamedNode | ox.Literal]:
    """``name=<IRI>``, ``name=prefix:local`` or ``name='"literal"'`` (N-Triples term syntax).

    >>> parse_binding('fact=<https://w3id.org/carnk/x>')
    ('fact', <NamedNode value=https://w3id.org/carnk/x>)
    >>> parse_binding('class=carnk:NKCell')[1].value
    'https://w3id.org/carnk/NKCell'
    >>> parse_binding('label="NK cell"@en')[1]
    <Literal value=NK cell language=en>
    """
    if "=" not in text:
        raise InputError("--bind", f"{text!r} is not name=value")
    name, value = text.split("=", 1)
    name = name.lstrip("?$")
    if not _VARIABLE_RE.match(name):
        raise InputError("--bind", f"{name!r} is not a SPARQL variable name")
    not_a_term = InputError(
        "--bind",
        f"{value!r} is not an RDF term",
        "write an IRI as <https://...> or prefix:local, a literal as '\"text\"' or "
        "'\"8\"^^<http://www.w3.org/2001/XMLSchema#integer>'",
    )
    match = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):([^\s<>\"]*)$", value)
    if match and match.group(1) in PREFIXES:
        iri = PREFIXES[match.group(1)] + match.group(2)
        if not _IRIREF_RE.fullmatch(f"<{iri}>"):
            raise not_a_term
        return name, ox.NamedNode(iri)
    if value.startswith("_:") or value.replace(" ", "") == "[]":
        raise InputError("--bind", "blank nodes cannot be bound")
    # Exactly one N-Triples term: nothing before or after it (no second triple, no comment).
    if not _TERM_RE.fullmatch(value):
        raise not_a_term
    try:
        triples = list(ox.parse(f"<urn:s> <urn:p> {value} .".encode(), format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError:
        raise not_a_term from None
    term = triples[0].object
    # Escapes may spell characters an IRI cannot hold; the term as it will be written must be one term.
    if not isinstance(term, (ox.NamedNode, ox.Literal)) or not _TERM_RE.fullmatch(str(term)):
        raise not_a_term
    return name, term


def parse_bindings(texts: Iterable[str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """Each ``--bind`` parsed (:func:`parse_binding`); one variable bound twice is refused.

    A single VALUES row holds one value per variable, so a second value would silently win.

    >>> parse_bindings(["k=<http://e/a>", "?k=<http://e/b>"])
    Traceback (most recent call last):
    ...
    carnk_ld.errors.InputError: --bind: error: ?k is bound twice (<http://e/a> and <http://e/b>)
      hint: bind each variable once; run the query once per value
    """
    bindings: dict[str, ox.NamedNode | ox.Literal] = {}
    for text in texts:
        name, term = parse_binding(text)
        if name in bindings:
            raise InputError(
                "--bind",
                f"?{name} is bound twice ({bindings[name]} and {term})",
                "bind each variable once; run the query once per value",
            )
        bindings[name] = term
    return bindings


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when its parent ends (Linux), and end now if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's signal handlers still stop the child
    if os.getppid() != parent_pid:
        os._exit(1)


def _child(
    parent_pid: int,
    path: str,
    query: str,
    bindings: dict[str, ox.NamedNode | ox.Literal],
    fmt: str,
    source: str,
    conn: Connection,
    limits: ResultLimits | None = None,
) -> None:
    """Run in the child process: check the query, open the store read-only, run, send serialised results back."""
    _die_with_parent(parent_pid)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    try:
        query = prepared_query(query)
        form = check_query(query, source=source)
        if limits is None:
            check_format(form, fmt)
        if bindings:
            for name in bindings:
                if not re.search(rf"[?$]{name}\b", query):
                    raise InputError("--bind", f"variable ?{name} does not occur in the query")
            unknown = sorted(set(bindings) - bindable(query))
            if unknown:
                raise InputError(
                    "--bind",
                    f"?{unknown[0]} is not in scope in the query's WHERE clause (after any GROUP BY), "
                    "so a binding would not restrict its answers",
                    "bind a variable of the outer query's pattern, not one only inside a subquery, FILTER or MINUS",
                )
            if form not in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                raise InputError(source, f"cannot bind variables in a {form} query")
            query = add_values(query, bindings)
        store = ox.Store.read_only(path)
        # The release's prefixes for names the query does not declare (its own PREFIX lines win),
        # so `-e` one-liners need none; the project's .rq files still declare theirs for other stores.
        try:
            result = store.query(query, use_default_graph_as_union=True, prefixes=PREFIXES)
        except SyntaxError as exc:  # what rdflib accepts and Oxigraph does not: an undeclared prefix
            raise sparql_syntax_error(exc, Path(source), query, PREFIXES) from None
        if limits is not None:
            conn.send(_limited_answer(result, limits, source))
        elif isinstance(result, ox.QueryTriples):
            conn.send(("graph", graph_bytes(list(result), fmt)))
        else:
            formats = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
            kind = "ask" if isinstance(result, ox.QueryBoolean) else "select"
            conn.send((kind, result.serialize(format=formats.get(fmt, ox.QueryResultsFormat.JSON))))
    except InputError as exc:
        location = exc.location
        conn.send(("input", (str(location.path), location.line, location.column, exc.message, exc.hint)))
    except Exception as exc:
        conn.send(("error", str(exc).encode()))
    finally:
        conn.close()


@dataclass(frozen=True)
class ResultLimits:
    """What an endpoint asks of an answer: at most ``max_rows`` rows (or triples), in the formats it serves.

    ``table_format`` is a :class:`pyoxigraph.QueryResultsFormat` name (``JSON``, ``XML``, ``CSV``,
    ``TSV``) for SELECT and ASK; ``graph_format`` one of :data:`GRAPH_FORMATS` or ``rdfxml`` for
    CONSTRUCT and DESCRIBE. Whichever the query's form needs is used: the client names both.
    """

    max_rows: int
    table_format: str = "JSON"
    graph_format: str = "turtle"


def _limited_answer(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, limits: ResultLimits, source: str
) -> tuple[str, bytes]:
    """The answer in the formats ``limits`` asks for; more than ``limits.max_rows`` rows is an error, not cut.

    Solutions are drawn one at a time, so a query with a huge answer stops at the limit rather
    than after building all of it. Oxigraph serialises only a whole answer, so the rows kept are
    written as SPARQL 1.1 TSV (every RDF term in its N-Triples form, which ``str`` gives), then
    parsed back by Oxigraph and written in the format asked for.
    """
    too_many = InputError(
        source,
        f"the answer has more than {limits.max_rows} rows, this endpoint's row limit",
        "add LIMIT to the query or narrow it (the limit is serve's --max-rows)",
    )
    if isinstance(result, ox.QueryTriples):
        triples = list(itertools.islice(result, limits.max_rows + 1))
        if len(triples) > limits.max_rows:
            raise too_many
        return "graph", graph_bytes(triples, limits.graph_format)
    table_format = getattr(ox.QueryResultsFormat, limits.table_format)
    if isinstance(result, ox.QueryBoolean):
        return "ask", result.serialize(format=table_format) or b""
    variables = [v.value for v in result.variables]
    rows = list(itertools.islice(result, limits.max_rows + 1))
    if len(rows) > limits.max_rows:
        raise too_many
    lines = ["\t".join(f"?{name}" for name in variables)]
    lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    solutions = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return "select", solutions.serialize(format=table_format) or b""


def check_timeout(timeout: float) -> None:
    """A timeout must be a number of seconds above 0 and at most :data:`MAX_TIMEOUT`."""
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise InputError(
            "--timeout",
            f"{timeout:g} is not a timeout",
            f"give a number of seconds above 0 and at most {MAX_TIMEOUT:g}",
        )


def read_query(path: Path) -> str:
    """A query file's text; a file that is not UTF-8 is an input error at the first bad byte.

    Only a regular file is read: a FIFO or a device could block or never end, and the
    timeout bounds the query's run, not this read.
    """
    try:
        # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(path, f"cannot read the query: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(path, "the query is not a regular file", "save the query in a file, or give it with -e")
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            Location(path, line, column),
            f"the query is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        ) from None


def run_query(
    store_dir: Path,
    query: str,
    *,
    bindings: dict[str, ox.NamedNode | ox.Literal] | None = None,
    fmt: str = "table",
    timeout: float = 30.0,
    source: str = "query",
    limits: ResultLimits | None = None,
) -> QueryOutcome:
    """Check and run a query against the embedded store in a child process with a hard timeout.

    With ``limits`` (an endpoint's), ``fmt`` is not used: the answer is in ``limits``' formats.
    """
    check_timeout(timeout)
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else multiprocessing.get_context()
    )
    parent, child = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(os.getpid(), str(store_dir), query, bindings or {}, fmt, source, child, limits),
        daemon=True,
    )
    with _stopping_on_signals(process):
        process.start()
        child.close()
        ready = parent.poll(timeout)
        if not ready:
            _stop(process)
            raise QueryTimeout(
                source,
                f"query stopped after the {timeout:g} s timeout",
                "raise it with --timeout SECONDS, or narrow the query",
            )
        try:
            kind, data = parent.recv()
        except EOFError:
            process.join()
            raise InputError(source, _death(process.exitcode)) from None
        process.join()
    if kind == "input":
        path, line, column, message, hint = data
        raise InputError(Location(Path(path), line, column), message, hint)
    if kind == "error":
        raise InputError(source, f"query failed: {data.decode()}")
    return QueryOutcome(kind, data)


def _death(exitcode: int | None) -> str:
    """What ended a child that sent nothing back."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the query process died with signal {name}"
    return f"the query process ended without an answer (exit status {exitcode})"


@contextlib.contextmanager
def _stopping_on_signals(process: multiprocessing.process.BaseProcess) -> Iterator[None]:
    """While a query runs, SIGTERM or SIGINT to this process kill its child first, then act as before."""
    previous: dict[int, Any] = {}

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)
        previous.clear()

    def handle(number: int, frame: object) -> None:
        _stop(process)
        restore()
        signal.raise_signal(number)

    # Only the main thread may set handlers; elsewhere the child still dies with the process.
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, handle)
    try:
        yield
    finally:
        restore()
        _stop(process)


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    if process.is_alive():
        process.kill()
        process.join()


def render_table(data: bytes) -> str:
    """Human-readable table from SPARQL JSON results, IRIs shortened with the project prefixes."""
    solutions = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
    if isinstance(solutions, ox.QueryBoolean):
        return "true" if bool(solutions) else "false"
    variables = [v.value for v in solutions.variables]
    rows = [[_cell(row[v]) for v in variables] for row in solutions]
    widths = [max([len(v), *(len(r[i]) for r in rows)]) for i, v in enumerate(variables)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(variables), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    """A result term as an answer cell: a compact IRI or a literal's lexical form; empty when unbound.

    >>> cell(ox.NamedNode("https://w3id.org/carnk/NKCell"))
    'carnk:NKCell'
    >>> cell(ox.Literal("8", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    '8'
    >>> cell(None)
    ''
    """
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return compact_iri(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return cell(term).replace("\n", "\\n")  # one table row per line
