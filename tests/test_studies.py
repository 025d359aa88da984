"""The study model: trial reports across documents, arms, measurements, adverse events, citations, conflicts.

The corpus is the sample corpus plus tests/fixtures/studies (a trial summary exercising every
part of the model, and a conference report of the same trial that counts one complete response
fewer). Refused inputs are patches of those two files: each names the line and the problem.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.conflicts import Measure, conflict_rows, measures_of
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import FactSet
from tests.conftest import edit, line_of
from tests.oracle import load_corpus

CARNK = "https://w3id.org/carnk/"
STUDIES = Path(__file__).parent / "fixtures" / "studies"
TRIAL = "https://www.clinicaltrials.gov/study/NCT99000001"


@pytest.fixture
def corpus(sample_corpus: Path) -> Path:
    for name in ("report", "congress"):
        shutil.copy(STUDIES / f"{name}.txt", sample_corpus / "documents")
        shutil.copy(STUDIES / f"{name}.yaml", sample_corpus / "facts")
    return sample_corpus


def factset(root: Path, name: str) -> FactSet:
    (found,) = [f for f in load_corpus(root).factsets if f.document.path.name == f"{name}.txt"]
    return found


def refusal(root: Path) -> InputError:
    """The one error reading the corpus gives."""
    with pytest.raises(InputError) as caught:
        load_corpus(root)
    assert not isinstance(caught.value, InputErrors), str(caught.value)
    return caught.value


def test_a_trial_report_reads_into_its_study_arms_measurements_and_observations(corpus: Path) -> None:
    report = factset(corpus, "report")
    (study,) = report.studies
    assert (study.registry, study.named_in_text, study.trial_iri) == ("NCT99000001", True, TRIAL)
    assert (study.phase, study.preliminary, study.product) == (CARNK + "Phase1And2", False, CARNK + "FT596")
    assert (study.patients, study.evaluable) == (12, 10)
    (arm,) = study.arms
    assert [d.value for d in arm.doses] == [Decimal("1E+6"), Decimal("1E+7")]
    assert {d.unit for d in arm.doses} == {"http://qudt.org/vocab/unit/NUM-PER-KiloGM"}
    assert (arm.infusions, arm.route) == (3, CARNK + "IntravenousAdministration")
    outcomes = {o.outcome_id: o for o in study.outcomes}
    assert (outcomes["response"].numerator, outcomes["response"].denominator) == (9, 12)
    assert outcomes["response"].percentage == 75
    day_30 = outcomes["response-day-30"]
    assert (day_30.numerator, day_30.percentage, day_30.denominator) == (None, 60, 10), "no invented count"
    assert day_30.population == CARNK + "EvaluablePatients"
    assert (day_30.time.value, day_30.time.unit) == (30, "http://purl.obolibrary.org/obo/UO_0000033")
    persistence = outcomes["persistence"].time
    assert (persistence.value, persistence.bound) == (2, CARNK + "Approximately")
    events = {e.event.removeprefix(CARNK): e for e in study.adverse_events}
    assert (events["CytokineReleaseSyndrome"].count, events["CytokineReleaseSyndrome"].minimum_grade) == (2, 3)
    assert events["Neurotoxicity"].count == 0
    claims = {(f.predicate.removeprefix(CARNK), f.object.removeprefix(CARNK)): f for f in report.facts}
    assert claims[("observedAdverseEvent", "Neurotoxicity")].polarity == "Negated", "'no ... observed' stays negated"
    assert claims[("observedAdverseEvent", "CytokineReleaseSyndrome")].polarity == "Affirmed"
    finding = claims[("engineeredWith", "InducibleCaspase9")]
    assert (finding.subject, finding.study) == (CARNK + "FT596", study.iri)


def test_a_conference_report_is_preliminary_and_a_curator_linked_trial_is_marked_so(corpus: Path) -> None:
    (study,) = factset(corpus, "congress").studies
    assert study.preliminary, "a conference report's figures are preliminary"
    assert (study.trial_iri, study.named_in_text) == (TRIAL, False)


def test_reference_entries_become_works_and_markers_link_their_sentence_s_statements(corpus: Path) -> None:
    report = factset(corpus, "report")
    (work,) = report.works
    assert (work.number, work.doi) == (1, "10.1000/xyz-123(4)")
    assert work.citation.startswith("Doe J, et al.")
    cited = [f for f in report.facts if f.cites]
    assert [(f.fact_id, f.cites) for f in cited] == [("il15-persistence", (work.iri,))]
    assert report.unaccounted() == [], "the entry is accounted for by its work, the heading by its exclusion"


def test_a_reference_entry_s_pmid_and_registry_number_are_read(sample_corpus: Path) -> None:
    from carnk_ld.citations import works_of
    from carnk_ld.documents import read_document

    path = sample_corpus / "documents" / "refs.txt"
    path.write_text("Shown [1].\n[1] Roe R, et al. Lancet 2021. PMID: 99999999. NCT99000002\n", encoding="utf-8")
    (work,) = works_of(read_document(path))
    assert (work.number, work.doi, work.pmid, work.registry) == (1, None, "99999999", ("NCT99000002",))


def test_the_release_joins_reports_of_one_trial_and_lists_their_conflict(corpus: Path, cli) -> None:
    out = corpus / "build"
    assert cli("build", "--root", str(corpus), "--out", str(out)).exit_code == 0
    with (out / "conflicts.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["measure"], r["document_a"], r["value_a"], r["document_b"], r["value_b"]) for r in rows] == [
        (CARNK + "CompleteResponse", "congress", "5/12", "report", "6/12")
    ], "the overall response (only one document gives it) and the counts both give alike are no conflict"
    store = ox.Store()
    store.load(path=str(out / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    reports = {
        row["report"].value
        for row in store.query(f"SELECT ?report WHERE {{ GRAPH ?g {{ ?report <{CARNK}reportsOnTrial> <{TRIAL}> }} }}")  # type: ignore[union-attr]
    }
    assert reports == {f"{CARNK}kg/study/report/trial", f"{CARNK}kg/study/congress/trial"}
    coverage = (out / "coverage.tsv").read_text(encoding="utf-8")
    assert "\treference\twork/1\t" in coverage


def test_a_report_of_no_registered_trial_never_conflicts(corpus: Path, cli) -> None:
    edit(corpus / "facts" / "congress.yaml", "    registry: NCT99000001\n", "")
    edit(
        corpus / "facts" / "congress.yaml",
        '    registry_note: "The report names no registry number; its trial is the one report.txt names."\n',
        "",
    )
    out = corpus / "build"
    assert cli("build", "--root", str(corpus), "--out", str(out)).exit_code == 0
    assert (out / "conflicts.tsv").read_text(encoding="utf-8").count("\n") == 1, "only the header"


def test_a_measure_of_one_arm_or_one_subgroup_is_kept_apart(corpus: Path) -> None:
    path = corpus / "facts" / "report.yaml"
    edit(path, "        among: evaluable\n", "        among: evaluable\n        arm: two-doses\n")
    edit(path, "        count: 6\n", "        count: 6\n        subgroup: BCellLymphoma\n")
    report = factset(corpus, "report")
    outcomes = {o.outcome_id: o for o in report.studies[0].outcomes}
    assert outcomes["response-day-30"].arm == f"{CARNK}kg/study/report/trial/arm/two-doses"
    assert outcomes["complete-response"].subgroup == CARNK + "BCellLymphoma"
    measures = {(m.measure.removeprefix(CARNK), m.time_point, m.subgroup) for m in measures_of(report)}
    assert ("OverallResponse", "30 day", "") not in measures, "arms are a document's own: compared with none"
    assert ("CompleteResponse", "", CARNK + "BCellLymphoma") in measures


def measure(
    document: str, numerator: str = "", denominator: str = "", percentage: str = "", time: str = "", subgroup: str = ""
) -> Measure:
    outcome = CARNK + "CompleteResponse"
    return Measure(TRIAL, outcome, time, subgroup, "", document, numerator, denominator, percentage, "v", "q")


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        (measure("a", "8", "11"), measure("b", "7", "11"), True),
        (measure("a", "8", "11"), measure("b", "8", "11", "73"), False),  # a percentage one omits is no conflict
        (measure("a", percentage="48.6"), measure("b", percentage="50"), True),
        (measure("a", "8", "11"), measure("a", "7", "11"), False),  # one document: its own measures
        (measure("a", "8", "11", time="30 day"), measure("b", "7", "11", time="100 day"), False),
        (measure("a", "8", "11"), measure("b", "8", "12"), True),
        (measure("a", "8", "11"), measure("b", "4", subgroup=CARNK + "BCellLymphoma"), False),  # some patients only
    ],
)
def test_conflicts_are_differing_values_of_one_measure_in_two_documents(a: Measure, b: Measure, conflict: bool) -> None:
    assert bool(conflict_rows([a, b])) == conflict


REFUSALS = [
    # (file, old, new, message, line of)
    (
        "report.yaml",
        'quote: "Interleukin-15 armoured CAR NK cells persisted longer in mice"',
        'quote: "Interleukin-15 armoured CAR NK cells persisted longer in mice [1]"',
        "quote includes the citation marker [1]",
        "persisted longer in mice [1]",
    ),
    (
        "congress.yaml",
        '    registry_note: "The report names no registry number; its trial is the one report.txt names."\n',
        "",
        "NCT99000001 does not occur in congress.txt",
        "registry: NCT99000001",
    ),
    (
        "report.yaml",
        "{value: 1 × 10^6, unit: cells-per-kg}",
        "{value: 1 × 10^5, unit: cells-per-kg}",
        "dose value 100000 is not stated in its quote",
        "1 × 10^5",
    ),
    (
        "report.yaml",
        "    subject: FT596\n    predicate: engineeredWith",
        "    subject: CARNKCellTherapy\n    predicate: engineeredWith",
        "is about the study or its product, not the class CARNKCellTherapy",
        "subject: CARNKCellTherapy",
    ),
    ("report.yaml", "min_grade: 3", "min_grade: 6", "min_grade must be a grade from 1 to 5, got 6", "min_grade: 6"),
    ("report.yaml", "count: 2\n", "count: 4\n", "count 4 is not stated in its quote", "count: 4"),
    ("report.yaml", "percent: 60", "percent: 160", "percent 160 is over 100", "percent: 160"),
    (
        "report.yaml",
        'quote: "No neurotoxicity was observed."',
        'quote: "neurotoxicity was observed"',
        "count 0 is not stated in its quote",
        "type: Neurotoxicity",
    ),
    (
        "report.yaml",
        "registry: NCT99000001",
        "registry: NCT9900001",
        "registry must be a ClinicalTrials.gov number",
        "registry: NCT9900001",
    ),
    ("report.yaml", "unit: day", "unit: days", "at unit must be one of", "unit: days"),
    (
        "report.yaml",
        "    registry: NCT99000001\n",
        "",
        "the study's sentence names the trial NCT99000001 but the study gives no registry",
        'quote: "A phase 1/2 trial',
    ),
    (
        "report.yaml",
        "        percent: 75\n",
        "        percent: 75\n        arm: nowhere\n",
        "arm 'nowhere' is not an arm of study 'trial'",
        "arm: nowhere",
    ),
    (
        "report.yaml",
        "        percent: 75\n",
        "        percent: 75\n        subgroup: NKCell\n",
        "subgroup NKCell is not a kind of Disease",
        "subgroup: NKCell",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message", "at"), REFUSALS, ids=[r[3][:40] for r in REFUSALS])
def test_a_wrong_study_input_is_refused_at_its_line(
    corpus: Path, name: str, old: str, new: str, message: str, at: str
) -> None:
    path = corpus / "facts" / name
    edit(path, old, new)
    error = refusal(corpus)
    assert message in error.message, error.message
    if at == "type: Neurotoxicity":  # the count's line: the one after the type's
        assert error.location.line == line_of(path, at) + 2
    else:
        assert error.location.line == line_of(path, at), str(error)


# -- Review of issue 15: wrong inputs that were accepted -------------------------------------------


def restate(root: Path, name: str, old: str, new: str) -> None:
    """Edit a fixture document and the quotes of its facts alike, and record the document's new checksum."""
    import hashlib

    document, facts = root / "documents" / f"{name}.txt", root / "facts" / f"{name}.yaml"
    edit(document, old, new)
    text = facts.read_text(encoding="utf-8").replace(old, new)
    sha = text.split("sha256: ", 1)[1].split("\n", 1)[0]
    facts.write_text(text.replace(sha, hashlib.sha256(document.read_bytes()).hexdigest()), encoding="utf-8")


