"""The modelling guide (``carnk-ld guide``): current for the project, complete, and it follows the inputs it is made of.

Expectations come from the ontology, the facts schema and the facts reader, never from the
generator's own text: a predicate's section must name what the ontology declares for it, and
every key the reader accepts must be documented in its section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carnk_ld.constants import BASE
from carnk_ld.facts import FACTS_SCHEMA, Section
from carnk_ld.guide import GUIDE_FILE, load_curation
from carnk_ld.ontology import load_ontology
from tests.conftest import PROJECT, edit, line_of, place_of

NEW_PROPERTY = """
carnk:testPrefersRoute a owl:AnnotationProperty ;
    rdfs:label "test prefers route"@en ;
    obo:IAO_0000115 "Relates a therapy to the route a test document says it is best given by."@en ;
    schema:domainIncludes carnk:TherapeuticIntervention ;
    schema:rangeIncludes carnk:RouteOfAdministration .
"""
#: A key no section has, and far from every key, so the reader lists the allowed keys instead of guessing.
UNKNOWN = "zzzzz"


def guide(cli, root: Path, *args: str):
    return cli("guide", "--root", str(root), *args)


def predicate_section(text: str, local: str) -> str:
    """The part of the guide about one predicate: from its heading to the next heading."""
    match = re.search(rf"^###[^\n]*`{local}`[^\n]*\n(.*?)(?=^#)", text, re.MULTILINE | re.DOTALL)
    assert match, f"the guide has no section for {local}"
    return match.group(0)


def keys_section(text: str, section: Section) -> str:
    """The part of the guide's facts-file keys about one section of the schema."""
    part = text[text.index("## Facts-file keys") :]
    part = part[: part.index("\n## ", 1)]
    blocks = part.split("\n### ")[1:]
    title = f"`{section.path}`" if section.path else "Top level"
    found = [block for block in blocks if title in block.splitlines()[0]]
    assert len(found) == 1, f"the guide has {len(found)} sections for {title}"
    return found[0]


def test_the_committed_guide_is_current(cli) -> None:
    result = guide(cli, PROJECT, "--check")
    assert result.exit_code == 0, result.output
    assert f"{GUIDE_FILE} is current" in result.output


def test_a_new_predicate_appears_with_its_domain_range_and_example(cli, sample_corpus: Path) -> None:
    ontology_path = sample_corpus / "ontology" / "carnk.ttl"
    ontology_path.write_text(ontology_path.read_text(encoding="utf-8") + NEW_PROPERTY, encoding="utf-8")
    ontology = load_ontology(ontology_path)
    prop = ontology.terms[BASE + "testPrefersRoute"]
    assert guide(cli, sample_corpus).exit_code == 0
    section = predicate_section((sample_corpus / GUIDE_FILE).read_text(encoding="utf-8"), "testPrefersRoute")
    assert "test prefers route" in section
    assert "the route a test document says it is best given by" in section
    for role, iri in (("domain", prop.domain), ("range", prop.range)):
        assert iri is not None
        label = ontology.terms[iri].label
        assert label is not None
        line = next(line for line in section.splitlines() if role in line)
        assert "carnk:" + iri[len(BASE) :] in line and label in line, line
    assert "no example in the corpus yet" in section

    facts = sample_corpus / "facts" / "sample.yaml"
    edit(
        facts,
        "studies:\n",
        "  - id: carnk-prefers-intravenous\n"
        '    quote: "CAR NK cells are usually given intravenously."\n'
        "    subject: CARNKCellTherapy\n"
        "    predicate: testPrefersRoute\n"
        "    object: IntravenousAdministration\n\nstudies:\n",
    )
    assert guide(cli, sample_corpus).exit_code == 0
    section = predicate_section((sample_corpus / GUIDE_FILE).read_text(encoding="utf-8"), "testPrefersRoute")
    assert "no example in the corpus yet" not in section
    assert "CAR NK cells are usually given intravenously." in section
    assert "facts/sample.yaml" in section and str(line_of(facts, "id: carnk-prefers-intravenous")) in section
    assert "carnk:CARNKCellTherapy" in section and "carnk:IntravenousAdministration" in section


