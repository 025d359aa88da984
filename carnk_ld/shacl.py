"""A fast SHACL validator for the subset of SHACL our shapes use, exact to pySHACL.

pySHACL re-runs every SPARQL constraint once per focus node through rdflib, which grows
faster than the corpus (``benchmarks/RESULTS.md`` has the numbers). This
engine evaluates the same shapes over Python indexes of the triples (one pass), runs each
SPARQL target and constraint once over an in-memory Oxigraph store, and produces the same
results pySHACL does: the same focus nodes, paths, values, messages, severities and
source shapes. ``tests/test_fast_shacl.py`` proves that on every shape test case and on a
corpus with injected violations of every shape.

It is exact only where it can be: any feature outside the supported subset (another
constraint component, a complex path, a shape without ``sh:message``, a SPARQL query it
cannot evaluate once for all focus nodes, a literal the store would rewrite) raises
:class:`Unsupported`, and the build refuses the shapes (``--shacl-engine pyshacl`` validates them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from pyparsing import ParseBaseException, ParseResults
from pyshacl.constraints.core.value_constraints import DatatypeConstraintComponent
from pyshacl.errors import ReportableRuntimeError, ValidationFailure
from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
from pyshacl.rdfutil import stringify_node
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from carnk_ld.errors import InputError, Location
from carnk_ld.literals import may_be_rewritten, store_rewrite, xsd_name
from carnk_ld.scopes import PN_CHARS_BASE, VARNAME_CHARS, query_code

SH_NS = str(SH)
_XSD = str(XSD)
_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_XSD_STRING = _XSD + "string"

#: The severities SHACL defines, by local name: the gate fails a build on a result of severity Violation.
SEVERITIES = {SH_NS + name: name for name in ("Violation", "Warning", "Info")}
#: pySHACL (run with allow_warnings) lets a shape of these severities conform whatever it or its property shapes report.
_LENIENT = ("Warning", "Info")

_SHAPE_KEYS = {
    str(RDF.type),
    str(RDFS.comment),
    str(RDFS.label),
    SH_NS + "name",
    SH_NS + "description",
    SH_NS + "order",
    SH_NS + "group",
    SH_NS + "targetClass",
    SH_NS + "targetNode",
    SH_NS + "targetSubjectsOf",
    SH_NS + "targetObjectsOf",
    SH_NS + "target",
    SH_NS + "property",
    SH_NS + "path",
    SH_NS + "message",
    SH_NS + "severity",
    SH_NS + "deactivated",
    SH_NS + "nodeKind",
    SH_NS + "class",
    SH_NS + "datatype",
    SH_NS + "in",
    SH_NS + "pattern",
    SH_NS + "flags",
    SH_NS + "minLength",
    SH_NS + "maxLength",
    SH_NS + "minCount",
    SH_NS + "maxCount",
    SH_NS + "lessThan",
    SH_NS + "or",
    SH_NS + "qualifiedValueShape",
    SH_NS + "qualifiedMinCount",
    SH_NS + "qualifiedMaxCount",
    SH_NS + "sparql",
}


class Unsupported(Exception):
    """The shapes or data need a SHACL feature this engine does not reproduce exactly.

    Raised while shapes are parsed, it says where, so the refusal can name the file and line:
    ``shape`` is the named shape (a blank node's owning one), ``path`` the ``sh:path`` of the
    property shape concerned, and ``parameter`` the local name of the SHACL parameter at fault.
    """

    def __init__(self, message: str, *, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter
        self.shape: str | None = None
        self.path: str | None = None


@dataclass
class Shape:
    """One node or property shape, parsed from the shapes graph."""

    node: rdflib.term.Node
    path: tuple[str, ox.NamedNode] | None = None  # ("pred" | "inv", predicate)
    messages: tuple[str, ...] = ()
    severity: str = "Violation"
    targets: list[tuple[str, ox.NamedNode | ox.Literal | str]] = field(default_factory=list)  # str: a SPARQL query
    properties: list[Shape] = field(default_factory=list)
    node_kind: str | None = None
    node_kind_message: str = ""  # pySHACL's generic message, used when the shape has no sh:message
    classes: list[ox.NamedNode] = field(default_factory=list)
    datatype: rdflib.term.Node | None = None
    in_values: frozenset | None = None
    patterns: list[re.Pattern] = field(default_factory=list)
    min_length: int | None = None
    max_length: int | None = None
    min_count: int | None = None
    max_count: int | None = None
    less_than: list[ox.NamedNode] = field(default_factory=list)
    ors: list[list[Shape]] = field(default_factory=list)
    qualified: list[tuple[Shape, int | None, int | None]] = field(default_factory=list)
    sparql: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    owner: str = ""  # the named node shape results are attributed to

    @property
    def is_property(self) -> bool:
        """Property shapes have a path; node shapes validate the focus node itself."""
        return self.path is not None


_Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Result:
    """One validation result, in the terms pySHACL's report uses."""

    severity: str
    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    path: tuple[str, ox.NamedNode] | None
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    messages: tuple[str, ...]
    shape: str


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """The rdflib term rdflib's N-Triples parser would make (same constructor, same normalisation)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return rdflib.Literal(term.value, datatype=None if datatype == _XSD_STRING else rdflib.URIRef(datatype))


class ShapeParser:
    """Parses the shapes graph into :class:`Shape` objects, refusing what it cannot reproduce."""

    def __init__(self, graph: rdflib.Graph):
        self.g = graph
        self.parsed: dict[rdflib.term.Node, Shape] = {}
        self.prefixes: dict[rdflib.term.Node, str] = {}

    def roots(self) -> list[Shape]:
        g = self.g
        candidates = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
        for target in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target"):
            candidates |= set(g.subjects(SH[target], None))
        if set(g.subjects(RDF.type, RDFS.Class)) & candidates:
            raise Unsupported("implicit class targets")
        targets = [SH[t] for t in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target")]
        roots = []
        for node in sorted(candidates, key=str):
            if any((node, t, None) in g for t in targets):
                roots.append(self.shape(node, owner=str(node)))
        for shape in roots:  # shapes that report results need their own message (no generic ones here)
            for reporting in [shape, *shape.properties]:
                if _reports(reporting) and not reporting.messages:
                    missing = Unsupported(f"shape {reporting.node} has no sh:message")
                    missing.shape = str(shape.node) if isinstance(shape.node, rdflib.URIRef) else None
                    missing.path = reporting.path[1].value if reporting.path else None
                    raise missing
        return roots

    def _messages(self, node: rdflib.term.Node) -> tuple[str, ...]:
        messages = []
        for m in self.g.objects(node, SH.message):
            if not isinstance(m, rdflib.Literal) or not isinstance(m.value, str):
                raise Unsupported("non-string sh:message")
            messages.append(str(m.value))
        return tuple(messages)

    def shape(self, node: rdflib.term.Node, owner: str) -> Shape:
        """The parsed shape; a refusal names the innermost named shape and property path it is in."""
        try:
            return self._shape(node, owner)
        except Unsupported as exc:
            path = self.g.value(node, SH.path)
            if exc.path is None and exc.shape is None and isinstance(path, rdflib.URIRef):
                exc.path = str(path)
            if exc.shape is None and isinstance(node, rdflib.URIRef):
                exc.shape = str(node)
            raise

    def _shape(self, node: rdflib.term.Node, owner: str) -> Shape:
        if node in self.parsed:
            return self.parsed[node]
        g = self.g
        for p in g.predicates(node, None):
            if str(p) not in _SHAPE_KEYS:
                raise Unsupported(f"shape feature {p}", parameter=_local(p))
        if (node, SH.deactivated, None) in g:
            raise Unsupported("sh:deactivated", parameter="deactivated")
        shape = Shape(node, owner=owner)
        self.parsed[node] = shape
        path = g.value(node, SH.path)
        if path is not None:
            if isinstance(path, rdflib.URIRef):
                shape.path = ("pred", ox.NamedNode(str(path)))
            else:
                inverse = g.value(path, SH.inversePath)
                if not isinstance(inverse, rdflib.URIRef) or len(set(g.predicate_objects(path))) != 1:
                    raise Unsupported("complex property path", parameter="path")
                shape.path = ("inv", ox.NamedNode(str(inverse)))
        shape.messages = self._messages(node)
        severity = g.value(node, SH.severity)
        if severity is not None:
            if not isinstance(severity, rdflib.URIRef) or str(severity) not in SEVERITIES:
                # load_shapes refuses it at its line (malformed_shapes); a graph built otherwise gets here
                raise Unsupported(f"sh:severity {severity.n3()}", parameter="severity")
            shape.severity = SEVERITIES[str(severity)]
        for cls in g.objects(node, SH.targetClass):
            shape.targets.append(("class", ox.NamedNode(str(cls))))
        for target in g.objects(node, SH.targetNode):
            shape.targets.append(("node", _to_ox(target)))
        for prop in g.objects(node, SH.targetSubjectsOf):
            shape.targets.append(("subjects", ox.NamedNode(str(prop))))
        for prop in g.objects(node, SH.targetObjectsOf):
            shape.targets.append(("objects", ox.NamedNode(str(prop))))
        for target in g.objects(node, SH.target):
            if (target, RDF.type, SH.SPARQLTarget) not in g:
                raise Unsupported("custom target types", parameter="target")
            target_query = self._query(target, g.value(target, SH.select))
            check_expressions(target_query)
            shape.targets.append(("sparql", target_query))
        for prop in sorted(g.objects(node, SH.property), key=str):
            if len(set(g.subjects(SH.property, prop))) > 1:
                # pySHACL reports its results as those of whichever parent rdflib finds first, and a
                # parent of severity Warning lets them pass where a parent of severity Violation does not
                raise Unsupported(f"property shape {prop} is the sh:property of several shapes", parameter="property")
            child = self.shape(prop, owner or str(node))
            if child.path is None or child.properties:
                raise Unsupported("sh:property without sh:path, or nested in a property shape")
            shape.properties.append(child)
        kind = g.value(node, SH.nodeKind)
        if kind is not None:
            shape.node_kind = str(kind)[len(SH_NS) :]
            shape.node_kind_message = f"Value is not of Node Kind {stringify_node(g, kind)}"
        shape.classes = [ox.NamedNode(str(c)) for c in g.objects(node, SH["class"])]
        for parameter in SINGLE_VALUED:  # malformed_shapes refuses these within a file; a shape may span files
            if len(set(g.objects(node, rdflib.URIRef(parameter)))) > 1:
                raise Unsupported(f"several values of {parameter} on {node}", parameter=_local(parameter))
        shape.datatype = g.value(node, SH.datatype)
        for lst in g.objects(node, SH["in"]):
            members = list(rdflib.collection.Collection(g, lst))
            if not all(isinstance(v, rdflib.URIRef) for v in members):
                raise Unsupported("sh:in with literals (rdflib compares normalised lexical forms)", parameter="in")
            shape.in_values = frozenset(_to_ox(v) for v in members)
        flags = g.value(node, SH.flags)
        for pattern in g.objects(node, SH.pattern):
            shape.patterns.append(compile_pattern(pattern, flags))
        shape.min_length = _int(g.value(node, SH.minLength), "minLength")
        shape.max_length = _int(g.value(node, SH.maxLength), "maxLength")
        shape.min_count = _int(g.value(node, SH.minCount), "minCount")
        shape.max_count = _int(g.value(node, SH.maxCount), "maxCount")
        shape.less_than = [ox.NamedNode(str(p)) for p in g.objects(node, SH.lessThan)]
        for lst in g.objects(node, SH["or"]):
            shape.ors.append([self.shape(m, "") for m in rdflib.collection.Collection(g, lst)])
        qvs = list(g.objects(node, SH.qualifiedValueShape))
        if len(qvs) > 1:
            raise Unsupported("several sh:qualifiedValueShape")
        if qvs and not shape.is_property:
            raise Unsupported("sh:qualifiedValueShape on a node shape (pySHACL ignores it)")
        if qvs:
            shape.qualified.append(
                (
                    self.shape(qvs[0], ""),
                    _int(g.value(node, SH.qualifiedMinCount), "qualifiedMinCount"),
                    _int(g.value(node, SH.qualifiedMaxCount), "qualifiedMaxCount"),
                )
            )
        for constraint in g.objects(node, SH.sparql):
            if shape.is_property:
                raise Unsupported("SPARQL constraints on property shapes", parameter="sparql")
            for p in g.predicates(constraint, None):
                if str(p) not in {str(RDF.type), SH_NS + "message", SH_NS + "prefixes", SH_NS + "select"}:
                    raise Unsupported(f"SPARQL constraint feature {p}", parameter=_local(p))
            select = g.value(constraint, SH.select)
            query = self._query(constraint, select)
            check_constraint_query(str(select))
            check_expressions(query)
            messages = self._messages(constraint)
            if not messages:
                raise Unsupported("SPARQL constraint without sh:message", parameter="sparql")
            shape.sparql.append((query, messages))
        return shape

    def _query(self, node: rdflib.term.Node, select: rdflib.term.Node | None) -> str:
        if not isinstance(select, rdflib.Literal):
            raise Unsupported("SPARQL without sh:select", parameter="select")
        text = fast_query_text(self.g, node, str(select))
        # Parsed here, where the refusal can name the shape's line, not first when run on the data.
        # SERVICE was refused as the shapes were read, so the empty store makes this a parse only.
        query_rows(ox.Store(), text, union=False)
        return text


def fast_query_text(graph: rdflib.Graph, node: rdflib.term.Node, query: str) -> str:
    """The text this engine runs for the SPARQL ``query`` of ``node``: its ``sh:prefixes`` lines, then the query."""
    lines = []
    for prefixes in graph.objects(node, SH.prefixes):
        for decl in graph.objects(prefixes, SH.declare):
            prefix = graph.value(decl, SH.prefix)
            namespace = graph.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines))) + "\n" + query


def pyshacl_query_text(graph: rdflib.Graph, node: rdflib.term.Node, query: str) -> str | None:
    """The text pySHACL runs for the SPARQL ``query`` of ``node`` (None when it refuses the node's prefixes).

    pySHACL's own helper collects the prefixes (rdf, rdfs and owl, the node's ``sh:prefixes``
    and any ``owl:Ontology``'s ``sh:declare``) and writes them before the query.
    """
    helper = SPARQLQueryHelper(None, node, query)
    helper.shape = _ShapeOfGraph(graph)
    try:
        helper.collect_prefixes()
    except ReportableRuntimeError:  # pySHACL refuses these shapes when it loads them: it runs nothing
        return None
    return str(helper.apply_prefixes(query))


@dataclass(frozen=True)
class _ShapeOfGraph:
    """What pySHACL's SPARQL helper reads of a shape to collect prefixes: its shapes graph (``shape.sg.graph``)."""

    graph: rdflib.Graph

    @property
    def sg(self) -> _ShapeOfGraph:
        return self


_PREBOUND = re.compile(r"[$?](currentShape|shapesGraph|PATH)")  # pySHACL's own test: no word boundary after
_THIS = re.compile(rf"[$?]this(?![{VARNAME_CHARS}])")  # case-sensitive, as SPARQL variable names are
# pySHACL reads a bound ?failure as "this focus node fails", once per focus node, whatever the other variables hold.
_FAILURE = re.compile(rf"[$?]failure(?![{VARNAME_CHARS}])")
_SUBQUERY = re.compile(r"\{\s*SELECT\b", re.IGNORECASE)
_PER_FOCUS = re.compile(r"\b(LIMIT|OFFSET)\b|\bAS\s*[$?]this\b", re.IGNORECASE)
# pySHACL's check_invalid_sparql reads only the class's regexes, so the class can stand in for ``self``.
_PYSHACL_HELPER: Any = SPARQLQueryHelper


#: The SPARQL expression forms rdflib (which pySHACL runs) and Oxigraph evaluate alike. Outside
#: them the two differ: rdflib drops a constant FILTER(false), reads STR(1.0) from the lexical
#: form, resolves IRI("x") differently, skips an IN list's errors, takes REPLACE's "$0" literally,
#: honours only some REGEX flags and casts xsd:float at double precision. No SPARQL library
#: reports which of its functions follow the standard, so the list is written here, and each
#: difference found is a case in tests/shapes/engine/.
_SAME_IN_BOTH = {
    "ConditionalOrExpression",
    "ConditionalAndExpression",
    "RelationalExpression",
    "AdditiveExpression",
    "MultiplicativeExpression",
    "UnaryNot",
    "Builtin_BOUND",
    "Builtin_STR",
    "Builtin_STRSTARTS",
    "Builtin_STRENDS",
    "Builtin_CONTAINS",
    "Builtin_isIRI",
    "Builtin_isURI",
    "Builtin_isLITERAL",
    "Builtin_isBLANK",
    "Builtin_LANG",
    "Builtin_DATATYPE",
    "Builtin_sameTerm",
    "Builtin_EXISTS",
    "Builtin_NOTEXISTS",
    "Builtin_REGEX",
    "literal",
    "pname",
}
#: Wrappers the grammar puts around every operand: they stand for an operation only with ``other``.
_PASS_THROUGH = {"ConditionalOrExpression", "ConditionalAndExpression", "RelationalExpression",
                 "AdditiveExpression", "MultiplicativeExpression"}


def check_expressions(query: str) -> None:
    """Refuse a FILTER, BIND or projected expression rdflib and Oxigraph may evaluate differently.

    Numbers and booleans written in an expression are refused too (rdflib compares and prints
    them by its normalised lexical forms), as is a FILTER on a bare term (its effective boolean
    value). A query rdflib cannot parse is left to the checks that report it.
    """
    try:
        tree = parseQuery(query)
    except ParseBaseException:  # reported where the query is parsed for running
        return

    # CompValue.get() resolves names as variables: its items are read as a dict's
    def expression(node: Any) -> None:
        if isinstance(node, CompValue):
            if node.name not in _SAME_IN_BOTH:
                raise Unsupported(f"the SPARQL expression {_readable(node.name)}, which rdflib and Oxigraph "
                                  "evaluate differently", parameter="select")
            in_list = node.name == "RelationalExpression" and str(dict.get(node, "op", "")).upper() in ("IN", "NOT IN")
            if in_list and not all(iri(member) for member in dict.get(node, "other", [])):
                raise Unsupported("the SPARQL operator IN with members other than IRIs, whose errors rdflib and "
                                  "Oxigraph treat differently", parameter="select")
            if node.name in ("AdditiveExpression", "MultiplicativeExpression") and "other" in node:
                raise Unsupported("SPARQL arithmetic, which rdflib and Oxigraph evaluate differently",
                                  parameter="select")
            flags = dict.get(node, "flags") if node.name == "Builtin_REGEX" else None
            if flags is not None and str(flags) not in ("", "i"):
                raise Unsupported(f"REGEX flags {str(flags)!r}: rdflib and Oxigraph agree on 'i' only",
                                  parameter="select")
            for key, value in node.items():
                if key in ("graph",):  # EXISTS { ... }: a pattern, with expressions of its own
                    pattern(value)
                else:
                    expression(value)
        elif isinstance(node, rdflib.Literal):
            if node.datatype is not None and node.datatype != XSD.string:
                raise Unsupported(f"the literal {node.n3()} in a SPARQL expression, which rdflib compares by "
                                  "its normalised form", parameter="select")
        elif isinstance(node, (list, tuple, ParseResults)):
            for item in node:
                expression(item)

    def unwrapped(node: Any) -> Any:
        """An expression without the grammar's wrappers that stand for no operation."""
        while isinstance(node, CompValue) and node.name in _PASS_THROUGH and "other" not in node:
            node = dict.get(node, "expr")
        return node

    def iri(node: Any) -> bool:
        node = unwrapped(node)
        return isinstance(node, rdflib.URIRef) or (isinstance(node, CompValue) and node.name == "pname")

    def bare(node: Any) -> bool:
        """Whether an expression is a lone term."""
        node = unwrapped(node)
        return not isinstance(node, CompValue) or node.name in ("literal", "pname")

    def pattern(node: Any) -> None:
        if isinstance(node, CompValue):
            for key, value in node.items():
                if node.name == "Filter" and key == "expr":
                    if bare(value):
                        raise Unsupported("a FILTER on a lone term, whose effective boolean value rdflib and "
                                          "Oxigraph read differently", parameter="select")
                    expression(value)
                elif key == "expr":  # BIND, projected and grouped expressions
                    expression(value)
                else:
                    pattern(value)
        elif isinstance(node, (list, tuple, ParseResults)):
            for item in node:
                pattern(item)

    pattern(tree)


def _readable(name: str) -> str:
    """``Builtin_REPLACE`` as ``REPLACE``, ``Function`` as a function call."""
    return "a function call" if name == "Function" else name.removeprefix("Builtin_")


def check_constraint_query(select: str) -> None:
    """Refuse a SPARQL constraint whose rows, computed once for all focus nodes, could differ from pySHACL's.

    pySHACL runs the query once per focus node with ``this`` pre-bound through rdflib's
    ``initBindings``, which substitute the focus node for the variable everywhere, whichever
    sigil (``?this`` and ``$this`` are one variable), inside subqueries too; it also binds
    ``currentShape`` and rewrites ``PATH``. This engine runs the query once and keeps each focus
    node's rows, which is the same only when the query starts by matching ``$this``, selects it
    (outside any expression), names no other pre-bound variable nor ``?failure`` (which pySHACL
    reports once per focus node), and has nothing that sees all focus nodes at once: a
    subquery mentioning ``$this`` (a different variable there, once), LIMIT or OFFSET. Variable
    names are case-sensitive: ``?THIS`` is another variable, which pySHACL leaves free. Queries
    pySHACL itself refuses (MINUS, VALUES, SERVICE, nested SELECTs without ``$this``) are input
    errors: neither engine can run them.
    """
    try:
        _PYSHACL_HELPER.check_invalid_sparql(_PYSHACL_HELPER, select)
    except ValidationFailure as exc:
        reason = str(exc.args[0] if exc.args else exc).strip()
        raise InputError("shapes", f"SPARQL constraint refused (pySHACL refuses it too): {reason}") from None
    prebound = _PREBOUND.search(select)
    if prebound:
        raise Unsupported(
            f"a SPARQL constraint mentioning ${prebound.group(1)}, which pySHACL pre-binds or rewrites",
            parameter="select",
        )
    code = query_code(select)
    # pySHACL binds ``this`` only: ``?THIS`` is another variable, free in a query run for each focus node
    if not re.search(r"(?i:WHERE)\s*\{\s*[$?]this\s", code):
        raise Unsupported("a SPARQL constraint that does not start by matching $this", parameter="select")
    projection = re.search(r"\bSELECT\b(.*?)(?:\bWHERE\b|\{)", code, re.IGNORECASE | re.DOTALL)
    # $this inside ``(expression AS ?var)`` is not selected: only what stands outside parentheses is
    selected = _outside_parentheses(projection.group(1)) if projection else ""
    if not (_THIS.search(selected) or "*" in selected):
        raise Unsupported("a SPARQL constraint that does not select $this", parameter="select")
    failure = _FAILURE.search(code)
    if failure:
        raise Unsupported(
            f"a SPARQL constraint mentioning {failure.group(0)}, which pySHACL reports once per focus node",
            parameter="select",
        )
    per_focus = _PER_FOCUS.search(code)
    if per_focus:
        raise Unsupported(
            f"a SPARQL constraint with {per_focus.group(0)!r}, which pySHACL applies per focus node",
            parameter="select",
        )
    for subquery in _SUBQUERY.finditer(code):
        if _THIS.search(code[subquery.start() : _closing_brace(code, subquery.start())]):
            raise Unsupported(
                "a subquery mentioning $this, which pySHACL replaces by each focus node in turn", parameter="select"
            )


def _outside_parentheses(text: str) -> str:
    """``text`` without what stands inside parentheses (at any depth)."""
    kept, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


def _closing_brace(code: str, start: int) -> int:
    """The index just past the brace that closes the one at ``start`` (the end of ``code`` if none)."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] == "{":
            depth += 1
        elif code[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(code)


#: Parameters SHACL allows once per shape (or per SPARQL constraint); pySHACL refuses a second value
#: of most and picks one of the others in no fixed order, so its verdict would depend on chance.
SINGLE_VALUED = tuple(
    SH_NS + name
    for name in (
        "path",
        "severity",
        "deactivated",
        "minCount",
        "maxCount",
        "minLength",
        "maxLength",
        "datatype",
        "nodeKind",
        "in",
        "flags",
        "closed",
        "languageIn",
        "uniqueLang",
        "minInclusive",
        "maxInclusive",
        "minExclusive",
        "maxExclusive",
        "qualifiedValueShape",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        "select",
    )
)
_PATTERN = SH_NS + "pattern"
_SEVERITY = SH_NS + "severity"
#: Parameters SHACL (and pySHACL, which refuses the shape) allows on property shapes only.
PROPERTY_ONLY = tuple(SH_NS + name for name in ("minCount", "maxCount", "lessThan", "lessThanOrEquals", "uniqueLang"))


def malformed_shapes(triples: list[ox.Triple], shown: Path, text: str) -> None:
    """Refuse, at its line, what makes a shapes file ill-formed for both engines (exit 2).

    A second value of a single-valued parameter (``sh:minCount 1 ; sh:minCount 2``) and an
    ``sh:pattern`` Python's ``re`` cannot compile (pySHACL compiles with ``re``, which has no
    ``\\p{Lu}``) would otherwise be a pySHACL traceback, or a verdict that depends on order.
    """
    values: dict[tuple[object, str], list[object]] = defaultdict(list)
    for t in triples:
        values[(t.subject, t.predicate.value)].append(t.object)
    lines = text.split("\n")
    for (subject, predicate), objects in values.items():
        local = predicate[len(SH_NS) :] if predicate.startswith(SH_NS) else ""
        if predicate in SINGLE_VALUED and len(set(objects)) > 1:
            shown_values = ", ".join(sorted(_lexical(o) for o in set(objects)))
            raise InputError(
                Location(shown, _line_of(lines, values, subject, local, twice=True)),
                f"{_describe(values, subject)} has {len(set(objects))} values of sh:{local} ({shown_values}); "
                "SHACL allows one",
                "keep the one value you mean",
            )
        if predicate in PROPERTY_ONLY and (subject, SH_NS + "path") not in values:
            raise InputError(
                Location(shown, _line_of(lines, values, subject, local, twice=False)),
                f"{_describe(values, subject)} has sh:{local} but no sh:path; SHACL allows it on property shapes only",
                f"move sh:{local} into an sh:property [ sh:path ... ] of the shape",
            )
        if predicate == _SEVERITY:
            for severity in objects:
                if not (isinstance(severity, ox.NamedNode) and severity.value in SEVERITIES):
                    raise InputError(
                        Location(shown, _line_of(lines, values, subject, local, twice=False)),
                        f"{_describe(values, subject)} has sh:severity {_shown_term(severity)}, which the build "
                        "cannot tell to fail or pass",
                        "write sh:Violation (fails the build), sh:Warning or sh:Info (reported only)",
                    )
        if predicate == _PATTERN:
            flags = values.get((subject, SH_NS + "flags"), [None])[0]
            for pattern in objects:
                if not isinstance(pattern, ox.Literal):
                    continue
                # pySHACL reads the literal's value: a number or a date is a TypeError there, not a pattern
                read = to_rdflib_term(pattern)
                if not (isinstance(read, rdflib.Literal) and isinstance(read.value, str)):
                    raise InputError(
                        Location(shown, _line_of(lines, values, subject, local, twice=False)),
                        f"sh:pattern {pattern.value} is typed {xsd_name(pattern.datatype.value)}, not a string",
                        'write the regular expression as a string, e.g. sh:pattern "^[0-9]+$"',
                    )
                re_flags = re.IGNORECASE if isinstance(flags, ox.Literal) and "i" in flags.value.lower() else 0
                try:
                    re.compile(pattern.value, re_flags)
                except re.error as exc:
                    raise InputError(
                        Location(shown, _line_of(lines, values, subject, local, twice=False)),
                        f"sh:pattern {pattern.value!r} is not a regular expression pySHACL can run: {exc}",
                        "patterns are Python regular expressions here; write [A-Z] and the like for \\p{...} classes",
                    ) from None


def _local(iri: object) -> str:
    """The name after the last ``#`` or ``/`` (``minCount`` of ``sh:minCount``)."""
    return re.split(r"[#/]", str(iri))[-1]


def _lexical(term: object) -> str:
    return term.value if isinstance(term, ox.Literal | ox.NamedNode) else str(term)


def _shown_term(term: object) -> str:
    """A term as Turtle writes it: ``<iri>``, a quoted literal, or a blank node's label."""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return f'"{term.value}"'
    return str(term)


def _describe(values: dict[tuple[object, str], list[object]], subject: object) -> str:
    if isinstance(subject, ox.NamedNode):
        return f"shape <{subject.value}>"
    paths = values.get((subject, SH_NS + "path"), [])
    return f"the property shape of sh:path <{_lexical(paths[0])}>" if paths else "a shape"


def _line_of(
    lines: list[str], values: dict[tuple[object, str], list[object]], subject: object, local: str, *, twice: bool
) -> int | None:
    """The line where ``subject``'s ``sh:<local>`` is written (its second value when ``twice``), if it can be told.

    The search starts at the shape's own line (an IRI's local name, or a property shape's
    path) so that the same parameter on another shape is not blamed.
    """
    anchor = subject.value if isinstance(subject, ox.NamedNode) else None
    paths = values.get((subject, SH_NS + "path"), [])
    if anchor is None and paths and isinstance(paths[0], ox.NamedNode):
        anchor = paths[0].value
    start = 0
    if anchor is not None:
        name = re.split(r"[/#:]", anchor)[-1]
        for number, line in enumerate(lines):
            if name and (anchor in line or re.search(rf"[:<]{re.escape(name)}\b", line)):
                start = number
                break
    parameter = re.compile(rf"[:#]{re.escape(local)}\b")
    found = []
    for number in range(start, len(lines)):
        count = len(parameter.findall(lines[number]))
        if twice and count > 1:
            return number + 1
        found.extend([number + 1] * count)
    wanted = 1 if twice else 0
    return found[wanted] if len(found) > wanted else None


def _reports(shape: Shape) -> bool:
    """Whether the shape has constraints of its own that produce results (and need messages)."""
    return any(
        (
            shape.classes,
            shape.datatype is not None,
            shape.in_values is not None,
            shape.patterns,
            shape.min_length is not None,
            shape.max_length is not None,
            shape.min_count is not None,
            shape.max_count is not None,
            shape.less_than,
            shape.ors,
            shape.qualified,
        )
    )


def _int(node: rdflib.term.Node | None, parameter: str) -> int | None:
    if node is None:
        return None
    if not isinstance(node, rdflib.Literal) or not isinstance(node.value, int):
        raise Unsupported(f"sh:{parameter} {node.n3()} is not an integer", parameter=parameter)
    return int(node.value)


def compile_pattern(pattern: rdflib.term.Node, flags: rdflib.term.Node | None) -> re.Pattern:
    """``sh:pattern`` compiled as pySHACL compiles it: Python's ``re``, honouring only the flags ``i`` and ``m``.

    pySHACL ignores every other flag (SHACL's ``s``, ``x`` and ``q`` among them), so a shape using
    one is refused rather than validated differently. A pattern ``re`` cannot compile (``\\p{Lu}``
    is XPath but not Python) is reported by :func:`malformed_shapes` before any engine runs.
    """
    text = str(flags.value) if isinstance(flags, rdflib.Literal) and flags.value is not None else str(flags or "")
    value = 0
    for flag in text.lower():
        if flag == "i":
            value |= re.IGNORECASE
        elif flag == "m":
            value |= re.MULTILINE
        else:
            raise Unsupported(f"sh:flags {text!r}: pySHACL honours only the flags 'i' and 'm'", parameter="flags")
    if not isinstance(pattern, rdflib.Literal):
        raise Unsupported(f"sh:pattern {pattern} is not a literal", parameter="pattern")
    try:
        return re.compile(str(pattern.value) if pattern.value is not None else str(pattern), value)
    except re.error as exc:
        raise Unsupported(
            f"sh:pattern {str(pattern)!r} is not a Python regular expression ({exc})", parameter="pattern"
        ) from None


def _to_ox(term: rdflib.term.Node) -> ox.NamedNode | ox.Literal:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    raise Unsupported("blank node in a shape's values")


class Validator:
    """Evaluates parsed shapes over indexes of one data graph."""

    def __init__(
        self,
        triples: list[ox.Triple],
        roots: list[Shape],
        store: ox.Store | None = None,
        rows: dict[str, list[dict]] | None = None,
        literals: set[ox.Literal] | frozenset[ox.Literal] | None = None,
    ):
        """Index ``triples``; SPARQL parts run on ``store`` or come from ``rows`` (query text -> solutions).

        ``literals``, when given, are the triples' literals :func:`note_literal` keeps (the
        parts know theirs), else they are found here.
        """
        self.roots = roots
        self.rows = rows
        reads = reads_of(roots)
        wanted_fwd, wanted_inv = set(reads.fwd), set(reads.inv)
        needs_store = reads.sparql and rows is None
        self.fwd: dict[ox.NamedNode, dict] = {p: {} for p in wanted_fwd}
        self.inv: dict[ox.NamedNode, dict] = {p: {} for p in wanted_inv}
        fwd_of, inv_of = self.fwd.get, self.inv.get
        for t in triples:  # each attribute read makes a new Python object: one read each
            p = t.predicate
            forward, inverse = fwd_of(p), inv_of(p)
            if forward is None and inverse is None:
                continue
            s, o = t.subject, t.object
            if forward is not None:
                forward.setdefault(s, []).append(o)
            if inverse is not None:
                inverse.setdefault(o, []).append(s)
        # rdflib (pySHACL's graph) reads such a literal as its canonical form: "01" and "1" are
        # one node there, two here, with or without a store for the SPARQL parts
        if literals is None:
            literals = rewritable_literals(triples)
        # A graph is a set: a triple given twice (two documents' parts may both hold a shared
        # triple) is one value, or counts and pairs (sh:maxCount, sh:lessThan) would differ.
        for index in (*self.fwd.values(), *self.inv.values()):
            for key, values in index.items():
                if len(values) > 1:
                    index[key] = list(dict.fromkeys(values))
        self.store: ox.Store | None = None
        self.union = False
        check_store_keeps(literals)
        if needs_store:
            if store is not None and all(bag_safe(q) for q in shape_queries(roots)):
                self.store, self.union = store, True
            else:
                self.store = ox.Store()
                self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
        self._subclasses: dict[ox.NamedNode, set] = {}
        self._rdflib: dict[ox.Literal, rdflib.Literal] = {}
        self._datatypes: dict[tuple[ox.Literal, rdflib.term.Node], bool] = {}
        self._triples = triples
        self._blank_nodes: set[ox.BlankNode] | None = None

    # -- graph helpers ---------------------------------------------------------
    def subclasses(self, cls: ox.NamedNode) -> set:
        """The class and everything ``rdfs:subClassOf*`` below it in the data graph."""
        if cls not in self._subclasses:
            below = self.inv[_SUBCLASS]
            seen = {cls}
            stack = [cls]
            while stack:
                for sub in below.get(stack.pop(), ()):
                    if sub not in seen:
                        seen.add(sub)
                        stack.append(sub)
            self._subclasses[cls] = seen
        return self._subclasses[cls]

    def values(self, focus: object, path: tuple[str, ox.NamedNode]) -> list:
        index = self.fwd[path[1]] if path[0] == "pred" else self.inv[path[1]]
        return index.get(focus, [])

    def focus_nodes(self, shape: Shape) -> list:
        found: dict = {}
        for kind, value in shape.targets:
            if kind == "class":
                assert isinstance(value, ox.NamedNode)
                by_type = self.inv[_RDF_TYPE]
                for cls in sorted(self.subclasses(value), key=str):
                    for node in by_type.get(cls, ()):
                        found[node] = None
            elif kind == "node":
                found[value] = None
            elif kind == "subjects":
                assert isinstance(value, ox.NamedNode)
                for node in self.fwd[value]:
                    found[node] = None
            elif kind == "objects":
                assert isinstance(value, ox.NamedNode)
                for node in self.inv[value]:
                    found[node] = None
            else:
                assert isinstance(value, str)
                for row in self.solutions(value):
                    node = row.get("this")
                    if node is not None:
                        found[node] = None
        return list(found)

    def solutions(self, query: str) -> list[dict]:
        """The rows of a SPARQL target or constraint: given, or from the store (bound variables only)."""
        if self.rows is not None:
            rows = self.rows.get(query, [])
        else:
            assert self.store is not None
            rows = query_rows(self.store, query, union=self.union)
        for row in rows:
            for term in row.values():
                if isinstance(term, ox.BlankNode) and term not in self.blank_nodes():
                    # rows from a store that relabelled blank nodes: their results would be lost
                    raise Unsupported(f"a SPARQL row names the blank node {term}, which the data does not hold")
        return rows

    def blank_nodes(self) -> set[ox.BlankNode]:
        """The blank nodes of the data, found when a SPARQL row first names one."""
        if self._blank_nodes is None:
            self._blank_nodes = {
                term for t in self._triples for term in (t.subject, t.object) if isinstance(term, ox.BlankNode)
            }
        return self._blank_nodes

    def lit(self, value: ox.Literal) -> rdflib.Literal:
        cached = self._rdflib.get(value)
        if cached is None:
            term = to_rdflib_term(value)
            assert isinstance(term, rdflib.Literal)
            cached = self._rdflib[value] = term
        return cached

    # -- evaluation -----------------------------------------------------------
    def run(self, keep: Callable[[object], bool] | None = None) -> list[Result]:
        """Results of every root shape; ``keep`` limits the focus nodes evaluated (a shard's own)."""
        results: list[Result] = []
        for shape in self.roots:
            focus = self.focus_nodes(shape)
            if keep is not None:
                focus = [node for node in focus if keep(node)]
            for node in focus:
                self.evaluate(shape, node, results)
            if shape.sparql:
                self.evaluate_sparql(shape, focus, results)
        return results

    def conforms(self, shape: Shape, node: _Term) -> bool:
        """Whether ``node`` conforms to ``shape`` (a member of sh:or, a qualified shape) as pySHACL decides it.

        pySHACL (allow_warnings) lets a shape of severity Warning or Info conform whatever it
        finds, and a property shape of such a severity conform within its parent.
        """
        if shape.severity in _LENIENT:
            return True
        found: list[Result] = []
        self.evaluate(shape, node, found)
        if shape.sparql:
            self.evaluate_sparql(shape, [node], found)
        return not any(r.severity not in _LENIENT for r in found)

    def evaluate(self, shape: Shape, focus: _Term, out: list[Result]) -> None:
        """Append the results of ``shape``'s constraints (and its property shapes) at ``focus``."""
        if shape.path is None:
            values = [focus]
        else:
            values = list(dict.fromkeys(self.values(focus, shape.path)))

        def fail(value: _Term | None, generic: str = "") -> None:
            messages = shape.messages or (generic,)
            out.append(Result(shape.severity, focus, shape.path, value, messages, shape.owner))

        if shape.min_count is not None and len(values) < shape.min_count:
            fail(None)
        if shape.max_count is not None and len(values) > shape.max_count:
            fail(None)
        for value in values:
            if shape.node_kind is not None and not _node_kind_ok(value, shape.node_kind):
                fail(value, shape.node_kind_message)
            for cls in shape.classes:
                if not self._is_instance(value, cls):
                    fail(value)
            if shape.datatype is not None and not self._datatype_ok(value, shape.datatype):
                fail(value)
            if shape.in_values is not None and value not in shape.in_values:
                fail(value)
            for pattern in shape.patterns:
                if isinstance(value, ox.BlankNode):
                    fail(value)
                    continue
                text = self._string(value)
                if not (pattern.match(text) or pattern.search(text)):
                    fail(value)
            if shape.min_length is not None and shape.min_length > 0:
                if isinstance(value, ox.BlankNode) or len(self._string(value)) < shape.min_length:
                    fail(value)
            if shape.max_length is not None:
                if isinstance(value, ox.BlankNode) or len(self._string(value)) > shape.max_length:
                    fail(value)
            for alternatives in shape.ors:
                if not any(self.conforms(member, value) for member in alternatives):
                    fail(value)
        for other in shape.less_than:
            compare = self.fwd[other].get(focus, [])
            for value in values:
                for against in compare:
                    if not self._less_than(value, against):
                        fail(value)
        for qualified, low, high in shape.qualified:
            count = sum(1 for value in values if self.conforms(qualified, value))
            if low is not None and count < low:
                fail(None)
            if high is not None and count > high:
                fail(None)
        if shape.path is not None:
            return
        for child in shape.properties:
            self.evaluate(child, focus, out)

    def evaluate_sparql(self, shape: Shape, focus_nodes: list, out: list[Result]) -> None:
        """Run each SPARQL constraint once and keep the rows of this shape's focus nodes."""
        wanted = set(focus_nodes)
        for query, extra in shape.sparql:
            seen: dict[object, list] = defaultdict(list)
            for row in self.solutions(query):
                bound = dict(row)
                this = bound.pop("this", None)
                if this is None or this not in wanted:
                    continue
                path = bound.pop("path", None)
                value = bound.pop("value", None)
                key = (this, path, value, tuple(sorted(bound.items(), key=lambda kv: kv[0])))
                if key in seen[this]:
                    continue
                seen[this].append(key)
                if path is not None:
                    raise Unsupported("SPARQL constraint binding ?path")
                focus = this
                result_value = value if value is not None else focus
                fdict = dict(bound)
                fdict["this"] = this
                fdict["value"] = result_value
                messages = tuple(_format(m, fdict) for m in shape.messages)
                messages += tuple(_format(m, fdict) for m in extra if m not in shape.messages)
                out.append(Result(shape.severity, focus, None, result_value, messages, shape.owner))

    def _is_instance(self, value: object, cls: ox.NamedNode) -> bool:
        if isinstance(value, ox.Literal):
            return False
        allowed = self.subclasses(cls)
        return any(t in allowed for t in self.fwd[_RDF_TYPE].get(value, ()))

    def _datatype_ok(self, value: object, datatype: rdflib.term.Node) -> bool:
        if not isinstance(value, ox.Literal):
            return False
        if str(datatype) == _XSD_STRING and not value.language and value.datatype.value == _XSD_STRING:
            return True  # a plain string: rdflib's value is the str itself
        # a function of the two: literals such as offsets recur across thousands of nodes
        key = (value, datatype)
        found = self._datatypes.get(key)
        if found is None:
            found = self._datatypes[key] = _pyshacl_datatype_matches(self.lit(value), datatype)
        return found

    def _string(self, value: object) -> str:
        if isinstance(value, ox.Literal):
            if value.language or value.datatype.value == _XSD_STRING:
                return value.value
            v = self.lit(value)
            if v.value is not None and v.datatype in (None, RDF.langString, XSD.string):
                return str(v.value)
            return str(v)
        assert isinstance(value, ox.NamedNode)  # callers pass no blank nodes
        return value.value  # IRI

    def _less_than(self, value: object, against: object) -> bool:
        if isinstance(value, ox.BlankNode) or isinstance(against, ox.BlankNode):
            raise Unsupported("sh:lessThan on a blank node")
        left, left_is_str = self._comparable(value)
        right, right_is_str = self._comparable(against)
        if left_is_str != right_is_str:
            return False
        try:
            return bool(left < right)
        except TypeError as exc:  # pySHACL would raise here too; let it report
            raise Unsupported("incomparable sh:lessThan values") from exc

    def _comparable(self, term: object) -> tuple[str | rdflib.Literal, bool]:
        if isinstance(term, ox.NamedNode):
            return term.value, True
        assert isinstance(term, ox.Literal)  # callers pass no blank nodes
        lit = self.lit(term)
        if isinstance(lit.value, str):
            return lit.value, True
        return lit, False


@dataclass(frozen=True)
class Reads:
    """The predicates the engine indexes, in each direction, and whether SPARQL is involved."""

    fwd: frozenset[ox.NamedNode]
    inv: frozenset[ox.NamedNode]
    sparql: bool
    path_fwd: frozenset[ox.NamedNode]  # read at value nodes too: paths, lessThan, rdf:type, subClassOf
    path_inv: frozenset[ox.NamedNode]
    subjects_targets: frozenset[ox.NamedNode]
    objects_targets: frozenset[ox.NamedNode]


def reads_of(roots: list[Shape]) -> Reads:
    """What evaluating ``roots`` can read: the only triples whose presence changes any result."""
    path_fwd = {_RDF_TYPE, _SUBCLASS}
    path_inv = {_SUBCLASS}
    subjects: set[ox.NamedNode] = set()
    objects: set[ox.NamedNode] = set()
    sparql = False
    for shape in walk_shapes(roots):
        if shape.path is not None:
            (path_fwd if shape.path[0] == "pred" else path_inv).add(shape.path[1])
        path_fwd.update(shape.less_than)
        for kind, value in shape.targets:
            if kind == "subjects":
                assert isinstance(value, ox.NamedNode)
                subjects.add(value)
            elif kind == "objects":
                assert isinstance(value, ox.NamedNode)
                objects.add(value)
            elif kind == "sparql":
                sparql = True
        sparql = sparql or bool(shape.sparql)
    return Reads(
        frozenset(path_fwd | subjects),
        frozenset(path_inv | objects | {_RDF_TYPE}),
        sparql,
        frozenset(path_fwd),
        frozenset(path_inv),
        frozenset(subjects),
        frozenset(objects),
    )


def query_rows(store: ox.Store, query: str, *, union: bool) -> list[dict]:
    """A SELECT's solutions as dicts of their bound variables."""
    try:
        solutions = store.query(query, use_default_graph_as_union=union)
    except SyntaxError as exc:  # rdflib, which pySHACL runs, accepts some queries Oxigraph does not
        reason = oxigraph_reason(query, exc)
        raise Unsupported(f"a SPARQL query Oxigraph does not accept: {reason}", parameter="select") from None
    if not isinstance(solutions, ox.QuerySolutions):
        raise Unsupported("a SPARQL target or constraint that is not a SELECT")
    names = [v.value for v in solutions.variables]
    return [{name: row[name] for name in names if row[name] is not None} for row in solutions]


_OX_POSITION = re.compile(r"^error at (\d+):(\d+): ")
_PREFIX_BEFORE = re.compile(rf"(?<![{PN_CHARS_BASE}\w\-.:?$])((?:[{PN_CHARS_BASE}][\w\-.\u00b7]*)?):[^\s:]*$")
_REASON_LENGTH = 160


def oxigraph_reason(query: str, exc: SyntaxError) -> str:
    """Oxigraph's parse error for ``query``, readable: an undeclared prefix named, else its first line, cut short.

    Oxigraph reports an undeclared prefix as "Prefix not found" among some 800 characters of
    the Unicode ranges a name may hold, at the position after the prefixed name.
    """
    message = str(exc.msg or exc)
    position = _OX_POSITION.match(message)
    detail = message[position.end() :] if position else message
    if "Prefix not found" in detail:
        prefix = None
        if position:
            lines = query.split("\n")
            number, column = int(position.group(1)), int(position.group(2))
            if 0 < number <= len(lines):
                used = _PREFIX_BEFORE.search(lines[number - 1][: column - 1])
                prefix = used.group(1) if used else None
        named = f" '{prefix}:'" if prefix is not None else ""
        return f"undeclared prefix{named} (declare it in the shape's sh:prefixes)"
    first = detail.split("\n", 1)[0]
    if len(first) > _REASON_LENGTH:
        first = first[:_REASON_LENGTH].rsplit(",", 1)[0] + ", ..."
    return f"{first} ({position.group(0)[:-2]} of the query as run)" if position else first


def _format(message: str, fdict: dict) -> str:
    """pySHACL's substitution of ``{?var}`` and ``{$var}``, a regular-expression replacement by the value's text.

    The value is a replacement template there, so ``\\\\`` becomes one backslash and ``\\n`` a
    line break, exactly as pySHACL reports them; where Python rejects the template, pySHACL
    fails, and so does this engine, cleanly.
    """
    # pySHACL substitutes one variable after another, in the order rdflib lists them (its own for
    # SELECT *): a value that itself holds ``{?var}`` gives a message that depends on that order.
    placeholder = re.compile("|".join(f"{{[?$]{re.escape(var)}}}" for var in fdict))
    if fdict and "{" in message and any(placeholder.search(val.value) for val in fdict.values()):
        raise Unsupported("a SPARQL result whose value holds a {?variable} of the message")
    for var, val in fdict.items():
        try:
            message = re.sub(f"{{[?$]{var}}}", val.value, message)
        except re.error as exc:
            raise InputError(
                "shapes",
                f"a SPARQL constraint's sh:message cannot show the value {val.value!r} of ?{var}: pySHACL "
                f"substitutes values as regular-expression replacements, and this one is not valid there ({exc})",
                f"remove {{?{var}}} from the message, or the backslash from the value",
            ) from None
    return message


def _node_kind_ok(value: object, kind: str) -> bool:
    if isinstance(value, ox.NamedNode):
        return kind in ("IRI", "BlankNodeOrIRI", "IRIOrLiteral")
    if isinstance(value, ox.BlankNode):
        return kind in ("BlankNode", "BlankNodeOrIRI", "BlankNodeOrLiteral")
    return kind in ("Literal", "BlankNodeOrLiteral", "IRIOrLiteral")


def _pyshacl_datatype_matches(value: rdflib.Literal, rule: rdflib.term.Node) -> bool:
    """pySHACL 0.40's DatatypeConstraintComponent test, for one literal."""
    datatype, lang = value.datatype, value.language
    if datatype == rule:
        if getattr(value, "ill_typed", None) is True:
            return False
        return DatatypeConstraintComponent._assert_actual_datatype(_ASSERT_SELF, value, rule)
    if rule == RDFS.Literal:
        return True
    if rule == RDFS.Datatype and datatype:
        return True
    if datatype is None and lang is None and rule == XSD.string:
        return DatatypeConstraintComponent._assert_actual_datatype(_ASSERT_SELF, value, rule)
    if rule == RDF.langString and lang:
        return DatatypeConstraintComponent._assert_actual_datatype(_ASSERT_SELF, value, rule)
    return False


# pySHACL 0.40's ``_assert_actual_datatype`` does not use ``self``; calling it unbound applies
# pySHACL's own rule (tests/test_fast_shacl.py would catch a release where that changes).
_ASSERT_SELF: Any = None


def note_literal(value: ox.Literal, others: set[ox.Literal]) -> None:
    if may_be_rewritten(value):
        others.add(value)


def rewritable_literals(triples: Iterable[ox.Triple]) -> set[ox.Literal]:
    """The literals of ``triples`` that :func:`note_literal` keeps."""
    found: set[ox.Literal] = set()
    for t in triples:
        if isinstance(t.object, ox.Literal):
            note_literal(t.object, found)
    return found


def check_store_keeps(literals: AbstractSet[ox.Literal]) -> None:
    """SPARQL rows come from a store that canonicalises some literals; messages show lexical forms.

    Every literal outside the plainly safe cases goes through a scratch store once; if its
    lexical form would change, results could differ from pySHACL's, so refuse.
    """
    if not literals:
        return
    scratch = ox.Store()
    for value in literals:
        if store_rewrite(value, scratch) is not None:
            raise Unsupported(f"literal {value} is not in canonical form: rdflib and the store read it as another")


def walk_shapes(roots: list[Shape]) -> Iterable[Shape]:
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        shape = stack.pop()
        if id(shape) in seen:
            continue
        seen.add(id(shape))
        yield shape
        stack.extend(shape.properties)
        for alternatives in shape.ors:
            stack.extend(alternatives)
        stack.extend(q for q, _, _ in shape.qualified)


def shape_queries(roots: list[Shape]) -> Iterable[str]:
    for shape in walk_shapes(roots):
        yield from (q for kind, q in shape.targets if kind == "sparql" and isinstance(q, str))
        yield from (q for q, _ in shape.sparql)


# A keyword, not a variable (?count, $graph) or a prefixed name (ex:min) that spells one.
_BAG_SENSITIVE = re.compile(
    r"(?<![?$:\w])(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT|GROUP\s+BY|HAVING|GRAPH|SERVICE)\b|\{\s*SELECT\b",
    re.IGNORECASE,
)


def bag_safe(query: str) -> bool:
    """Whether duplicate solutions cannot change the results (pySHACL de-duplicates rows, targets are sets).

    A store's union default graph repeats a triple once per named graph holding it; the
    shapes' queries may run there only if they neither count nor look at graphs (keywords in
    comments, IRIs and strings do neither).
    """
    return not _BAG_SENSITIVE.search(query_code(query))


def lenient_shapes(roots: list[Shape]) -> frozenset[str]:
    """The node shapes, as results name them, whose results never make the graph fail to conform.

    pySHACL, run with allow_warnings, lets a shape of severity Warning or Info conform whatever
    its own constraints and its property shapes report (one of severity Violation included);
    any other shape fails on a result of severity Violation.
    """
    return frozenset(shape.owner for shape in roots if shape.severity in _LENIENT)


def fast_results(triples: list[ox.Triple], shapes: rdflib.Graph, store: ox.Store | None = None) -> list[Result]:
    """Validate ``triples`` against ``shapes``; raise :class:`Unsupported` where not exact.

    ``store`` may hold the same triples in named graphs (the QC store); SPARQL parts then
    run over its union default graph instead of a store of their own, when that is exact.
    """
    roots = ShapeParser(shapes).roots()
    return Validator(triples, roots, store).run()


__all__ = [
    "SEVERITIES",
    "Reads",
    "Result",
    "ShapeParser",
    "Unsupported",
    "Validator",
    "bag_safe",
    "check_constraint_query",
    "check_store_keeps",
    "compile_pattern",
    "fast_query_text",
    "fast_results",
    "lenient_shapes",
    "malformed_shapes",
    "note_literal",
    "pyshacl_query_text",
    "query_rows",
    "reads_of",
    "shape_queries",
    "to_rdflib_term",
    "walk_shapes",
]
