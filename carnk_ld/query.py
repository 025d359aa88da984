"""Run user SPARQL against the release safely: checked, parameterised and time-limited.

Queries are parsed before they run. Updates (``LOAD``, ``INSERT`` ...) and ``SERVICE``
are refused on the embedded store: the release is read-only and builds never reach the
network. Parameters are parsed as RDF terms and joined in as a trailing ``VALUES`` block
written by the RDF serialiser, never user text pasted into the query. The query runs in
a child process that is killed when the timeout fires, so a runaway query really stops.
"""

from __future__ import annotations

import multiprocessing
import re
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.constants import PREFIXES
from carnk_ld.errors import InputError
from carnk_ld.store import add_values
from carnk_ld.vocab import compact_iri

FORMATS = ("table", "csv", "tsv", "json")
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryTimeout(InputError):
    """The query ran longer than allowed and was stopped."""


@dataclass(frozen=True)
class QueryOutcome:
    """Serialised results plus what kind of query produced them."""

    kind: str  # "select", "ask", "graph"
    data: bytes


def check_query(text: str, *, source: str = "query") -> str:
    """Refuse updates and SERVICE; return the query form ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")."""
    from rdflib.plugins.sparql import parser

    try:
        parsed = parser.parseQuery(text)
    except Exception as query_error:
        try:
            parser.parseUpdate(text)
        except Exception:
            raise InputError(source, f"SPARQL syntax error: {str(query_error).splitlines()[0]}") from None
        raise InputError(
            source, "SPARQL updates (INSERT, DELETE, LOAD, CLEAR, ...) are refused: the release is read-only"
        ) from None
    if _contains(parsed, "ServiceGraphPattern"):
        raise InputError(source, "SERVICE is refused: queries on the release never reach the network")
    form = parsed[1].name  # e.g. SelectQuery
    return form.removesuffix("Query").upper()


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
    match = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):([^\s<>\"]*)$", value)
    if match and match.group(1) in PREFIXES and not value.startswith("<"):
        return name, ox.NamedNode(PREFIXES[match.group(1)] + match.group(2))
    try:
        triples = list(ox.parse(f"<urn:s> <urn:p> {value} .".encode(), format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError:
        raise InputError(
            "--bind",
            f"{value!r} is not an RDF term",
            "write an IRI as <https://...> or prefix:local, a literal as '\"text\"' or '\"8\"^^<http://www.w3.org/2001/XMLSchema#integer>'",
        ) from None
    term = triples[0].object
    if isinstance(term, ox.BlankNode):
        raise InputError("--bind", "blank nodes cannot be bound")
    return name, term


def _child(path: str, query: str, fmt: str, conn: Connection) -> None:
    """Run in the child process: open the store read-only, run, send serialised results back."""
    try:
        store = ox.Store.read_only(path)
        # The release's prefixes for names the query does not declare (its own PREFIX lines win),
        # so `-e` one-liners need none; the project's .rq files still declare theirs for other stores.
        result = store.query(query, use_default_graph_as_union=True, prefixes=PREFIXES)
        if isinstance(result, ox.QueryTriples):
            conn.send(("graph", result.serialize(format=ox.RdfFormat.N_TRIPLES)))
        else:
            formats = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
            kind = "ask" if isinstance(result, ox.QueryBoolean) else "select"
            conn.send((kind, result.serialize(format=formats.get(fmt, ox.QueryResultsFormat.JSON))))
    except Exception as exc:
        conn.send(("error", str(exc).encode()))
    finally:
        conn.close()


def run_query(
    store_dir: Path,
    query: str,
    *,
    bindings: dict[str, ox.NamedNode | ox.Literal] | None = None,
    fmt: str = "table",
    timeout: float = 30.0,
    source: str = "query",
) -> QueryOutcome:
    """Check and run a query against the embedded store in a child process with a hard timeout."""
    form = check_query(query, source=source)
    bindings = bindings or {}
    for name in bindings:
        if not re.search(rf"[?$]{name}\b", query):
            raise InputError("--bind", f"variable ?{name} does not occur in the query")
    if bindings:
        if form not in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            raise InputError(source, f"cannot bind variables in a {form} query")
        query = add_values(query, bindings)
    context = (
        multiprocessing.get_context("fork")
        if "fork" in multiprocessing.get_all_start_methods()
        else multiprocessing.get_context()
    )
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(str(store_dir), query, fmt, child), daemon=True)
    process.start()
    child.close()
    if not parent.poll(timeout):
        process.kill()
        process.join()
        raise QueryTimeout(
            source,
            f"query stopped after the {timeout:g} s timeout",
            "raise it with --timeout SECONDS, or narrow the query",
        )
    kind, data = parent.recv()
    process.join()
    if kind == "error":
        raise InputError(source, f"query failed: {data.decode()}")
    return QueryOutcome(kind, data)


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
