"""Which quads a SPARQL query can read, so an incremental build knows what it must re-run.

A rebuild after editing one document must not re-run every SHACL SPARQL part and QC
check over a million triples, and it must never reuse an answer that the edit could
have changed. This module gives each query two properties, read off rdflib's algebra
of the query. Anything it does not understand counts as "reads everything", which
makes the build evaluate that query over the whole dataset: slower, never wrong.

- **Footprint.** The predicates (and, for ``rdf:type``, the classes) of every triple
  pattern, property path and EXISTS pattern in the query. A quad outside the footprint
  cannot match any pattern, so the query has the same answers over the quads of its
  footprint as over the whole dataset. A pattern with a variable predicate has a finite
  footprint only when the same basic graph pattern binds that variable as the object
  of a constant predicate (``$this rdf:predicate ?p . ?s ?p ?o``): its footprint is
  then every predicate that occurs as such an object, found in the data.
- **Per part.** Whether every solution matches at most one quad outside the *base*
  (the ontology and mappings graphs), while everything non-monotone (NOT EXISTS,
  EXISTS, OPTIONAL's right side, MINUS) matches base quads only. The answers over the
  whole dataset are then the union of the answers over the base plus each part (one
  document, or the metadata graph), so each document's answers can be kept with it.
  Whether a pattern can match outside the base is decided from the predicates and
  classes that actually occur there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql.algebra import translateGroupGraphPattern, translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: A count of outside-base quads per solution that means "unbounded".
MANY = 1 << 20


@dataclass(frozen=True)
class Atom:
    """One triple pattern or property path, as far as the analysis cares."""

    graphs: frozenset[str] | None  # None: any graph (default graph as union, or GRAPH ?g)
    predicates: frozenset[str] | None  # None: any predicate
    classes: frozenset[str] | None = None  # rdf:type patterns: the classes it can match, if known
    multi: bool = False  # a path that can match several quads in one solution
    binder: str | None = None  # variable predicate bound as the object of this predicate


@dataclass
class Data:
    """What occurs outside the base, for deciding whether a pattern can match there."""

    graphs: frozenset[str]
    predicates: frozenset[str]
    classes: frozenset[str]


@dataclass(frozen=True)
class Footprint:
    """The quads a query can read: ``(predicate, classes or None)`` entries and binder predicates."""

    entries: frozenset[tuple[str, frozenset[str] | None]]
    binders: frozenset[str]


@dataclass
class Analysis:
    """The algebra of one query, reduced to what :func:`footprint` and :func:`per_part` need."""

    tree: object  # nested tuples: ("op", ...) built by _reduce
    atoms: list[Atom] = field(default_factory=list)
    everything: str = ""  # why the footprint is unbounded ("" when it is bounded)


@lru_cache(maxsize=256)
def analyse(query: str) -> Analysis:
    """Parse and reduce a query once (cached by text)."""
    analysis = Analysis(tree=None)
    try:
        algebra = translateQuery(parseQuery(query)).algebra
    except Exception as exc:  # a query rdflib cannot parse: treat as reading everything
        analysis.tree = ("many",)
        analysis.everything = f"rdflib cannot parse it ({type(exc).__name__})"
        return analysis
    analysis.tree = _reduce(algebra, {}, None, analysis)
    return analysis


def footprint(query: str) -> Footprint | None:
    """The query's footprint, or None when it can read any quad."""
    analysis = analyse(query)
    if analysis.everything:
        return None
    entries = set()
    binders = set()
    for atom in analysis.atoms:
        if atom.binder is not None:
            binders.add(atom.binder)
            continue
        assert atom.predicates is not None
        for predicate in atom.predicates:
            entries.add((predicate, atom.classes if predicate == RDF_TYPE else None))
    return Footprint(frozenset(entries), frozenset(binders))


def why_unbounded(query: str) -> str:
    """Why the footprint is everything ("" when it is bounded)."""
    return analyse(query).everything


