"""SHACL validation results, from the fast engine (:mod:`carnk_ld.shacl`) or from pySHACL.

The data graph is the whole release (ontology included), so ``sh:targetClass`` reaches
instances of subclasses through the ontology's ``rdfs:subClassOf`` triples; without the
ontology pySHACL would silently find no focus nodes for them. Each result is rendered
with the file and line its focus node came from.
"""

from __future__ import annotations

import bisect
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
import rdflib.exceptions
from pyparsing import ParseBaseException
from pyshacl.constraints.constraint_component import ConstraintComponent
from pyshacl.errors import ReportableRuntimeError
from pyshacl.shape import Shape as PyshaclShape
from rdflib.namespace import SH
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from carnk_ld.corpusfiles import corpus_files, read_input_text
from carnk_ld.errors import InputError, InputErrors, Location, Locator
from carnk_ld.literals import literal_error, literal_problem
from carnk_ld.rdfio import RDF_SUFFIXES, literal_position, parse_rdf_file, split_lines, subject_lines
from carnk_ld.scopes import PN_CHARS, PN_CHARS_BASE, code_lines, refuse_service, service_offset, string_literals
from carnk_ld.shacl import (
    Result,
    ShapeParser,
    Unsupported,
    Validator,
    fast_query_text,
    lenient_shapes,
    malformed_shapes,
    pyshacl_query_text,
    to_rdflib_term,
)
from carnk_ld.vocab import compact_iri