def test_predicates_without_a_fact_say_so_and_used_ones_show_their_first_quote(cli, sample_corpus: Path) -> None:
    ontology, factsets = load_curation(sample_corpus)
    used = {f.predicate for fs in factsets for f in fs.facts}
    properties = [t for t in ontology.terms.values() if t.kind == "annotation property" and t.iri.startswith(BASE)]
    unused = [t for t in properties if t.iri not in used]
    assert unused and len(unused) < len(properties), "the sample corpus uses some predicates, not all"
    assert guide(cli, sample_corpus).exit_code == 0
    text = (sample_corpus / GUIDE_FILE).read_text(encoding="utf-8")
    for prop in properties:
        section = predicate_section(text, prop.local_name)
        if prop.iri in used:
            first = min(
                (f.line, f.evidence.quote)
                for fs in factsets
                if fs.path.name == "sample.yaml"
                for f in fs.facts
                if f.predicate == prop.iri
            )
            assert first[1] in section, prop.local_name
        else:
            assert "no example in the corpus yet" in section, prop.local_name


def test_check_on_a_stale_guide_fails_and_leaves_it_untouched(cli, sample_corpus: Path) -> None:
    assert guide(cli, sample_corpus).exit_code == 0
    assert guide(cli, sample_corpus, "--check").exit_code == 0
    path = sample_corpus / GUIDE_FILE
    before = path.read_bytes()
    ontology_path = sample_corpus / "ontology" / "carnk.ttl"
    ontology_path.write_text(ontology_path.read_text(encoding="utf-8") + NEW_PROPERTY, encoding="utf-8")
    result = guide(cli, sample_corpus, "--check")
    assert result.exit_code == 1
    assert f"{path}: error: the modelling guide is out of date" in result.output
    assert f"run `carnk-ld guide --root {sample_corpus}` to regenerate it" in result.output
    assert path.read_bytes() == before
    assert sorted(p.name for p in sample_corpus.iterdir() if "CURATING" in p.name) == [GUIDE_FILE]

    path.write_bytes(before + b"a hand edit\n")
    assert guide(cli, sample_corpus).exit_code == 0
    assert guide(cli, sample_corpus, "--check").exit_code == 0
    assert b"a hand edit" not in path.read_bytes()


def test_check_without_a_guide_says_it_is_missing_and_writes_nothing(cli, sample_corpus: Path) -> None:
    result = guide(cli, sample_corpus, "--check")
    assert result.exit_code == 1
    assert "the modelling guide is missing" in result.output
    assert not (sample_corpus / GUIDE_FILE).exists()


def test_the_guide_does_not_depend_on_where_the_corpus_is(cli, sample_corpus: Path, tmp_path: Path) -> None:
    from tests.conftest import write_sample_corpus

    other = write_sample_corpus(PROJECT, tmp_path / "elsewhere" / "corpus")
    assert guide(cli, sample_corpus).exit_code == 0
    assert guide(cli, other).exit_code == 0
    assert (sample_corpus / GUIDE_FILE).read_bytes() == (other / GUIDE_FILE).read_bytes()


def test_broken_facts_are_reported_at_their_line_and_nothing_is_written(cli, sample_corpus: Path) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    edit(facts, "object: UmbilicalCordBlood\n", "object: UmbilicalCordBlod\n")
    result = guide(cli, sample_corpus)
    assert result.exit_code == 2
    assert f"facts/sample.yaml:{place_of(facts, 'UmbilicalCordBlod')}: error: object" in result.output
    assert "Traceback" not in result.output
    assert not (sample_corpus / GUIDE_FILE).exists()


def test_a_broken_ontology_is_reported_at_its_line(cli, sample_corpus: Path) -> None:
    ontology_path = sample_corpus / "ontology" / "carnk.ttl"
    ontology_path.write_text(ontology_path.read_text(encoding="utf-8") + "carnk:Broken a \n", encoding="utf-8")
    result = guide(cli, sample_corpus, "--check")
    assert result.exit_code == 2
    assert re.search(r"ontology/carnk\.ttl:\d+", result.output), result.output
    assert "Traceback" not in result.output