ACCEPTED = [
    # (document edit of report.txt or None, facts edit of report.yaml, message fragments, the line's text, lines below)
    (
        ("occurred in two patients.", "occurred in two patients (150%)."),
        ("        count: 2\n", "        count: 2\n        percent: 150\n"),
        ["percent 150 is over 100"],
        "percent: 150",
        0,
    ),
    (
        ("occurred in two patients.", "occurred in 13 patients."),
        ("        count: 2\n", "        count: 13\n"),
        ["13 patients, more than 12"],
        "count: 13",
        0,
    ),
    (
        ("occurred in two patients.", "occurred in two patients and did not resolve."),
        ("        count: 2\n", "        count: 0\n"),
        ["count 0 is not stated in its quote"],
        "count: 0",
        0,
    ),
    (
        None,
        ("        count: 6\n        of: 12", "        count: 6\n        of: 75"),
        ["of (75) exceeds patients (12)"],
        "of: 75",
        0,
    ),
    (
        None,
        ("        percent: 60\n        of: 10", "        percent: 60\n        of: 12"),
        ["of (12) exceeds evaluable (10)"],
        "percent: 60",
        1,
    ),
    (None, ("        percent: 75", "        percent: 12"), ["percent 12", "9 of 12"], "percent: 12", 0),
    (None, ("at: {value: 30, unit: day}", "at: {value: 30, unit: cells}"), ["at unit", "'cells'"], "unit: cells}", 0),
    (None, ("{value: 1e7, unit: cells-per-kg}", "{value: 1e7, unit: day}"), ["dose unit", "'day'"], "unit: day}", 0),
    (
        None,
        ("    subject: FT596\n    predicate: engineeredWith", "    subject: NKX019\n    predicate: engineeredWith"),
        ["finding of study 'trial'", "NKX019"],
        "subject: NKX019",
        0,
    ),
    (
        None,
        ("    registry: NCT99000001", '    registry: NCT99000002\n    registry_note: "identified elsewhere"'),
        ["names the trial NCT99000001"],
        "registry: NCT99000002",
        0,
    ),
    (
        None,
        (
            "      - id: persistence\n",
            "      - id: nobody\n        type: OverallResponse\n"
            '        quote: "No neurotoxicity was observed."\n        count: 0\n        of: 0\n'
            "      - id: persistence\n",
        ),
        ["of must be at least 1"],
        "of: 0",
        0,
    ),
    (None, ("        percent: 75", "        percent: 075"), ["percent must be", "'075'"], "percent: 075", 0),
    (
        None,
        ("{value: 1e7, unit: cells-per-kg}", '{value: "1e7", unit: cells-per-kg}'),
        ["dose value must be", "'1e7'"],
        'value: "1e7"',
        0,
    ),
]


