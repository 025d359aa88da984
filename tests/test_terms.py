"""``carnk-ld terms`` (search, ``--predicates``) and ``carnk-ld add-term``, on small fixture corpora.

Search and add-term cases run on tests/fixtures/terms (an ontology and mapping set written for these
tests, so every expectation below is read off that file); the end-to-end case (add a term, `check`
refuses only its placeholder, fill it, `check` passes) and ``--predicates`` run on the sample corpus,
with expectations derived from the ontology and the facts reader's schema.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from carnk_ld import newterm
from carnk_ld.constants import BASE
from carnk_ld.facts import FACTS_SCHEMA
from carnk_ld.guide import key_path, predicate_terms
from carnk_ld.newterm import PLACEHOLDER
from carnk_ld.ontology import load_corpus_ontology
from carnk_ld.vocab import compact_iri
from tests.conftest import PROJECT, Result, line_of

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "terms"
ONTOLOGY = Path("ontology") / "carnk.ttl"
MAPPINGS = Path("mappings") / "carnk.sssom.tsv"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A private copy of the small terms corpus (ontology and mapping set only)."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "terms"))


def tsv(result: Result) -> list[dict[str, str]]:
    lines = result.output.splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


# -- search -----------------------------------------------------------------------------------------------

#: query -> the hits in order: (local name, rank, what matched). Read off tests/fixtures/terms.
SEARCHES: dict[str, list[tuple[str, str, str]]] = {
    # an exact label comes before the same text as another term's synonym
    "cord blood": [
        ("CordBlood", "exact", "label: cord blood"),
        ("PlacentalBlood", "exact", "related synonym: cord blood"),
    ],
    # case and hyphens do not matter
    "car nk": [("CARNKCellTherapy", "exact", "synonym: CAR-NK"), ("CARNKProduct", "prefix", "label: CAR NK product")],
    # nor do plurals
    "NK cell lines": [("NKCellLine", "exact", "label: NK cell line")],
    # the label an external vocabulary gives the mapped term
    "umbilical cord blood": [("CordBlood", "exact", "mapped label (NCIT:C13300, exact match): Umbilical Cord Blood")],
    # the word a facts file writes for a controlled value
    "rarely": [("Rare", "exact", "notation: rarely")],
    # the local name, as a curator writes it
    "cardnkcelltherapy": [("CARNKCellTherapy", "close", "label: CAR NK cell therapy")],
    "NKCellLine": [("NKCellLine", "exact", "label: NK cell line")],
    # a prefix: the shorter name first
    "cord bl": [
        ("CordBlood", "prefix", "label: cord blood"),
        ("PlacentalBlood", "prefix", "related synonym: cord blood"),
    ],
    # every word, in any order
    "therapy cell": [("CARNKCellTherapy", "word", "label: CAR NK cell therapy")],
    # whole words before a substring; equally long names by local name
    "blood": [("CordBlood", "word", "label: cord blood"), ("PlacentalBlood", "word", "label: placental blood")],
    "ource": [("Source", "word", "label: source")],
    # a close spelling, last
    "cord blod": [
        ("CordBlood", "close", "label: cord blood"),
        ("PlacentalBlood", "close", "related synonym: cord blood"),
    ],
    "therapi": [("Therapy", "close", "label: therapy"), ("CARNKCellTherapy", "close", "label: CAR NK cell therapy")],
    # an exact match outranks a prefix, whatever the names' order
    "therapy": [("Therapy", "exact", "label: therapy"), ("CARNKCellTherapy", "word", "label: CAR NK cell therapy")],
}


@pytest.mark.parametrize("query", sorted(SEARCHES))
def test_search_ranks_as_documented(cli, query: str) -> None:
    result = cli("terms", query, "--root", str(FIXTURE), "--format", "tsv")
    assert result.exit_code == 0, result.output
    found = [(row["name"], row["match"], row["matched"]) for row in tsv(result)]
    assert found == SEARCHES[query]


def test_a_hit_shows_name_kind_parents_label_definition_and_match(cli) -> None:
    result = cli("terms", "CAR-NK", "--root", str(FIXTURE), "--limit", "1")
    assert result.exit_code == 0
    assert result.output == (
        'CARNKCellTherapy  class  "CAR NK cell therapy"\n'
        "    matched    synonym: CAR-NK (exact)\n"
        "    parents    Therapy (therapy)\n"
        "    definition A therapy with NK cells that express a chimeric antigen receptor.\n"
    )


def test_an_individual_shows_its_types_and_a_property_its_domain_and_range(cli) -> None:
    individual = cli("terms", "FT516", "--root", str(FIXTURE), "--limit", "1").output
    assert "FT516  individual" in individual
    assert "    types      CARNKProduct (CAR NK product)\n" in individual
    prop = cli("terms", "derived from", "--root", str(FIXTURE), "--limit", "1").output
    assert "derivedFrom  annotation property" in prop
    assert "    domain     Therapy (therapy)\n" in prop
    assert "    range      Source (source)\n" in prop


def test_limit_and_the_same_output_every_time(cli) -> None:
    first = cli("terms", "blood", "--root", str(FIXTURE), "--limit", "1")
    assert [row["name"] for row in tsv(cli("terms", "blood", "--root", str(FIXTURE), "--format", "tsv"))] == [
        "CordBlood",
        "PlacentalBlood",
    ]
    assert first.output.count("\n\n") == 0 and first.output.startswith("CordBlood ")
    assert cli("terms", "blood", "--root", str(FIXTURE), "--limit", "1").output == first.output


def test_no_match_says_so_suggests_add_term_and_exits_1(cli) -> None:
    result = cli("terms", "zebrafish kidney", "--root", str(FIXTURE))
    assert result.exit_code == 1
    assert "no term matches 'zebrafish kidney'" in result.output
    assert "carnk-ld add-term ZebrafishKidney --parent CLASS" in result.output


@pytest.mark.parametrize("args", [(), ("x", "--predicates")])
def test_terms_needs_a_query_or_predicates(cli, args: tuple[str, ...]) -> None:
    result = cli("terms", *args, "--root", str(FIXTURE))
    assert result.exit_code == 2
    assert "error: give a QUERY" in result.output


def test_a_broken_ontology_is_an_input_error(cli, small: Path) -> None:
    (small / ONTOLOGY).write_text((small / ONTOLOGY).read_text().replace("carnk:Therapy a", "carnk:Therapy a a"))
    result = cli("terms", "blood", "--root", str(small))
    assert result.exit_code == 2
    assert "ontology/carnk.ttl:" in result.output and "Traceback" not in result.output


# -- --predicates -------------------------------------------------------------------------------------------


def test_predicates_list_agrees_with_the_schema_and_the_ontology(cli, sample_corpus: Path) -> None:
    result = cli("terms", "--predicates", "--root", str(sample_corpus), "--format", "tsv")
    assert result.exit_code == 0, result.output
    rows = tsv(result)
    keys = {row["name"]: row for row in rows if row["kind"] == "key"}
    expected_keys = {key_path(section, key): key.required for section in FACTS_SCHEMA.values() for key in section.keys}
    assert {name: row["required"] == "required" for name, row in keys.items()} == expected_keys
    ontology = load_corpus_ontology(sample_corpus)
    predicates = {row["name"]: row for row in rows if row["kind"] == "predicate"}
    assert set(predicates) == {"is_a"} | {t.local_name for t in predicate_terms(ontology)}
    for prop in predicate_terms(ontology):
        row = predicates[prop.local_name]
        for bound, text in ((prop.domain, row["domain"]), (prop.range, row["range"])):
            assert text.startswith(compact_iri(bound)) if bound else text.startswith("not declared")
    # an example is a fact of the corpus, at its line
    sample = sample_corpus / "facts" / "sample.yaml"
    used = next(line.split(":", 1)[1].strip() for line in sample.read_text().splitlines() if "predicate:" in line)
    example = predicates[used.removeprefix("carnk:")]["example"]
    path, line, _ = example.split(":", 2)
    fact = (sample_corpus / path).read_text().split("\n- id:")[0].splitlines()
    lines = (sample_corpus / path).read_text().splitlines()
    block = lines[int(line) - 1 : int(line) + 12]
    block = block[: next((i for i, text in enumerate(block[1:], start=1) if "- id:" in text), len(block))]
    assert path.startswith("facts/") and f"predicate: {used}" in "\n".join(block), (fact, block)


def test_a_study_key_example_is_what_a_facts_file_writes(cli, sample_corpus: Path) -> None:
    rows = {
        row["name"]: row for row in tsv(cli("terms", "--predicates", "--root", str(sample_corpus), "--format", "tsv"))
    }
    facts = sample_corpus / "facts"
    for name in ("studies[].intervention", "studies[].population"):
        example = rows[name]["example"]
        path, line, value = example.split(":", 2)
        written = (sample_corpus / path).read_text().splitlines()[int(line) - 1]
        assert written.strip().startswith(name.rsplit(".", 1)[1] + ":") and value.strip() in written
        assert (facts / Path(path).name).is_file()


def test_predicates_text_lists_domain_range_and_example(cli, sample_corpus: Path) -> None:
    text = cli("terms", "--predicates", "--root", str(sample_corpus)).output
    block = text[text.index("\nhasToxicityRisk") :].split("\n\n")[0]
    ontology = load_corpus_ontology(sample_corpus)
    prop = ontology.terms[BASE + "hasToxicityRisk"]
    assert f"domain     {compact_iri(prop.domain or '')}" in block
    assert f"range      {compact_iri(prop.range or '')}" in block
    assert "example" in block


def test_predicates_name_a_facts_file_that_does_not_load_once(cli, sample_corpus: Path) -> None:
    text = "First claim here.\nSecond claim here.\nThird claim here.\n"
    (sample_corpus / "documents" / "draft.txt").write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    (sample_corpus / "facts" / "draft.yaml").write_text(
        f"document: draft.txt\nsha256: {sha}\nmetadata:\n  source: the suite\n  licence: unknown\n", encoding="utf-8"
    )
    output = cli("terms", "--predicates", "--root", str(sample_corpus)).output  # three segments unaccounted
    notes = [line for line in output.splitlines() if line.startswith("note: examples leave out")]
    assert notes == ["note: examples leave out documents/draft.txt: it does not load yet (`carnk-ld check` says why)"]


# -- add-term --------------------------------------------------------------------------------------------


def inserted(before: str, after: str) -> tuple[int, list[str]]:
    """Where ``after`` is ``before`` with one run of whole lines inserted: the run's 1-based first line, its lines.

    Fails unless every other byte of ``before`` is kept. A run between two blank lines could be read
    as starting or ending with the blank; it is read as starting with it.
    """
    old, new = before.split("\n"), after.split("\n")
    start = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), len(old))
    size = len(new) - len(old)
    assert size > 0 and new[:start] + new[start + size :] == old, "more changed than one inserted block"
    while start > 0 and new[start + size - 1] == "" and new[start - 1] == "":
        start -= 1
    return start + 1, new[start : start + size]


def only_inserted(before: bytes, after: bytes) -> bytes:
    """The bytes inserted into ``before`` to give ``after``, failing unless that is all that changed."""
    common = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), len(before))
    rest = before[common:]
    assert after.endswith(rest) and len(after) > len(before), "more changed than one insertion"
    return after[common : len(after) - len(rest)]


CLASS_BLOCK = [
    "",
    "carnk:BoneMarrow a owl:Class ;",
    '    rdfs:label "bone marrow"@en ;',
    "    rdfs:subClassOf carnk:Source ;",
    f'    obo:IAO_0000115 "{PLACEHOLDER} bone marrow: write what it is, as a kind of source, and how it differs '
    'from the others"@en .',
]


def test_a_class_goes_after_its_parent_and_the_subclasses_that_follow_it(cli, small: Path) -> None:
    before = {name: (small / name).read_text() for name in (ONTOLOGY, MAPPINGS)}
    result = cli("add-term", "BoneMarrow", "--parent", "Source", "--root", str(small))
    assert result.exit_code == 0, result.output
    start, block = inserted(before[ONTOLOGY], (small / ONTOLOGY).read_text())
    assert block == CLASS_BLOCK
    # after NKCellLine, the last subclass of Source before the comment that starts the next group
    assert start == line_of(small / ONTOLOGY, "carnk:NKCellLine a") + 4
    row_at, rows = inserted(before[MAPPINGS], (small / MAPPINGS).read_text())
    cells = rows[0].split("\t")
    assert cells[:7] == [
        "carnk:BoneMarrow",
        "bone marrow",
        "skos:exactMatch",
        "sssom:NoTermFound",
        "",
        "semapv:ManualMappingCuration",
        "",
    ]
    assert cells[7].startswith(newterm.MAPPING_PLACEHOLDER)
    lines = (small / MAPPINGS).read_text().splitlines()
    # code-point order, as the file is sorted: BoneMarrow before CARNKCellTherapy, the first row
    assert lines[row_at - 2].startswith("subject_id\t") and lines[row_at].startswith("carnk:CARNKCellTherapy\t")
    assert f"ontology/carnk.ttl:{start + 1}: added carnk:BoneMarrow (bone marrow)" in result.output
    assert f"next: write its definition at ontology/carnk.ttl:{start + 4} " in result.output
    assert f"mappings/carnk.sssom.tsv:{row_at}: added its row" in result.output


def test_an_individual_goes_after_the_last_of_its_type_with_a_notation_if_its_values_have_one(cli, small: Path) -> None:
    before = (small / ONTOLOGY).read_text()
    mappings = (small / MAPPINGS).read_bytes()
    result = cli("add-term", "Seldom", "--type", "Frequency", "--label", "seldom so", "--root", str(small))
    assert result.exit_code == 0, result.output
    start, block = inserted(before, (small / ONTOLOGY).read_text())
    assert block == [
        "",
        "carnk:Seldom a owl:NamedIndividual , carnk:Frequency ;",
        '    rdfs:label "seldom so"@en ;',
        '    skos:notation "seldom-so" ;',
        f'    obo:IAO_0000115 "{PLACEHOLDER} seldom so: write what this frequency is"@en .',
    ]
    assert start == line_of(small / ONTOLOGY, "carnk:Rare a") + 4
    assert (small / MAPPINGS).read_bytes() == mappings  # the mapping set maps classes only


def test_a_product_gets_no_notation(cli, small: Path) -> None:
    before = (small / ONTOLOGY).read_text()
    assert cli("add-term", "FT819", "--type", "CARNKProduct", "--root", str(small)).exit_code == 0
    _, block = inserted(before, (small / ONTOLOGY).read_text())
    assert block[1:3] == ["carnk:FT819 a owl:NamedIndividual , carnk:CARNKProduct ;", '    rdfs:label "FT819"@en ;']
    assert not any("notation" in line for line in block)


def test_the_files_own_line_ends_and_missing_final_line_break_are_kept(cli, small: Path) -> None:
    for name in (ONTOLOGY, MAPPINGS):
        (small / name).write_bytes((small / name).read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    before = {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)}
    assert cli("add-term", "Zoo", "--parent", "Therapy", "--root", str(small)).exit_code == 0
    for name in (ONTOLOGY, MAPPINGS):
        after = (small / name).read_bytes()
        assert after.count(b"\n") == after.count(b"\r\n") and not after.endswith(b"\n")
        assert only_inserted(before[name], after) and b"carnk:Zoo" in after


@pytest.mark.parametrize(
    ("name", "label"),
    [("CordBloodBank", "cord blood bank"), ("NKCellSource", "NK cell source"), ("CD19Antigen", "CD19 antigen")],
)
def test_a_label_is_derived_in_the_ontology_style(cli, small: Path, name: str, label: str) -> None:
    assert cli("add-term", name, "--parent", "Source", "--root", str(small)).exit_code == 0
    assert f'carnk:{name} a owl:Class ;\n    rdfs:label "{label}"@en ;' in (small / ONTOLOGY).read_text()


#: arguments -> a part of the message. Each is refused with exit 2 and neither file changed.
REFUSED: dict[str, tuple[tuple[str, ...], str]] = {
    "existing class": (("CordBlood", "--parent", "Source"), "carnk:CordBlood already exists (a class"),
    "existing individual": (("Rare", "--parent", "Source"), "carnk:Rare already exists (an individual"),
    "existing property": (("DerivedFrom", "--parent", "Source"), "differs from the existing carnk:derivedFrom only"),
    "spaces": (("Bone Marrow", "--parent", "Source"), "is not a term name"),
    "lower case": (("boneMarrow", "--parent", "Source"), "is not a term name"),
    "non-ASCII": (("Knochenmärk", "--parent", "Source"), "is not a term name"),
    "IRI characters": (("Bone/Marrow", "--parent", "Source"), "is not a term name"),
    "unknown parent": (("BoneMarrow", "--parent", "Sourc"), "declares no class carnk:Sourc"),
    "parent is an individual": (("BoneMarrow", "--parent", "Rare"), "carnk:Rare is an individual, not a class"),
    "unknown type": (("FT999", "--type", "Product"), "--type Product: the ontology declares no class"),
    "both": (("BoneMarrow", "--parent", "Source", "--type", "Frequency"), "either --parent CLASS"),
    "neither": (("BoneMarrow",), "either --parent CLASS"),
    "taken label": (("BloodOfCord", "--parent", "Source", "--label", "Cord Blood"), "already the label of carnk:Cord"),
    "label with a tab": (("BoneMarrow", "--parent", "Source", "--label", "bone\tmarrow"), "control character"),
    "padded label": (("BoneMarrow", "--parent", "Source", "--label", " bone marrow"), "starts or ends with a space"),
    "taken notation": (("Rarely", "--type", "Frequency", "--label", "rarely"), "'rarely' from the label is taken"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_exit_2_and_nothing_changed(cli, small: Path, case: str) -> None:
    args, message = REFUSED[case]
    before = {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)}
    result = cli("add-term", *args, "--root", str(small))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "add-term failed: bad input; nothing was changed" in result.output and "Traceback" not in result.output
    assert {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)} == before


def test_an_unknown_parent_gets_a_hint(cli, small: Path) -> None:
    assert "did you mean 'Source'?" in cli("add-term", "BoneMarrow", "--parent", "Sourcee", "--root", str(small)).output


BROKEN: dict[str, tuple[Path, Callable[[str], str], str]] = {
    "ontology syntax": (
        ONTOLOGY,
        lambda text: text.replace("carnk:Therapy a", "carnk:Therapy a a"),
        "ontology/carnk.ttl:",
    ),
    "mapping row": (
        MAPPINGS,
        lambda text: text.replace("\tNo term found in NCIt\n", "\n", 1),
        "mappings/carnk.sssom.tsv:",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_file_that_does_not_load_is_refused(cli, small: Path, case: str) -> None:
    name, damage, where = BROKEN[case]
    (small / name).write_text(damage((small / name).read_text()))
    before = {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)}
    result = cli("add-term", "BoneMarrow", "--parent", "Source", "--root", str(small))
    assert result.exit_code == 2 and where in result.output
    assert {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)} == before


def test_a_failed_second_write_puts_the_ontology_back(cli, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)}
    real = newterm.replace_file

    def failing(target: Path, data: bytes) -> None:
        if target.name.endswith(".tsv"):
            raise OSError(28, "No space left on device")
        real(target, data)

    monkeypatch.setattr(newterm, "replace_file", failing)
    result = cli("add-term", "BoneMarrow", "--parent", "Source", "--root", str(small))
    assert result.exit_code == 2
    assert "No space left on device; neither file was changed" in result.output
    assert {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)} == before


def test_the_qc_check_looks_for_the_placeholder_add_term_writes() -> None:
    check = (PROJECT / "queries" / "checks" / "placeholder-definition-violation.rq").read_text()
    assert f'STRSTARTS(STR(?value), "{PLACEHOLDER}")' in check
    assert "# severity: ERROR" in check


@pytest.mark.slow
@pytest.mark.parametrize("option", ["--parent", "--type"])
def test_check_refuses_only_the_placeholder_until_it_is_filled(cli, sample_corpus: Path, option: str) -> None:
    ontology = load_corpus_ontology(sample_corpus)
    if option == "--parent":
        parent = min(t.local_name for t in ontology.terms.values() if t.kind == "class" and t.iri.startswith(BASE))
    else:  # the type of a named individual that is no controlled value (a product)
        parent = min(
            min(t.types)[len(BASE) :]
            for t in ontology.terms.values()
            if t.kind == "individual" and t.iri.startswith(BASE) and not t.notations and min(t.types).startswith(BASE)
        )
    added = cli("add-term", "TestOnlyCellKind", option, parent, "--root", str(sample_corpus))
    assert added.exit_code == 0, added.output
    out = str(sample_corpus.parent / "out")
    failed = cli("check", "--root", str(sample_corpus), "--out", out, "--no-cache")
    assert failed.exit_code == 1, failed.output
    errors = [line for line in failed.output.splitlines() if re.match(r"\S+:\d+: (ERROR|error)", line)]
    assert len(errors) == 1 and "ERROR placeholder-definition" in errors[0] and "TestOnlyCellKind" in errors[0]
    assert "ontology QC: 1 ERROR findings" in failed.output
    path = sample_corpus / ONTOLOGY
    text = path.read_text()
    start = text.index(f'"{PLACEHOLDER} ')
    end = text.index('"@en', start)
    path.write_text(text[:start] + '"A kind of cell that only the test suite knows.' + text[end:])
    passed = cli("check", "--root", str(sample_corpus), "--out", out, "--no-cache")
    assert passed.exit_code == 0, passed.output


def test_a_stale_mapping_row_of_the_name_is_refused(cli, small: Path) -> None:
    path = small / MAPPINGS
    path.write_text(path.read_text() + "carnk:BoneMarrow\t\tskos:exactMatch\tsssom:NoTermFound\t\tsemapv:x\t\tstale\n")
    before = {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)}
    result = cli("add-term", "BoneMarrow", "--parent", "Source", "--root", str(small))
    assert result.exit_code == 2
    assert f"mappings/carnk.sssom.tsv:{len(path.read_text().splitlines())}: error: carnk:BoneMarrow already has" in (
        result.output
    )
    assert {name: (small / name).read_bytes() for name in (ONTOLOGY, MAPPINGS)} == before


def test_the_parent_may_be_written_with_its_prefix(cli, small: Path) -> None:
    assert cli("add-term", "BoneMarrow", "--parent", "carnk:Source", "--root", str(small)).exit_code == 0
    assert "    rdfs:subClassOf carnk:Source ;" in (small / ONTOLOGY).read_text().split("carnk:BoneMarrow a")[1]


def test_a_statement_about_no_declared_term_ends_the_parents_group(cli, small: Path) -> None:
    path = small / ONTOLOGY
    anchor = '    obo:IAO_0000115 "A clonal culture of NK cells, such as NK-92."@en .\n'
    # outside carnk: (an undeclared carnk: name is refused when the ontology is read)
    loose = '\n<https://example.org/Loose> rdfs:comment "said of nothing declared" .\n'
    path.write_text(path.read_text().replace(anchor, anchor + loose))
    before = path.read_text()
    assert cli("add-term", "BoneMarrow", "--parent", "Source", "--root", str(small)).exit_code == 0
    start, block = inserted(before, path.read_text())
    assert start == line_of(path, "A clonal culture of NK cells") + 1 and block[1] == "carnk:BoneMarrow a owl:Class ;"
