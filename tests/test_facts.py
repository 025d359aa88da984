"""Stage 2: resolving curated facts against documents and the ontology.

Every fact of the project's corpus is checked generically (its quote is found in the document
it names, at its offsets); how negation, hedges and studies are read is checked on the sample
corpus, whose facts the tests own. Facts that must be refused are cases of tests/bad_inputs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from carnk_ld.documents import read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import FactSet, load_facts
from tests.conftest import edit, line_of, write_sample_corpus
from tests.oracle import classified, load_corpus

CARNK = "https://w3id.org/carnk/"


@pytest.fixture(scope="module")
def project_factsets(project_root: Path) -> list[FactSet]:
    factsets = load_corpus(project_root).factsets
    assert factsets, f"{project_root} has no facts"
    return factsets


@pytest.fixture(scope="module")
def sample(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> FactSet:
    root = write_sample_corpus(project_root, tmp_path_factory.mktemp("facts") / "sample")
    (factset,) = [f for f in load_corpus(root).factsets if f.document.path.name == "sample.txt"]
    return factset


def test_every_quote_is_located_at_its_offsets_in_the_document_its_file_names(
    project_root: Path, project_factsets: list[FactSet]
) -> None:
    for factset in project_factsets:
        curated = yaml.safe_load((project_root / "facts" / f"{factset.document.path.stem}.yaml").read_text("utf-8"))
        assert factset.document.path.name == curated["document"]
        text = (project_root / "documents" / curated["document"]).read_text(encoding="utf-8-sig")
        assert factset.document.text == text
        quotes = {f["id"]: f["quote"] for f in curated["facts"]}
        assert len(factset.facts) >= len(quotes)
        for fact in factset.facts:
            ev = fact.evidence
            if fact.fact_id in quotes:
                assert ev.quote == quotes[fact.fact_id]
            assert text.count(ev.quote) == 1, f"{fact.fact_id}: the quote must occur exactly once"
            assert text[ev.start : ev.end] == ev.quote
            assert ev.segment.start <= ev.start < ev.end <= ev.segment.end
            assert text[ev.start - len(ev.prefix) : ev.start] == ev.prefix
            assert text[ev.end : ev.end + len(ev.suffix)] == ev.suffix


def test_every_segment_is_accounted_for(project_factsets: list[FactSet], sample: FactSet) -> None:
    for factset in [*project_factsets, sample]:
        assert factset.unaccounted() == [], factset.document.path.name
    excluded = {e.segment.text: e.reason for e in sample.exclusions}
    assert excluded == {
        "Sample review: CAR NK cells in brief": "Heading",
        "In short, CAR-NK cells are a promising platform.": "Summary",
        "NK cells for CAR engineering come from several sources:": "ListIntroduction",
    }


def by_id(factset: FactSet, fact_id: str):
    return next(f for f in factset.facts if f.fact_id == fact_id)


def test_negation_and_hedges_are_kept_and_never_plain(sample: FactSet) -> None:
    gvhd = by_id(sample, "allogeneic-nk-no-gvhd")
    assert (gvhd.polarity, gvhd.plain) == ("Negated", False)
    assert gvhd.compared_to == CARNK + "CARTCellTherapy"
    assert by_id(sample, "nk-crs-uncommon").frequency == "Uncommon"
    assert not by_id(sample, "nk-crs-uncommon").plain
    assert by_id(sample, "carnk-minimal-gvhd").frequency == "MinimalOrNone"
    assert not by_id(sample, "carnk-minimal-gvhd").plain
    assert by_id(sample, "carnk-off-the-shelf-potential").modality == "Possible"
    assert not by_id(sample, "carnk-off-the-shelf-potential").plain
    usually = by_id(sample, "carnk-intravenous")
    assert (usually.frequency, usually.plain) == ("Usually", True)
    also = by_id(sample, "carnk-locoregional")
    assert (also.frequency, also.plain) == ("Sometimes", True)
    implied = by_id(sample, "cart-gvhd")
    assert (implied.modality, implied.plain) == ("Implied", True)
    assert not by_id(sample, "carnk-therapy-is-immunotherapy").plain  # is_a: evidence for an ontology axiom


def test_study_numbers_are_integers_and_absent_events_are_negated(sample: FactSet) -> None:
    (study,) = sample.studies
    assert study.patients == 12
    (outcome,) = study.outcomes
    assert (outcome.numerator, outcome.denominator) == (7, 12) and outcome.type_iri == CARNK + "CompleteResponse"
    assert [(e.event.removeprefix(CARNK), e.count) for e in study.adverse_events] == [
        ("CytokineReleaseSyndrome", 0),
        ("GraftVersusHostDisease", 0),
    ]
    absent = [f for f in sample.facts if f.predicate == CARNK + "observedAdverseEvent"]
    assert {f.object.removeprefix(CARNK) for f in absent} == {"CytokineReleaseSyndrome", "GraftVersusHostDisease"}
    assert all(f.polarity == "Negated" and not f.plain for f in absent)
    assert all(f.evidence.quote == "with no development of CRS or GvHD" for f in absent)


def load(root: Path) -> FactSet:
    """The sample document's resolved facts in a corpus tree."""
    ontology, _ = classified(root / "ontology" / "carnk.ttl")
    doc = read_document(root / "documents" / "sample.txt")
    return load_facts(root / "facts" / "sample.yaml", {doc.path.name: doc}, ontology)