@pytest.mark.parametrize(
    ("document", "facts", "messages", "at", "below"), ACCEPTED, ids=[" ".join(a[2])[:40] for a in ACCEPTED]
)
def test_a_wrong_value_the_reader_accepted_is_refused_at_its_line(
    corpus: Path, document: tuple[str, str] | None, facts: tuple[str, str], messages: list[str], at: str, below: int
) -> None:
    """Each of these was published as if the document said it (review of issue 15)."""
    if document is not None:
        restate(corpus, "report", *document)
    path = corpus / "facts" / "report.yaml"
    edit(path, *facts)
    error = refusal(corpus)
    for message in messages:
        assert message in error.message, error.message
    assert error.location.line == line_of(path, at) + below, str(error)


def test_two_summarised_publications_are_two_works(sample_corpus: Path) -> None:
    """A summary of two publications ('Reference:' twice) cites two works, not one merged work/summarised."""
    from carnk_ld.citations import works_of
    from carnk_ld.documents import read_document

    path = sample_corpus / "documents" / "refs.txt"
    path.write_text(
        "Shown.\nReference: Roe R, et al. Lancet 2021. doi:10.1000/first\n"
        "Reference: Poe P, et al. Blood 2022. doi:10.1000/second\n",
        encoding="utf-8",
    )
    works = works_of(read_document(path))
    assert [w.doi for w in works] == ["10.1000/first", "10.1000/second"]
    assert len({w.iri for w in works}) == 2, [w.iri for w in works]