@dataclass(frozen=True)
class Violation:
    """One SHACL result, flattened for people."""

    severity: str
    focus: str
    path: str
    message: str
    value: str
    source: Location | None
    shape: str = ""  # the node shape the failing constraint belongs to

    def render(self) -> str:
        """``file:line: Violation: message`` with the focus node and path."""
        where = f"{self.source}: " if self.source else ""
        detail = f"focus <{self.focus}>"
        if self.path:
            detail += f", path {self.path}"
        if self.value:
            detail += f", value {self.value}"
        return f"{where}{self.severity}: {self.message}\n    {detail}"


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of SHACL validation."""

    conforms: bool
    violations: tuple[Violation, ...]
    # Which engine produced the results, and why pySHACL ran if it did (not compared: both give the same results).
    engine: str = field(default="", compare=False)

    def text(self) -> str:
        """A readable, deterministic report."""
        if not self.violations:
            return "SHACL validation: conforms (0 results)\n"
        lines = [
            f"SHACL validation: {'conforms' if self.conforms else 'DOES NOT CONFORM'} ({len(self.violations)} results)"
        ]
        lines += [v.render() for v in self.violations]
        return "\n".join(lines) + "\n"


class ShapesGraph(rdflib.Graph):
    """The shapes of a corpus as pySHACL reads them, remembering where each named shape is written.

    A shape either engine refuses is reported at its file and line (:meth:`locate`), not just
    as "shapes": curators look for it by hand.
    """

    def __init__(self) -> None:
        super().__init__()
        self.origins: dict[str, tuple[Path, int]] = {}  # a named subject's IRI: (file as shown, line)
        self.texts: dict[Path, list[str]] = {}  # each Turtle or N-Triples file's lines, as its parser counts them
        self.queries: dict[str, tuple[Path, Path]] = {}  # each SPARQL text: the file it is written in, as shown

    def locate(self, shape: str | None, path: str | None = None, parameter: str | None = None) -> Location | None:
        """Where ``shape`` (its property shape of ``sh:path`` ``path``, its ``sh:<parameter>``) is written.

        From the shape's first line the search moves on to the path, then to the parameter; each
        step that cannot be told keeps the line found so far.
        """
        if shape is None or shape not in self.origins:
            return None
        shown, line = self.origins[shape]
        lines = self.texts[shown]
        if path:
            name = re.split(r"[/#:]", path)[-1]
            mention = re.compile(rf"<{re.escape(path)}>|[:]{re.escape(name)}\b") if name else None
            line = _next_line(lines, line, mention) or line
        if parameter:
            line = _next_line(lines, line, re.compile(rf"[:#]{re.escape(parameter)}\b")) or line
        return Location(shown, line)

    def where(self, exc: Unsupported) -> Location | None:
        """Where a fast-engine refusal points (None when it does not name a shape)."""
        return self.locate(exc.shape, exc.path, exc.parameter)

    def locate_query(self, text: str, offset: int) -> Location | None:
        """Where character ``offset`` of ``text``, a shape's query as an engine runs it, is written.

        ``text`` is prefix lines the engine wrote, then the query; an offset in those lines
        points at the query's first line. None when no shape's query ends ``text``.
        """
        ending = [query for query in self.queries if text.endswith(query)]
        if not ending:
            return None
        query = max(ending, key=len)
        path, shown = self.queries[query]
        return Location(shown, _literal_line(path, query, max(0, offset - (len(text) - len(query)))))


def _next_line(lines: list[str], start: int, pattern: re.Pattern | None) -> int | None:
    if pattern is None:
        return None
    return next((n for n in range(start, len(lines) + 1) if pattern.search(lines[n - 1])), None)


def load_shapes(shapes_dir: Path, *, display_dir: Path | None = None) -> ShapesGraph:
    """Parse every ``*.ttl`` under ``shapes/`` strictly, then hand them to rdflib for pySHACL."""
    files = corpus_files(shapes_dir, RDF_SUFFIXES, display_dir or shapes_dir)
    if not files:
        raise InputError(display_dir or shapes_dir, "no SHACL shapes found", "a corpus needs shapes/*.ttl")
    triples: list[ox.Triple] = []
    graph = ShapesGraph()
    queries = graph.queries
    for path in files:
        shown = (display_dir / path.name) if display_dir else path
        parsed = parse_rdf_file(path, display_path=shown)
        _refuse_bad_prefixes(parsed, path, shown)
        for query in _query_texts(parsed):
            _refuse_service_in(query, path, shown)
            queries.setdefault(query, (path, shown))
        text = read_input_text(path, shown) if path.suffix in (".ttl", ".nt") else ""
        _refuse_ill_typed(parsed, shown, text)
        malformed_shapes(parsed, shown, text)
        graph.texts[shown] = split_lines(text)
        for iri, line in subject_lines(graph.texts[shown]).items():
            graph.origins.setdefault(iri, (shown, line))
        triples.extend(parsed)
    to_rdflib(triples, graph)
    _refuse_service_as_run(graph, queries)
    _refuse_unrunnable_queries(graph, queries)
    return graph


def _refuse_ill_typed(triples: list[ox.Triple], shown: Path, text: str) -> None:
    """Refuse, at its line, a shapes file's ill-typed literal, before either SHACL engine reads it.

    rdflib reads one as no value (``"many"^^xsd:integer``) or warns and guesses (``"yes"^^xsd:boolean``),
    so pySHACL would judge the data against a constraint the file does not state.
    """
    lines = subject_lines(split_lines(text))
    errors = []
    for t in triples:
        o = t.object
        if not isinstance(o, ox.Literal) or o.language:
            continue
        if literal_problem(o.value, o.datatype.value) is None:  # the common case: no need to find it in the text
            continue
        subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else ""
        typed = o.datatype.value != _XSD_STRING
        line, column = literal_position(text, lines, subject, o.value, typed=typed) if text else (None, None)
        predicate = t.predicate.value
        predicate = "sh:" + predicate[len(_SH) :] if predicate.startswith(_SH) else compact_iri(predicate)
        named = compact_iri(subject) if subject else "a blank node"
        what = f"the object of {f'<{subject}>' if named == subject else named} {predicate}"
        found = literal_error(Location(shown, line, column), o.value, o.datatype.value, what)
        if found is not None:
            errors.append(found)
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SH = "http://www.w3.org/ns/shacl#"
#: Where SHACL and SHACL-AF hold SPARQL text that pySHACL or the fast engine runs.
_QUERY_PREDICATES = {_SH + name for name in ("select", "ask", "construct", "update")}


def _query_texts(triples: list[ox.Triple]) -> list[str]:
    """The SPARQL texts a shapes file holds (``sh:select`` and the like)."""
    return [
        t.object.value for t in triples if t.predicate.value in _QUERY_PREDICATES and isinstance(t.object, ox.Literal)
    ]


# SPARQL 1.1's PN_PREFIX, and an absolute IRI of the characters IRIREF allows between '<' and
# '>'. Engines write ``PREFIX p: <ns>`` before a shape's query; only a prefix and an IRI of
# these forms make that line exactly one declaration, which opens no string, comment or IRI
# for the query to close (a namespace ``http://a/> SELECT ... BIND('''`` would otherwise hide
# the query's SERVICE from a check of the query alone).
_PN_PREFIX = re.compile(f"(?:[{PN_CHARS_BASE}](?:[{PN_CHARS}.]*[{PN_CHARS}])?)?")
_ABSOLUTE_IRI = re.compile(r"""[A-Za-z][A-Za-z0-9+.\-]*:[^<>"{}|^`\\\x00-\x20]*""")