def per_part(query: str, data: Data) -> bool:
    """Whether the query's answers are the union of its answers over the base plus each part."""
    return _count(analyse(query).tree, data) <= 1


# -- reduction of rdflib's algebra ----------------------------------------------------


def _reduce(node: object, env: dict[str, frozenset[str]], graphs: frozenset[str] | None, out: Analysis) -> tuple:
    """A small tree of ("join" | "union" | "optional" | "minus" | "guard" | "atoms" | "zero" | "many", ...)."""
    if not isinstance(node, CompValue):
        return ("many",)
    name = node.name
    if name in ("SelectQuery", "AskQuery", "ConstructQuery", "DescribeQuery"):
        if node.get("datasetClause"):
            out.everything = out.everything or "it has a FROM clause"
            return ("many",)
        return _reduce(node.p, env, graphs, out)
    if name in ("Project", "Distinct", "Reduced"):
        return _reduce(node.p, env, graphs, out)
    if name in ("OrderBy", "Filter", "Extend"):
        # the expression sees the solutions of the pattern it applies to, VALUES included
        inner_env = {**env, **_constants(node.p)}
        return ("join", _reduce(node.p, env, graphs, out), _guard(node.expr, inner_env, graphs, out))
    if name == "Join":
        left_env = {**env, **_constants(node.p2)}
        right_env = {**env, **_constants(node.p1)}
        return ("join", _reduce(node.p1, left_env, graphs, out), _reduce(node.p2, right_env, graphs, out))
    if name == "LeftJoin":
        left = _reduce(node.p1, env, graphs, out)
        right_env = {**env, **_constants(node.p1)}
        right = ("join", _reduce(node.p2, right_env, graphs, out), _guard(node.get("expr"), right_env, graphs, out))
        return ("optional", left, right)
    if name == "Minus":
        return ("minus", _reduce(node.p1, env, graphs, out), _reduce(node.p2, env, graphs, out))
    if name == "Union":
        return ("union", _reduce(node.p1, env, graphs, out), _reduce(node.p2, env, graphs, out))
    if name == "Graph":
        term = node.term
        if isinstance(term, URIRef):
            inner = frozenset({str(term)})
        elif isinstance(term, Variable) and str(term) in env:
            inner = env[str(term)]
        else:
            inner = None
        return _reduce(node.p, env, inner, out)
    if name == "ToMultiSet":
        if isinstance(node.p, CompValue) and node.p.name == "values":
            return ("zero",)
        out.everything = out.everything or "it has a subquery"
        return ("many",)
    if name == "values":
        return ("zero",)
    if name == "BGP":
        return ("atoms", tuple(_bgp_atoms(node.triples, env, graphs, out)))
    out.everything = out.everything or f"it uses {name}"
    return ("many",)


def _constants(node: object) -> dict[str, frozenset[str]]:
    """Variables that VALUES inside ``node``'s join tree binds to IRIs in every row."""
    if not isinstance(node, CompValue):
        return {}
    if node.name == "ToMultiSet" and isinstance(node.p, CompValue) and node.p.name == "values":
        rows = node.p.res
        found: dict[str, frozenset[str]] = {}
        names = {str(v) for row in rows for v in row}
        for var in names:
            values = [row.get(Variable(var)) for row in rows]
            if values and all(isinstance(v, URIRef) for v in values):
                found[var] = frozenset(str(v) for v in values)
        return found
    if node.name == "Join":
        return {**_constants(node.p1), **_constants(node.p2)}
    if node.name in ("Filter", "Extend", "Graph", "Project", "Distinct"):
        return _constants(node.p)
    if node.name == "LeftJoin":
        return _constants(node.p1)
    return {}