def test_a_rate_among_evaluable_patients_does_not_conflict_with_one_among_all_treated(corpus: Path) -> None:
    """'60% among 10 evaluable' and '50% of the 12 patients treated' measure different patients: no conflict."""
    restate(
        corpus,
        "congress",
        "may change.\n",
        "may change.\nAt day 30, the overall response rate was 50% of the 12 patients treated.\n",
    )
    edit(
        corpus / "facts" / "congress.yaml",
        "        of: 12\n",
        "        of: 12\n"
        "      - id: response-day-30\n        type: OverallResponse\n"
        '        quote: "At day 30, the overall response rate was 50% of the 12 patients treated."\n'
        "        percent: 50\n        of: 12\n        among: treated\n        at: {value: 30, unit: day}\n",
    )
    measures = [*measures_of(factset(corpus, "report")), *measures_of(factset(corpus, "congress"))]
    rows = [r for r in conflict_rows(measures) if r[1] == CARNK + "OverallResponse"]
    assert rows == [], rows


def test_a_measure_s_value_reads_as_the_document_writes_it(corpus: Path) -> None:
    """conflicts.tsv's value columns show '60%', not Decimal's normalised '6E+1%'."""
    (study,) = factset(corpus, "report").studies
    outcomes = {o.outcome_id: o for o in study.outcomes}
    assert outcomes["response-day-30"].value_text() == "60%"
    assert outcomes["response"].value_text() == "9/12 (75%)"