def _refuse_bad_prefixes(triples: list[ox.Triple], path: Path, shown: Path) -> None:
    """Refuse, at its line, an ``sh:prefix`` that is not a SPARQL prefix name or an ``sh:namespace`` not an IRI."""
    for t in triples:
        predicate = t.predicate.value
        if predicate not in (_SH + "prefix", _SH + "namespace"):
            continue
        local = predicate[len(_SH) :]
        # SHACL writes both as literals (pySHACL fails on an IRI: it reads the literal's datatype).
        if not isinstance(t.object, ox.Literal):
            written = t.object.value if isinstance(t.object, ox.NamedNode) else ""
            raise InputError(
                Location(shown, _line_in_file(path, written) if written else None),
                f"sh:{local} {t.object} is not a literal",
                f'write it as a string, e.g. sh:{local} "{written or "..."}"',
            )
        value = t.object.value
        if predicate == _SH + "prefix":
            if _PN_PREFIX.fullmatch(value):
                continue
            what = "is not a SPARQL prefix name"
            hint = "write a letter, then letters, digits, '_', '-' or '.' (not ending with '.')"
        else:
            if _ABSOLUTE_IRI.fullmatch(value):
                continue
            what = "is not an absolute IRI"
            hint = 'write the namespace IRI alone, e.g. "https://w3id.org/carnk/"^^xsd:anyURI (no spaces or <>"{}|^`\\)'
        line = _line_in_file(path, value.split("\n", 1)[0])
        raise InputError(Location(shown, line), f"sh:{local} {value!r} {what}", hint)


def _refuse_service_in(text: str, path: Path, shown: Path, query: str | None = None) -> None:
    """Refuse SERVICE in ``text`` at the line of the file where the keyword is written.

    ``text`` ends with ``query``, a string literal of the file (all of ``text`` by default);
    what comes before it is the prefix lines an engine writes.
    """
    offset = service_offset(text)
    if offset is None:
        return
    if query is None or not text.endswith(query):
        query = text
    start = len(text) - len(query)
    if offset >= start:
        at = _literal_line(path, query, offset - start)
    else:  # in a prefix line: at the namespace's literal when this file declares it, else the query's
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        namespace = re.search(r"<(.*)>\s*$", text[line_start:line_end])
        at = None
        if namespace is not None:
            at = _literal_line(path, namespace.group(1), max(0, offset - line_start - namespace.start(1)))
        at = at or _literal_line(path, query, 0)
    line = text.count("\n", 0, offset) + 1
    refuse_service(text, shown, first_line=None if at is None else at - line + 1)


def _refuse_service_as_run(graph: rdflib.Graph, queries: dict[str, tuple[Path, Path]]) -> None:
    """Refuse SERVICE in the very text each engine runs: the prefix lines it writes, then a shape's query.

    A shape's ``sh:prefixes`` may name declarations in another file, so this reads the whole shapes graph.
    """
    for predicate in sorted(_QUERY_PREDICATES):
        for node, query in graph.subject_objects(rdflib.URIRef(predicate)):
            if not isinstance(query, rdflib.Literal) or str(query) not in queries:
                continue
            path, shown = queries[str(query)]
            for text in (fast_query_text(graph, node, str(query)), pyshacl_query_text(graph, node, str(query))):
                if text is not None:
                    _refuse_service_in(text, path, shown, str(query))


