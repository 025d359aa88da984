"""SHACL validation results, from the fast engine (:mod:`carnk_ld.shacl`) or from pySHACL.

The data graph is the whole release (ontology included), so ``sh:targetClass`` reaches
instances of subclasses through the ontology's ``rdfs:subClassOf`` triples; without the
ontology pySHACL would silently find no focus nodes for them. Each result is rendered
with the file and line its focus node came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from pyshacl.errors import ReportableRuntimeError
from rdflib.namespace import SH

from carnk_ld.corpusfiles import corpus_files, read_input_text
from carnk_ld.errors import InputError, Location, Locator
from carnk_ld.rdfio import RDF_SUFFIXES, parse_rdf_file, serialize_bytes
from carnk_ld.scopes import refuse_service, service_line
from carnk_ld.shacl import Result, fast_results, malformed_shapes, to_rdflib_term
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


def load_shapes(shapes_dir: Path, *, display_dir: Path | None = None) -> rdflib.Graph:
    """Parse every ``*.ttl`` under ``shapes/`` strictly, then hand them to rdflib for pySHACL."""
    files = corpus_files(shapes_dir, RDF_SUFFIXES, display_dir or shapes_dir)
    if not files:
        raise InputError(display_dir or shapes_dir, "no SHACL shapes found", "a corpus needs shapes/*.ttl")
    triples: list[ox.Triple] = []
    for path in files:
        shown = (display_dir / path.name) if display_dir else path
        parsed = parse_rdf_file(path, display_path=shown)
        _refuse_service(parsed, path, shown)
        malformed_shapes(parsed, shown, read_input_text(path, shown) if path.suffix in (".ttl", ".nt") else "")
        triples.extend(parsed)
    return to_rdflib(triples)


_SH = "http://www.w3.org/ns/shacl#"
#: Where SHACL and SHACL-AF hold SPARQL text that pySHACL or the fast engine runs.
_QUERY_PREDICATES = {_SH + name for name in ("select", "ask", "construct", "update")}


def _refuse_service(triples: list[ox.Triple], path: Path, shown: Path) -> None:
    """Refuse SERVICE in a shape's SPARQL (and in the prefix lines engines write before it), at its line."""
    texts = [
        t.object.value for t in triples if t.predicate.value in _QUERY_PREDICATES and isinstance(t.object, ox.Literal)
    ]
    values: dict[tuple[str, str], str] = {}
    for t in triples:
        if t.predicate.value in (_SH + "prefix", _SH + "namespace") and isinstance(t.object, ox.Literal):
            values[(str(t.subject), t.predicate.value)] = t.object.value
    for (subject, predicate), prefix in values.items():
        if predicate == _SH + "prefix":
            texts.append(f"PREFIX {prefix}: <{values.get((subject, _SH + 'namespace'), '')}>")
    for text in texts:
        line = service_line(text)
        if line is not None:
            at = _line_in_file(path, text.split("\n")[line - 1])
            refuse_service(text, shown, first_line=None if at is None else at - line + 1)


def _line_in_file(path: Path, line_text: str) -> int | None:
    """The line of the file holding a line of a literal (None when escapes hide it: the file is still named)."""
    needle = line_text.strip()
    try:
        lines = read_input_text(path, path).splitlines()
    except InputError:
        return None
    return next((number for number, line in enumerate(lines, start=1) if needle and needle in line), None)


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    """Copy triples into an rdflib graph through N-Triples (fast and lossless)."""
    graph = rdflib.Graph()
    graph.parse(data=serialize_bytes(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def fast_validate(
    triples: list[ox.Triple],
    shapes: rdflib.Graph,
    sources: dict[str, Location] | None = None,
    *,
    store: ox.Store | None = None,
) -> ValidationResult:
    """The fast engine's results, flattened exactly as :func:`pyshacl_validate` flattens pySHACL's."""
    results = fast_results(triples, shapes, store)
    return result_of(violations_of(results, sources or {}), "fast engine, exact to pySHACL")


def result_of(violations: Iterable[Violation], engine: str) -> ValidationResult:
    """Violations in report order; the graph conforms when none is of severity Violation."""
    ordered = sorted(violations, key=_order)
    return ValidationResult(not any(v.severity == "Violation" for v in ordered), tuple(ordered), engine=engine)


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
    try:
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
        )
    except (ReportableRuntimeError, NotImplementedError, re.error) as exc:  # pySHACL's word on shapes it cannot run
        reason = str(exc.args[0] if exc.args else exc).strip().split("\n", 1)[0]
        raise InputError("shapes", f"pySHACL cannot validate with these shapes: {reason}") from None
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
