"""QC on a par with ROBOT report: whatever ROBOT's own queries find, carnk-ld's QC finds too.

ROBOT's report queries and default profile are read from ../shared/conformance/robot-report
(never copied here). ROBOT runs each query over the ontology file's triples as the default
graph and reports every row as a violation of the rule, at the profile's level. A carnk-ld
check claims a rule with a ``# robot: RULE ...`` header; a rule's finding is matched when a
claiming check at the same or a stricter severity reports the same entity. A check excuses
a rule for terms outside a namespace with ``# robot-exception: RULE outside NAMESPACE: REASON``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld import qc
from tests.conftest import SHARED
from tests.oracle import build_graph, dataset_store, load_corpus, run_checks

ROBOT = SHARED / "conformance" / "robot-report"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "robot-parity" / "violations.ttl"
ONTOLOGY_GRAPH = ox.NamedNode("https://w3id.org/carnk/kg/graph/ontology")
C = "https://w3id.org/carnk/"
STRICTNESS = {"ERROR": 0, "WARN": 1, "INFO": 2}

pytestmark = pytest.mark.skipif(
    not (ROBOT / "report_profile.txt").is_file(), reason="../shared/conformance/robot-report is absent in this clone"
)

#: The term of tests/fixtures/robot-parity/violations.ttl that violates each rule.
CASES = {
    "duplicate_label": C + "Twin",
    "duplicate_label_synonym": C + "Colour",
    "label_whitespace": C + "Padded",
    "missing_definition": C + "Undefined",
    "missing_label": C + "Unlabelled",
    "missing_ontology_description": C + "ontology",
    "missing_ontology_license": C + "ontology",
    "missing_ontology_title": C + "ontology",
    "missing_superclass": C + "Orphan",
    "multiple_labels": C + "TwoLabels",
}
EXTERNAL = "http://example.org/vocab/Thing"

_CLAIM = re.compile(r"^#[ \t]*robot:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_EXCEPTION = re.compile(r"^#[ \t]*robot-exception:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_EXCEPTION_FORM = re.compile(r"(\S+) outside (\S+?): (\S.*)")


@dataclass(frozen=True)
class Exemption:
    """ROBOT findings of ``rule`` on terms outside ``namespace`` that a check excuses, and why."""

    rule: str
    namespace: str
    reason: str
    check: str


@pytest.fixture(scope="module")
def checks(project_root: Path) -> list[qc.Check]:
    return qc.load_checks(project_root / "queries" / "checks")


def profile() -> dict[str, str]:
    """ROBOT's default profile: rule name to level."""
    levels = {}
    for line in (ROBOT / "report_profile.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            level, rule = line.split("\t")
            levels[rule] = level
    return levels


def claims(checks: list[qc.Check]) -> dict[str, list[qc.Check]]:
    """Each ROBOT rule that a check claims to cover, with the checks that claim it."""
    claimed: dict[str, list[qc.Check]] = {}
    for check in checks:
        for line in _CLAIM.findall(check.query):
            for rule in line.split():
                claimed.setdefault(rule, []).append(check)
    return claimed


def exemptions(checks: list[qc.Check]) -> list[Exemption]:
    found = []
    for check in checks:
        for line in _EXCEPTION.findall(check.query):
            match = _EXCEPTION_FORM.fullmatch(line)
            assert match, f"{check.path}: '# robot-exception: {line}' is not 'RULE outside NAMESPACE: REASON'"
            found.append(Exemption(match.group(1), match.group(2), match.group(3), check.rule))
    return found


def robot_store(path: Path) -> ox.Store:
    """The ontology file's triples as the default graph, which is what ROBOT's queries see."""
    store = ox.Store()
    store.load(path=path, format=ox.RdfFormat.TURTLE)
    return store


def robot_findings(store: ox.Store) -> list[tuple[str, str, str]]:
    """(level, rule, entity) of every row of every ROBOT query in the profile."""
    rows = []
    for rule, level in sorted(profile().items()):
        solutions = store.query((ROBOT / "queries" / f"{rule}.rq").read_text(encoding="utf-8"))
        assert isinstance(solutions, ox.QuerySolutions)
        rows += [(level, rule, row["entity"].value) for row in solutions if row["entity"] is not None]
    return sorted(set(rows))


def misses(
    robot: list[tuple[str, str, str]], findings: list[qc.Finding], checks: list[qc.Check]
) -> list[tuple[str, str, str]]:
    """ROBOT's findings that no claiming check reports at the same or a stricter severity, unless excused."""
    claimed = claims(checks)
    excused = exemptions(checks)
    found = {(f.rule, f.entity) for f in findings}
    missed = []
    for level, rule, entity in robot:
        if any(e.rule == rule and not entity.startswith(e.namespace) for e in excused):
            continue
        covering = [c for c in claimed.get(rule, []) if STRICTNESS[c.severity] <= STRICTNESS[level]]
        if not any((c.rule, entity) in found for c in covering):
            missed.append((level, rule, entity))
    return missed


def fixture_findings(checks: list[qc.Check]) -> list[qc.Finding]:
    """carnk-ld's checks over the fixture as the release's ontology graph."""
    store = ox.Store()
    for triple in robot_store(FIXTURE):
        store.add(ox.Quad(triple.subject, triple.predicate, triple.object, ONTOLOGY_GRAPH))
    findings = []
    for check in checks:
        for entity, prop, value in qc.check_rows(check, store):
            findings.append(qc.Finding(check.severity, check.rule, entity, prop, value, "", None, check.fix))
    return findings


def test_carnk_qc_finds_every_violation_robot_report_finds_in_the_ontology(project_root: Path, checks) -> None:
    corpus = load_corpus(project_root)
    findings = run_checks(checks, dataset_store(build_graph(corpus.ontology, corpus.factsets)), corpus.ontology)
    robot = robot_findings(robot_store(project_root / "ontology" / "carnk.ttl"))
    assert misses(robot, findings, checks) == []


def test_claims_and_exceptions_name_rules_of_robot_profile_with_a_reason(checks) -> None:
    rules = profile()
    assert set(claims(checks)) <= set(rules)
    for exemption in exemptions(checks):
        assert exemption.rule in rules
        assert exemption.check in {c.rule for c in claims(checks)[exemption.rule]}, "excused by a check that covers it"
        assert exemption.namespace.startswith(("http://", "https://")) and len(exemption.reason) > 40


def test_every_claimed_rule_has_a_fixture_violation(checks) -> None:
    assert set(claims(checks)) == set(CASES), "a claim no fixture proves could pass the parity test vacuously"


@pytest.mark.parametrize("rule", sorted(CASES))
def test_robot_query_and_the_claiming_check_both_flag_the_fixture_violation(checks, rule: str) -> None:
    robot = robot_findings(robot_store(FIXTURE))
    assert (profile()[rule], rule, CASES[rule]) in robot
    claiming = {c.rule for c in claims(checks)[rule]}
    assert any(f.rule in claiming and f.entity == CASES[rule] for f in fixture_findings(checks))


def test_parity_fails_on_a_missed_or_laxer_finding_and_honours_exceptions_only_outside_their_namespace(
    checks,
) -> None:
    robot = robot_findings(robot_store(FIXTURE))
    assert misses(robot, fixture_findings(checks), checks) == []
    unmatched = misses(robot, [], checks)
    assert {(rule, entity) for _, rule, entity in unmatched} >= set(CASES.items())
    assert not any(entity == EXTERNAL for _, _, entity in unmatched)
    assert any(entity == EXTERNAL for _, _, entity in robot)
    lax = [replace(c, severity="INFO") if c.rule == "missing-label" else c for c in checks]
    assert ("ERROR", "missing_label", C + "Unlabelled") in misses(robot, fixture_findings(lax), lax)