def test_the_guide_never_reaches_the_network(cli, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from carnk_ld import cli as cli_module

    def reaching_out(root: Path):
        socket.getaddrinfo("example.org", 443)
        raise AssertionError("the lookup was not blocked")

    monkeypatch.setattr(cli_module, "load_curation", reaching_out)
    result = guide(cli, sample_corpus)
    assert result.exit_code == 2
    assert "network access blocked" in result.output and "example.org" in result.output


#: How an unknown key reaches each section of the schema in the sample corpus's facts file: (section, text, the
#: text that replaces it). The sample file has no arms, doses or time points, so those cases add one.
_TOP = "\nfacts:\n"
_LICENCE = "  licence: https://creativecommons.org/licenses/by/4.0/\n"
_STUDY = '    population_quote: "patients with relapsed/refractory CD19-positive lymphoid malignancies"\n'
_OUTCOME = "      - id: complete-response\n"
_ARM = '    arms:\n      - id: one\n        quote: "CD19-directed CAR-NK cells from cord blood"\n'
PLACES = [
    ("file", _TOP, f"\n{UNKNOWN}: 1\nfacts:\n"),
    ("metadata", _LICENCE, f"{_LICENCE}  {UNKNOWN}: 1\n"),
    ("facts", "    object: Immunotherapy\n", f"    object: Immunotherapy\n    {UNKNOWN}: 1\n"),
    ("studies", "  - id: cd19-cord-blood-trial\n", f"  - id: cd19-cord-blood-trial\n    {UNKNOWN}: 1\n"),
    ("arms", _STUDY, f"{_STUDY}    arms:\n      - {UNKNOWN}: 1\n"),
    ("dose", _STUDY, f"{_STUDY}{_ARM}        doses:\n          - {UNKNOWN}: 1\n"),
    ("outcomes", _OUTCOME, f"{_OUTCOME}        {UNKNOWN}: 1\n"),
    ("time", _OUTCOME, f"{_OUTCOME}        at:\n          {UNKNOWN}: 1\n"),
    (
        "adverse_events",
        "      - id: cytokine-release-syndrome\n",
        f"      - id: cytokine-release-syndrome\n        {UNKNOWN}: 1\n",
    ),
    ("excluded", "    reason: heading\n", f"    reason: heading\n    {UNKNOWN}: 1\n"),
]


def test_every_section_of_the_schema_is_probed() -> None:
    assert {section for section, _, _ in PLACES} == set(FACTS_SCHEMA)


@pytest.mark.parametrize(("section", "old", "new"), PLACES, ids=[f"{p[0]}-{i}" for i, p in enumerate(PLACES)])
def test_every_key_the_reader_accepts_is_in_the_guide(
    cli, sample_corpus: Path, section: str, old: str, new: str
) -> None:
    assert guide(cli, sample_corpus).exit_code == 0
    text = (sample_corpus / GUIDE_FILE).read_text(encoding="utf-8")
    ontology = load_ontology(sample_corpus / "ontology" / "carnk.ttl")
    edit(sample_corpus / "facts" / "sample.yaml", old, new)
    result = guide(cli, sample_corpus, "--check")
    assert result.exit_code == 2, result.output
    match = re.search(rf"unknown key '{UNKNOWN}' in ([^\n]*)\n  hint: allowed keys: ([^\n]*)", result.output)
    assert match, result.output
    schema = FACTS_SCHEMA[section]
    names = {"dose": ("dose",), "time": ("at",)}.get(section, (schema.what,))  # quantities are named by their key
    assert match.group(1) in names, "probed another section"
    accepted = set(match.group(2).split(", "))
    assert accepted == schema.required | schema.optional, "the reader and FACTS_SCHEMA disagree"
    documented = keys_section(text, schema)
    for key in schema.keys:
        row = next((line for line in documented.splitlines() if line.startswith(f"| `{key.name}` |")), None)
        assert row is not None, f"{key.name} of {section} is not in the guide"
        assert row.split(" | ")[1] == ("required" if key.required else "optional"), row
        if key.values is not None:
            for word in ontology.values(key.values):
                assert f"`{word}`" in row, (word, row)
