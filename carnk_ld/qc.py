"""Ontology quality control, the way ROBOT report does it, with SPARQL checks as files.

Each ``queries/checks/<rule>-violation.rq`` selects ``?entity ?property ?value`` rows that
violate the rule (ODK convention: a clean ontology returns zero rows). Header comments
give its severity (ERROR fails the build, WARN and INFO are reported in the release) and
may declare ``# scope: document`` (see :mod:`carnk_ld.scopes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.corpusfiles import corpus_files, read_input_text
from carnk_ld.errors import InputError, Location, Locator, sparql_syntax_error
from carnk_ld.ontology import Ontology
from carnk_ld.scopes import Scope, declared_graphs, declared_scope, refuse_service
from carnk_ld.vocab import compact_iri, declared_prefixes, prefix_conflict

SEVERITIES = ("ERROR", "WARN", "INFO")
_HEADER_RE = re.compile(r"^#\s*(severity|title|description|fix):\s*(.+?)\s*$")


@dataclass(frozen=True)
class Check:
    """One SPARQL check with its metadata."""

    rule: str
    severity: str
    title: str
    description: str
    fix: str
    query: str
    path: Path
    scope: Scope = "graph"


@dataclass(frozen=True)
class Finding:
    """One row of the QC report."""

    severity: str
    rule: str
    entity: str
    property: str
    value: str
    label: str
    location: Location | None
    fix: str

    def render(self) -> str:
        """``file:line: ERROR rule: entity (label) property value`` plus the fix."""
        where = f"{self.location}: " if self.location else ""
        label = f" ({self.label})" if self.label else ""
        value = compact_iri(self.value) if self.value.startswith(("http://", "https://")) else self.value
        detail = " ".join(x for x in (compact_iri(self.property), value) if x)
        text = f"{where}{self.severity} {self.rule}: <{self.entity}>{label} {detail}"
        return text if self.severity == "INFO" else f"{text}\n    fix: {self.fix}"


def load_checks(directory: Path, *, display_dir: Path | None = None) -> list[Check]:
    """Read every ``*-violation.rq`` file; a check without a valid severity is an input error."""
    checks = []
    files = corpus_files(directory, ("-violation.rq",), display_dir or directory)
    if not files:
        raise InputError(
            display_dir or directory,
            "no ontology QC checks (*-violation.rq) found",
            "copy queries/checks/ from carnk-ld; without checks nothing would be checked",
        )
    for path in files:
        shown = (display_dir / path.name) if display_dir else path
        text = read_input_text(path, shown)
        meta: dict[str, str] = {}
        for line in text.split("\n"):
            match = _HEADER_RE.match(line)
            if match:
                meta[match.group(1)] = match.group(2)
        severity = meta.get("severity", "")
        if severity not in SEVERITIES:
            raise InputError(
                Location(shown, 1),
                f"QC check has no valid '# severity:' header (got {severity!r})",
                f"start the file with '# severity: ' and one of {', '.join(SEVERITIES)}",
            )
        refuse_service(text, shown)  # before any engine sees it: its SERVICE calls bypass carnk_ld.netguard
        try:
            ox.Store().query(text)
        except SyntaxError as exc:
            raise sparql_syntax_error(exc, shown) from None
        scope, scope_line, problem = declared_scope(text)
        if problem:
            raise InputError(Location(shown, scope_line), f"QC check: {problem}")
        _, graphs_line, problem = declared_graphs(text)
        if problem:
            raise InputError(Location(shown, graphs_line), f"QC check: {problem}")
        for prefix_line, name, namespace in declared_prefixes(text):
            conflict = prefix_conflict(name, namespace)
            if conflict:
                raise InputError(
                    Location(shown, prefix_line),
                    conflict,
                    "use the release's namespace, or another prefix name (carnk_ld/release.ttl has the list)",
                )
        rule = path.name.removesuffix("-violation.rq")
        title, description, fix = meta.get("title", rule), meta.get("description", ""), meta.get("fix", "")
        checks.append(Check(rule, severity, title, description, fix, text, shown, scope))
    return checks


def check_rows(check: Check, store: ox.Store) -> list[tuple[str, str, str]]:
    """The (entity, property, value) rows of one check over the store's union of graphs."""
    solutions = store.query(check.query, use_default_graph_as_union=True)
    if not isinstance(solutions, ox.QuerySolutions) or {v.value for v in solutions.variables} != set(_VARS):
        raise InputError(check.path, "a QC check must be a SELECT of ?entity ?property ?value")
    return [tuple(_text(row[name]) for name in _VARS) for row in solutions]  # type: ignore[misc]


def findings_of(
    checks: list[Check],
    rows: dict[str, list[tuple[str, str, str]]],
    ontology: Ontology,
    sources: Locator,
) -> list[Finding]:
    """Findings from each check's rows, located with ``sources`` (anything with ``.get``)."""
    findings = []
    for check in checks:
        for entity_iri, prop, value in rows[check.rule]:
            term = ontology.terms.get(entity_iri)
            location = sources.get(entity_iri) or (
                Location(ontology.path, ontology.line_of(entity_iri)) if term else None
            )
            findings.append(
                Finding(
                    check.severity,
                    check.rule,
                    entity_iri,
                    prop,
                    value,
                    (term.label or "") if term else "",
                    location,
                    check.fix,
                )
            )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(set(findings), key=lambda f: (order[f.severity], f.rule, f.entity, f.property, f.value))


_VARS = ("entity", "property", "value")


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return "" if term is None else term.value


REPORT_HEADER = ("severity", "rule", "entity", "label", "property", "value")


def report_rows(findings: list[Finding]) -> list[tuple[str, ...]]:
    """Rows of ``qc-report.tsv``."""
    return [(f.severity, f.rule, f.entity, f.label, f.property, f.value) for f in findings]


def report_text(checks: list[Check], findings: list[Finding]) -> str:
    """The readable QC report: counts per severity, then every finding."""
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    lines = [
        f"Ontology QC: {len(checks)} checks; " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES),
    ]
    for check in checks:
        n = sum(1 for f in findings if f.rule == check.rule)
        lines.append(f"  {check.severity:5} {check.rule}: {n} ({check.title})")
    lines += [f.render() for f in findings]
    return "\n".join(lines) + "\n"


def errors_of(findings: list[Finding]) -> list[Finding]:
    """Findings that fail the build."""
    return [f for f in findings if f.severity == "ERROR"]