def facts_file(root: Path) -> Path:
    return root / "facts" / "sample.yaml"


def expect_error(root: Path, fragment: str) -> InputError:
    with pytest.raises((InputError, InputErrors)) as info:
        load(root)
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    matching = [e for e in errors if fragment in e.message]
    assert matching, "\n".join(e.render() for e in errors)
    return matching[0]


# -- controlled values come from the ontology --------------------------------------------------

ONTOLOGY = ("ontology", "carnk.ttl")


def test_a_value_is_written_as_its_notation_in_the_ontology(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(ontology, 'skos:notation "minimal-or-none"', 'skos:notation "minimal-or-no"')
    error = expect_error(
        sample_corpus,
        "frequency must be one of always, usually, often, sometimes, uncommon, minimal-or-no; got 'minimal-or-none'",
    )
    assert error.location.line == line_of(facts_file(sample_corpus), "frequency: minimal-or-none")
    edit(facts_file(sample_corpus), "frequency: minimal-or-none", "frequency: minimal-or-no", count=99)
    assert by_id(load(sample_corpus), "carnk-minimal-gvhd").frequency == "MinimalOrNone"


def test_a_new_value_in_the_ontology_is_accepted_and_listed_in_its_order(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(
        ontology,
        "carnk:Heading a owl:NamedIndividual",
        'carnk:Rarely a owl:NamedIndividual , carnk:Frequency ; rdfs:label "rarely"@en ; skos:notation "rarely" ;\n'
        '    obo:IAO_0000115 "The claim holds in very few cases."@en .\n\ncarnk:Heading a owl:NamedIndividual',
    )
    edit(facts_file(sample_corpus), "frequency: uncommon", "frequency: rarely")
    fact = next(f for f in load(sample_corpus).facts if f.frequency == "Rarely")
    assert fact.plain  # not a low frequency unless the ontology says so
    edit(facts_file(sample_corpus), "frequency: rarely", "frequency: seldom")
    expect_error(
        sample_corpus, "must be one of always, usually, often, sometimes, uncommon, minimal-or-none, rarely; got"
    )


def test_the_low_frequencies_are_the_ontology_s(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    assert not by_id(load(sample_corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;",
         "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency ;")  # fmt: skip
    assert by_id(load(sample_corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Usually a owl:NamedIndividual , carnk:Frequency ;",
         "carnk:Usually a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;")  # fmt: skip
    assert not by_id(load(sample_corpus), "carnk-intravenous").plain


def test_exclusion_reasons_come_from_the_ontology(sample_corpus: Path) -> None:
    edit(sample_corpus.joinpath(*ONTOLOGY), 'skos:notation "summary"', 'skos:notation "recap"')
    expect_error(
        sample_corpus, "reason must be one of heading, list-introduction, recap, duplicate, not-a-factual-claim;"
    )
    edit(facts_file(sample_corpus), "reason: summary", "reason: recap")
    assert "Summary" in {e.reason for e in load(sample_corpus).exclusions}


@pytest.mark.parametrize(
    ("value", "old", "new", "message"),
    [
        (
            "Negated",
            '    skos:notation "negated" ;\n',
            "",
            "carnk:Negated, a value of carnk:Polarity, needs exactly one",
        ),
        ("Negated", 'skos:notation "negated"', 'skos:notation "negated" , "denied"', "(found 'negated', 'denied')"),
        ("Negated", 'skos:notation "negated"', 'skos:notation "Negated"', "joined by '-' (found 'Negated')"),
        ("Implied", 'skos:notation "implied"', 'skos:notation "asserted"', "carnk:Implied and carnk:Asserted share"),
    ],
)
def test_a_value_without_one_clear_notation_is_an_error_at_its_ontology_line(
    sample_corpus: Path, value: str, old: str, new: str, message: str
) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(ontology, old, new)
    error = expect_error(sample_corpus, message)
    assert error.location.path == ontology
    assert error.location.line == line_of(ontology, f"carnk:{value} a owl:NamedIndividual")


def all_errors(root: Path) -> list[InputError]:
    """Every error loading the sample facts gives, in the order they are reported."""
    with pytest.raises((InputError, InputErrors)) as info:
        load(root)
    return info.value.errors if isinstance(info.value, InputErrors) else [info.value]


_FACT = "    subject: CARTCellTherapy\n    predicate: hasManufacturingModel\n    object: AutologousManufacturing\n"
_STUDY = "    intervention: CD19CARNKCellTherapy\n"
_OUTCOME = "        type: CompleteResponse\n        count: 7\n"
_EVENT = "        type: CytokineReleaseSyndrome\n        count: 0\n"

#: Edits of the sample facts; every error each must give (a message fragment and a text of the line it
#: names); and follow-on errors it must not give, since they only repeat an error already reported.
EVERY_ERROR = [
    pytest.param(
        [
            (
                _FACT,
                _FACT.replace("CARTCellTherapy", "NewTherapyA").replace("Autologous", "NewBatch")
                + "    polarity: maybe\n    colour: red\n",
            )
        ],
        [
            ("subject 'NewTherapyA' is not declared", "NewTherapyA"),
            ("object 'NewBatchManufacturing' is not declared", "NewBatchManufacturing"),
            ("polarity must be one of affirmed, negated; got 'maybe'", "polarity: maybe"),
            ("unknown key 'colour' in a fact", "colour: red"),
        ],
        ["is not a kind of"],
        id="undeclared-subject-and-object-and-more-in-one-fact",
    ),
    pytest.param(
        [
            ('    quote: "CAR T-cell products are all made', '    quote: "CAR T-cell products are never made'),
            (_FACT, _FACT.replace("hasManufacturingModel", "hasManufactureModel")),
        ],
        [
            ("quote not found verbatim", "CAR T-cell products are never made"),
            ("predicate 'hasManufactureModel' is not declared", "hasManufactureModel"),
        ],
        ["is not a kind of", "expects"],
        id="missing-quote-and-unknown-predicate",
    ),
    pytest.param(
        [
            (_STUDY, _STUDY + "    product: NewProductC\n    sponsor: someone\n"),
            ("    patients: 12\n", "    patients: twelve\n"),
            (
                '    quote: "CD19-directed CAR-NK cells from cord blood"',
                '    quote: "CD19-directed CAR-NK cells from blood"',
            ),
            (_OUTCOME, _OUTCOME.replace("CompleteResponse", "NewResponseD") + "        grade_x: 1\n"),
            (_EVENT, _EVENT.replace("count: 0", "count: none")),
        ],
        [
            ("quote not found verbatim", "CAR-NK cells from blood"),
            ("product 'NewProductC' is not declared", "NewProductC"),
            ("unknown key 'sponsor' in a study", "sponsor: someone"),
            ("patients must be a non-negative whole number", "patients: twelve"),
            ("outcome type 'NewResponseD' is not declared", "NewResponseD"),
            ("unknown key 'grade_x' in an outcome", "grade_x: 1"),
            ("count must be a non-negative whole number, got 'none'", "count: none"),
        ],
        ["is not stated in", "a finding of study", "counts"],
        id="every-error-of-a-study-its-outcomes-and-events",
    ),
    pytest.param(
        [
            (
                "    outcomes:\n",
                '    arms:\n      - id: cord-blood\n        quote: "CD19-directed CAR-NK cells from cord blood"\n'
                "        route: IntrathecalAdministrationX\n        infusions: 0\n        doses:\n"
                "          - value: 5\n            unit: furlongs\n            colour: blue\n"
                "    outcomes:\n",
            ),
            (_OUTCOME, _OUTCOME + "        at:\n          value: 30\n          unit: fortnights\n"),
        ],
        [
            ("route 'IntrathecalAdministrationX' is not declared", "IntrathecalAdministrationX"),
            ("infusions must be at least 1", "infusions: 0"),
            ("dose value 5 is not stated in its quote", "value: 5"),
            ("dose unit must be one of", "unit: furlongs"),
            ("unknown key 'colour' in dose", "colour: blue"),
            ("at value 30 is not stated in its quote", "value: 30"),
            ("at unit must be one of", "unit: fortnights"),
        ],
        [],
        id="every-error-of-an-arm-its-doses-and-a-time-point",
    ),
    pytest.param(
        [
            (_STUDY, _STUDY + "    product: NewProductC\n"),
            (
                "  - id: carnk-challenge-tme\n",
                "  - id: trial-product-safe\n    study: cd19-cord-blood-trial\n"
                '    quote: "with no development of CRS or GvHD"\n    subject: FT596\n    predicate: hasAdvantage\n'
                "    object: ImprovedSafetyProfile\n  - id: carnk-challenge-tme\n",
            ),
        ],
        [("product 'NewProductC' is not declared", "NewProductC")],
        ["a finding of study", "is not a kind of"],
        id="a-fact-of-a-study-whose-product-is-wrong",
    ),
    pytest.param(
        [
            ("  - id: cd19-cord-blood-trial\n", "  - id: CD19 trial\n"),
            (
                "  - id: carnk-challenge-tme\n",
                '  - id: study-fact\n    study: CD19 trial\n    quote: "CAR-NK cell persistence"\n'
                "    predicate: hasChallenge\n    object: PersistenceInVivo\n  - id: carnk-challenge-tme\n",
            ),
        ],
        [("id 'CD19 trial' must use lowercase letters", "id: CD19 trial")],
        ["not a study of this file", "missing the required key"],
        id="a-fact-of-a-study-whose-id-is-wrong",
    ),
    pytest.param(
        [
            (
                "  - id: carnk-challenge-tme\n",
                "  - id: study-unknown\n    study: no-such-trial\n"
                '    quote: "CAR-NK cell persistence"\n    predicate: hasChallenge\n    object: NewChallengeE\n'
                "  - id: carnk-challenge-tme\n",
            )
        ],
        [
            ("study 'no-such-trial' is not a study of this file", "study: no-such-trial"),
            ("object 'NewChallengeE' is not declared", "NewChallengeE"),
        ],
        [],
        id="unknown-study-and-undeclared-object",
    ),
    pytest.param(
        [
            ("    reason: heading\n", "    reason: title\n"),
            ('  - quote: "Sample review: CAR NK cells in brief"', '  - quote: "Sample review of CAR NK cells"'),
        ],
        [
            ("quote not found verbatim", "Sample review of CAR NK cells"),
            ("reason must be one of", "reason: title"),
        ],
        [],
        id="an-exclusion",
    ),
]


@pytest.mark.parametrize(("edits", "expected", "absent"), EVERY_ERROR)
def test_every_error_is_reported_at_its_line_in_one_run_without_follow_on_errors(
    sample_corpus: Path, edits: list[tuple[str, str]], expected: list[tuple[str, str]], absent: list[str]
) -> None:
    path = facts_file(sample_corpus)
    for old, new in edits:
        edit(path, old, new)
    errors = all_errors(sample_corpus)
    shown = "\n".join(e.render() for e in errors)
    for fragment, text in expected:
        lines = [e.location.line for e in errors if fragment in e.message]
        assert lines == [line_of(path, text)], f"{fragment!r} once at {text!r}:\n{shown}"
    for fragment in absent:
        assert fragment not in shown, shown
    assert len(errors) == len(expected), shown
    places = [(e.location.line or 0) for e in errors]
    assert places == sorted(places), "errors are reported in line order"


#: (written, where: (key, old line), hint fragment, fragments the hint must not hold)
HINTS = [
    pytest.param(
        "FT522",
        ("subject", "subject: CARTCellTherapy\n    predicate: hasToxicityRisk"),
        "declare it with: carnk-ld add-term FT522 --parent TherapeuticIntervention",
        ["did you mean"],
        id="new-subject",
    ),
    pytest.param(
        "NewToxicity",
        ("object", "object: CytokineReleaseSyndrome\n  - id: nk-crs"),
        "declare it with: carnk-ld add-term NewToxicity --parent AdverseEvent",
        ["did you mean"],
        id="new-object",
    ),
    pytest.param(
        "NewPart",
        ("object", "object: TransmembraneDomain"),
        "declare it with: carnk-ld add-term NewPart --parent PARENT_CLASS",
        ["did you mean"],
        id="range-is-thing",
    ),
    pytest.param(
        "NewImmunotherapy",
        ("subject", "subject: CARNKCellTherapy\n    predicate: is_a"),
        "declare it with: carnk-ld add-term NewImmunotherapy --parent Immunotherapy",
        ["did you mean"],
        id="is-a-parent-is-the-object",
    ),
    pytest.param(
        "FT522",
        ("product", None),
        "declare it with: carnk-ld add-term FT522 --type CellTherapyProduct",
        ["did you mean"],
        id="study-product",
    ),
    pytest.param(
        "CarNkCell",
        ("subject", "subject: CARNKCell\n    predicate: derivedFrom\n    object: UmbilicalCordBlood"),
        "did you mean 'CARNKCell'?",
        [],
        id="case-variant",
    ),
    pytest.param(
        "CARNKcell",
        ("subject", "subject: CARNKCell\n    predicate: derivedFrom\n    object: UmbilicalCordBlood"),
        "did you mean 'CARNKCell'?",
        [],
        id="one-letter-case",
    ),
    pytest.param(
        "CARNKCells",
        ("subject", "subject: CARNKCell\n    predicate: derivedFrom\n    object: UmbilicalCordBlood"),
        "did you mean 'CARNKCell'?",
        [],
        id="plural",
    ),
    pytest.param(
        "Umbilical-Cord-Blood",
        ("object", "object: UmbilicalCordBlood"),
        "did you mean 'UmbilicalCordBlood'?",
        [],
        id="hyphens",
    ),
    pytest.param(
        "NKCellTherapie",
        ("subject", "subject: NKCellTherapy"),
        "did you mean 'NKCellTherapy'?",
        [],
        id="typo",
    ),
    pytest.param(
        "CD22CARNKCellTherapy",
        ("intervention", "intervention: CD19CARNKCellTherapy"),
        "carnk-ld add-term CD22CARNKCellTherapy --parent TherapeuticIntervention",
        ["did you mean"],
        id="another-number-is-a-new-name",
    ),
    pytest.param(
        "NKTherapy",
        ("subject", "subject: NKCellTherapy"),
        "carnk-ld add-term NKTherapy --parent",
        ["did you mean"],
        id="related-but-not-a-misspelling",
    ),
]


@pytest.mark.parametrize(("written", "where", "hint", "not_in_hint"), HINTS)
def test_an_undeclared_name_gets_the_add_term_command_and_did_you_mean_only_for_a_close_spelling(
    sample_corpus: Path, written: str, where: tuple[str, str | None], hint: str, not_in_hint: list[str]
) -> None:
    key, old = where
    path = facts_file(sample_corpus)
    if old is None:
        edit(path, _STUDY, _STUDY + f"    {key}: {written}\n")
    else:
        edit(path, old, old.replace(old.split("\n")[0], f"{key}: {written}"))
    error = expect_error(sample_corpus, f"{key} {written!r} is not declared in the ontology")
    assert error.location.line == line_of(path, f"{key}: {written}")
    assert error.hint is not None and hint in error.hint, error.render()
    for fragment in not_in_hint:
        assert fragment not in error.hint, error.render()


#: (a name written, the names declared, the one a "did you mean" may name or None)
SPELLINGS = [
    ("FT596", ["NKCellTherapy", "CARNKCellTherapy", "FT576"], None),
    ("CARNKcell", ["CARNKCell", "NKCell", "CARTCell"], "CARNKCell"),
    ("CarNkCell", ["CARNKCell", "NKCell"], "CARNKCell"),
    ("carnk-cell", ["CARNKCell", "NKCell"], "CARNKCell"),
    ("CARNKCells", ["CARNKCell", "CARNKCellTherapy"], "CARNKCell"),
    ("HematopoeticStemCell", ["HematopoieticStemCell", "StemCell"], "HematopoieticStemCell"),
    ("CD22CARNKCellTherapy", ["CD19CARNKCellTherapy"], None),
    ("NewImmunotherapy", ["Immunotherapy"], None),
    ("CARNKCellTherapy", ["CARNKCell"], None),
    ("Toxicity", ["CytokineReleaseSyndrome", "Neurotoxicity"], None),
]


@pytest.mark.parametrize(("written", "declared", "meant"), SPELLINGS)
def test_did_you_mean_names_only_a_close_spelling(written: str, declared: list[str], meant: str | None) -> None:
    from carnk_ld.hints import close_spelling

    assert close_spelling(written, declared) == meant