#: The query form each SHACL query parameter must hold, as rdflib's parser names it.
_FORMS = {"select": "SelectQuery", "ask": "AskQuery", "construct": "ConstructQuery"}
_FORM_KEYWORD = re.compile(r"(?<![\w:])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.IGNORECASE)


def _refuse_unrunnable_queries(graph: rdflib.Graph, queries: dict[str, tuple[Path, Path]]) -> None:
    """Refuse, at its line, a shape's query of another form than its parameter names or using an undeclared prefix.

    Checked once for both engines, as the shapes are read: pySHACL fails on either with a
    Python error when it runs the query, and the fast engine finds them only when run. A query
    rdflib cannot parse is left to each engine, which reports its own parser's error at its line.
    """
    # rdflib resolves the prefixes a fresh graph binds (xsd, schema, ...) in any query pySHACL runs
    # on the data graph, which is such a graph (to_rdflib); they need no declaration there.
    bound = {prefix for prefix, _ in rdflib.Graph().namespaces()}
    for local, form in _FORMS.items():
        for node, query in graph.subject_objects(SH[local]):
            if not isinstance(query, rdflib.Literal) or str(query) not in queries:
                continue
            path, shown = queries[str(query)]
            text = pyshacl_query_text(graph, node, str(query))
            if text is None:
                continue
            try:
                prologue, body = parseQuery(text)
            except ParseBaseException:
                continue
            if body.name != form:
                keyword = _FORM_KEYWORD.search(code_lines(str(query)))
                raise InputError(
                    Location(shown, _code_line(path, str(query), keyword.start() if keyword else 0)),
                    f"sh:{local} holds {_form_name(body.name)} query; it must be {_form_name(form)} query",
                    f"write the query as {form[: -len('Query')].upper()} ... (both engines run sh:{local} as such)",
                )
            declared = bound | {_prefix_of(decl) for decl in prologue if decl.name == "PrefixDecl"}
            for prefix in _prefixes_used(body):
                if prefix not in declared:
                    used = re.search(rf"(?<![\w\-.:?$]){re.escape(prefix)}:", code_lines(str(query)))
                    raise InputError(
                        Location(shown, _code_line(path, str(query), used.start() if used else 0)),
                        f"the SPARQL query uses the prefix '{prefix}:', which it does not declare",
                        f"declare it through sh:prefixes (sh:declare [ sh:prefix \"{prefix}\" ;"
                        " sh:namespace ... ]) or with PREFIX in the query",
                    )


def _form_name(form: str) -> str:
    """``SelectQuery`` as "a SELECT", ``AskQuery`` as "an ASK"."""
    keyword = form[: -len("Query")].upper()
    return ("an " if keyword[0] in "AEIOU" else "a ") + keyword


def _prefixes_used(node: object) -> list[str]:
    """The prefixes of the prefixed names in a query rdflib parsed, in order ("" for ``:name``)."""
    if isinstance(node, CompValue):
        if node.name == "pname":
            return [_prefix_of(node)]
        return [prefix for value in node.values() for prefix in _prefixes_used(value)]
    if isinstance(node, (list, tuple)) or hasattr(node, "as_list"):
        return [prefix for value in node for prefix in _prefixes_used(value)]  # type: ignore[attr-defined]
    return []


def _prefix_of(node: CompValue) -> str:
    """The prefix a parsed prefixed name or PREFIX declaration names ("" for ``:``).

    Not ``node.get``: CompValue's returns the key itself for a missing one, and rdflib leaves the empty prefix out.
    """
    return str(dict.get(node, "prefix") or "")


def _code_line(path: Path, query: str, offset: int) -> int | None:
    """The file's line of the query's line holding character ``offset`` of ``code_lines(query)`` (same line breaks)."""
    number = code_lines(query).count("\n", 0, offset)
    return _literal_line(path, query, sum(len(line) + 1 for line in query.split("\n")[:number]))


def _line_in_file(path: Path, line_text: str) -> int | None:
    """The line of the file holding a line of a literal (None when escapes hide it: the file is still named)."""
    needle = line_text.strip()
    try:
        lines = read_input_text(path, path).splitlines()
    except InputError:
        return None
    return next((number for number, line in enumerate(lines, start=1) if needle and needle in line), None)


def _literal_line(path: Path, value: str, offset: int) -> int | None:
    """The line of the file where character ``offset`` of a string literal of it, ``value``, is written.

    Found by the literal's value, whatever escapes spell it in the file; None when the file
    cannot be read or holds no such literal.
    """
    try:
        text = read_input_text(path, path)
    except InputError:
        return None
    wanted, kept = _as_read(value, list(range(len(value))))
    index = bisect.bisect_left(kept, offset)
    for literal, offsets in string_literals(text):
        literal, offsets = _as_read(literal, offsets)
        if literal == wanted and offsets:
            return text.count("\n", 0, offsets[min(index, len(offsets) - 1)]) + 1
    return None


def _as_read(value: str, offsets: list[int]) -> tuple[str, list[int]]:
    """``value`` with CRLF and a lone CR made LF, as read_input_text reads a file, and its characters' offsets."""
    chars: list[str] = []
    kept: list[int] = []
    for index, char in enumerate(value):
        if char == "\r" and value[index + 1 : index + 2] == "\n":
            continue
        chars.append("\n" if char == "\r" else char)
        kept.append(offsets[index])
    return "".join(chars), kept


def to_rdflib(triples: list[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Copy triples into an rdflib graph (a new one unless ``graph`` is given), term by term.

    Not through N-Triples: rdflib's N-Triples parser splits lines where Python's ``splitlines``
    does, so an IRI or literal holding U+2028 or U+2029 (both valid there) fails to parse.
    """
    graph = rdflib.Graph() if graph is None else graph
    graph.addN(
        (to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object), graph)  # type: ignore[arg-type]  # triple terms are refused when parsed
        for t in triples
    )
    return graph


def fast_validate(
    triples: list[ox.Triple],
    shapes: rdflib.Graph,
    sources: dict[str, Location] | None = None,
    *,
    store: ox.Store | None = None,
) -> ValidationResult:
    """The fast engine's results, flattened exactly as :func:`pyshacl_validate` flattens pySHACL's."""
    roots = ShapeParser(shapes).roots()
    results = Validator(triples, roots, store).run()
    return result_of(violations_of(results, sources or {}), "fast engine, exact to pySHACL", lenient_shapes(roots))


def result_of(violations: Iterable[Violation], engine: str, lenient: frozenset[str] = frozenset()) -> ValidationResult:
    """Violations in report order; the graph conforms when none is of severity Violation, as pySHACL decides.

    ``lenient`` names the node shapes of severity Warning or Info: pySHACL lets them conform
    even when one of their property shapes (of severity Violation) reports a result.
    """
    ordered = sorted(violations, key=_order)
    fails = any(v.severity == "Violation" and v.shape not in lenient for v in ordered)
    return ValidationResult(not fails, tuple(ordered), engine=engine)


def violations_of(results: Iterable[Result], sources: Locator) -> Iterator[Violation]:
    """Fast-engine results flattened exactly as :func:`pyshacl_validate` flattens pySHACL's report."""
    for r in results:
        focus = str(to_rdflib_term(r.focus))
        path = ""
        if r.path is not None:
            path = ("^" if r.path[0] == "inv" else "") + compact_iri(r.path[1].value)
        yield Violation(
            severity=r.severity,
            focus=focus,
            path=path,
            message="; ".join(sorted(set(r.messages))) or "constraint violated",
            value=to_rdflib_term(r.value).n3() if r.value is not None else "",
            source=sources.get(focus),
            shape=r.shape,
        )


def _order(v: Violation) -> tuple[str, ...]:
    return (str(v.source or ""), v.focus, v.path, v.message, v.value)


def pyshacl_validate(
    triples: list[ox.Triple], shapes: rdflib.Graph, sources: Locator | None = None
) -> ValidationResult:
    """Run pySHACL (SHACL-AF enabled for SPARQL targets) on the whole graph and flatten the report."""
    data = to_rdflib(triples)
    # pySHACL logs a shape it cannot load to stderr through a handler of its own (added on every
    # call), before raising; a filter on its logger keeps that out of the output, and the
    # error below says it once, with the shape's file and line.
    logger = logging.getLogger(_PYSHACL_LOGGER)
    muted = _Mute()
    logger.addFilter(muted)
    try:
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
        )
    except ParseBaseException as exc:  # rdflib's SPARQL parser, which pySHACL lets raise as it is
        where = shapes.locate_query(exc.pstr, exc.loc) if isinstance(shapes, ShapesGraph) else None
        reason = _PYPARSING_POSITION.sub("", str(exc))
        raise InputError(
            where or "shapes",
            f"pySHACL cannot parse a shape's SPARQL query: {reason}",
            "pySHACL reads SPARQL with rdflib's parser; correct the query at this line",
        ) from None
    except Exception as exc:
        shape = _failing_shape(exc, shapes)
        # pySHACL's and rdflib's errors are their word on shapes they cannot run; Python's own
        # (and rdflib's bare Exception for an unknown prefix) are pySHACL failing on a shape only
        # when raised while it handles one: anything else is a bug, kept as such.
        documented = isinstance(exc, (ReportableRuntimeError, NotImplementedError, re.error, rdflib.exceptions.Error))
        on_shape = shape is not None and (type(exc) is Exception or isinstance(exc, _SHAPE_FAILURES))
        if not (documented or on_shape):
            raise
        reason = str(exc.args[0] if exc.args else exc).strip().split("\n", 1)[0]
        if not documented:
            reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        where = None
        if shape is not None and isinstance(shapes, ShapesGraph):
            named_parameter = re.search(r"\bsh:(\w+)", reason)
            parameter = named_parameter.group(1) if named_parameter else _failing_parameter(exc)
            where = shapes.locate(shape[0], shape[1], parameter)
        named = f" (shape <{shape[0]}>)" if shape else ""
        raise InputError(where or "shapes", f"pySHACL cannot validate with these shapes: {reason}{named}") from None
    finally:
        logger.removeFilter(muted)
    sources = sources or {}
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        severity = report.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        source_shape = report.value(result, SH.sourceShape)
        violations.append(
            Violation(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=str(focus),
                path=_render_path(report, path),
                message="; ".join(messages) or "constraint violated",
                value=value.n3() if value is not None else "",
                source=sources.get(str(focus)),
                shape=_node_shape(shapes, source_shape),
            )
        )
    violations.sort(key=_order)
    return ValidationResult(bool(conforms), tuple(violations), engine="pySHACL")


#: Python's errors pySHACL lets out when a shape holds what it does not expect (sh:pattern 5: TypeError).
_SHAPE_FAILURES = (TypeError, LookupError, ValueError, AttributeError, AssertionError, ArithmeticError)

#: The logger pySHACL's validate() writes to (pyshacl.entrypoints.make_default_logger).
_PYSHACL_LOGGER = "pyshacl-validate"


class _Mute(logging.Filter):
    """Drops what pySHACL logs during one validation (its errors are raised too, and reported once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_PYPARSING_POSITION = re.compile(r"\s*\(at char \d+\), \(line:\d+, col:\d+\)$")


def _failing_shape(exc: BaseException, shapes: rdflib.Graph) -> tuple[str, str | None] | None:
    """The named shape (and property path) pySHACL was loading when it raised, if it can be told.

    pySHACL's errors name the constraint but not the shape; the shape is the innermost pySHACL
    ``Shape`` whose method the exception passed through.
    """
    node = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, PyshaclShape):
            node = candidate.node
    if node is None:
        return None
    path = shapes.value(node, SH.path)
    owner = node if isinstance(node, rdflib.URIRef) else shapes.value(None, SH.property, node)
    if not isinstance(owner, rdflib.URIRef):
        return None
    return str(owner), str(path) if isinstance(path, rdflib.URIRef) and owner != node else None


def _failing_parameter(exc: BaseException) -> str | None:
    """The local name of the parameter of the pySHACL constraint component that raised, if one did."""
    parameter = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, ConstraintComponent):
            try:
                parameters = candidate.constraint_parameters()
            except NotImplementedError:
                continue
            if parameters:
                parameter = str(parameters[0]).rsplit("#", 1)[-1]
    return parameter


def _node_shape(shapes: rdflib.Graph, shape: rdflib.term.Node | None) -> str:
    """The named node shape a result comes from (property shapes are usually blank nodes)."""
    if shape is None:
        return ""
    if isinstance(shape, rdflib.URIRef) and (shape, rdflib.RDF.type, SH.NodeShape) in shapes:
        return str(shape)
    parent = shapes.value(None, SH.property, shape)
    return str(parent) if parent is not None else str(shape)


def _render_path(report: rdflib.Graph, path: rdflib.term.Node | None) -> str:
    if path is None:
        return ""
    if isinstance(path, rdflib.URIRef):
        return compact_iri(str(path))
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _render_path(report, inverse)
    return "(complex path)"