def _bgp_atoms(triples: list, env: dict[str, frozenset[str]], graphs: frozenset[str] | None, out: Analysis) -> list:
    atoms = []
    for s, p, o in triples:
        del s
        if isinstance(p, URIRef):
            classes = None
            if str(p) == RDF_TYPE:
                if isinstance(o, URIRef):
                    classes = frozenset({str(o)})
                elif isinstance(o, Variable) and str(o) in env:
                    classes = env[str(o)]
            atom = Atom(graphs, frozenset({str(p)}), classes)
        elif isinstance(p, Variable):
            if str(p) in env:
                atom = Atom(graphs, env[str(p)])
            else:
                binder = next(
                    (str(q) for _, q, obj in triples if isinstance(q, URIRef) and obj == p),
                    None,
                )
                if binder is None:
                    out.everything = out.everything or f"the predicate ?{p} of a pattern is not bound by the pattern"
                atom = Atom(graphs, None, binder=binder)
        elif isinstance(p, Path):
            iris, negated = _path_iris(p)
            if negated:
                out.everything = out.everything or "it has a negated property path"
            atom = Atom(graphs, None if negated else frozenset(iris), multi=_is_multi(p))
        else:
            out.everything = out.everything or "it has a pattern the analysis does not know"
            atom = Atom(graphs, None, multi=True)
        out.atoms.append(atom)
        atoms.append(atom)
    return atoms


def _path_iris(path: object) -> tuple[set[str], bool]:
    if isinstance(path, URIRef):
        return {str(path)}, False
    if isinstance(path, NegatedPath):
        return set(), True
    if isinstance(path, InvPath):
        return _path_iris(path.arg)
    if isinstance(path, MulPath):
        return _path_iris(path.path)
    if isinstance(path, SequencePath | AlternativePath):
        found: set[str] = set()
        negated = False
        for arg in path.args:
            iris, neg = _path_iris(arg)
            found |= iris
            negated = negated or neg
        return found, negated
    return set(), True


def _is_multi(path: object) -> bool:
    if isinstance(path, MulPath | SequencePath):
        return True
    if isinstance(path, InvPath):
        return _is_multi(path.arg)
    if isinstance(path, AlternativePath):
        return any(_is_multi(a) for a in path.args)
    return False


def _guard(expr: object, env: dict[str, frozenset[str]], graphs: frozenset[str] | None, out: Analysis) -> tuple:
    """EXISTS / NOT EXISTS patterns inside an expression: they must read the base only."""
    found: list[tuple] = []
    _exists(expr, env, graphs, out, found, set())
    return ("guard", tuple(found))


def _exists(node: object, env, graphs, out: Analysis, found: list, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, CompValue):
        if node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
            graph = node.graph
            if isinstance(graph, CompValue) and graph.name == "GroupGraphPatternSub":
                graph = translateGroupGraphPattern(graph)
            found.append(_reduce(graph, env, graphs, out))
            return
        for value in node.values():
            _exists(value, env, graphs, out, found, seen)
    elif isinstance(node, list | tuple):
        for value in node:
            _exists(value, env, graphs, out, found, seen)


# -- counting quads outside the base per solution -------------------------------------


def _outside(atom: Atom, data: Data) -> bool:
    if atom.graphs is not None and not (atom.graphs & data.graphs):
        return False
    if atom.predicates is None:
        return True
    if not (atom.predicates & data.predicates):
        return False
    if atom.predicates == {RDF_TYPE} and atom.classes is not None:
        return bool(atom.classes & data.classes)
    return True


def _count(tree: tuple, data: Data) -> int:
    kind = tree[0]
    if kind == "zero":
        return 0
    if kind == "atoms":
        total = 0
        for atom in tree[1]:
            if _outside(atom, data):
                total += MANY if atom.multi else 1
        return min(total, MANY)
    if kind == "join":
        return min(_count(tree[1], data) + _count(tree[2], data), MANY)
    if kind == "union":
        return max(_count(tree[1], data), _count(tree[2], data))
    if kind in ("optional", "minus"):
        return _count(tree[1], data) if _count(tree[2], data) == 0 else MANY
    if kind == "guard":
        return 0 if all(_count(t, data) == 0 for t in tree[1]) else MANY
    return MANY


__all__ = ["Data", "Footprint", "analyse", "footprint", "per_part", "why_unbounded"]
