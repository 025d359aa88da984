"""Mappings: every identifier valid and verified, every class covered, SSSOM <-> RDF round trip.

Expectations come from the project's mapping set read by sssom-pydantic (an independent SSSOM
reader) and its ontology read by rdflib, so they hold however many classes and mappings there are.
Mapping rows that must be refused are cases of tests/bad_inputs/.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import bioregistry
import pyoxigraph as ox
import pytest
import rdflib
import sssom_pydantic
from rdflib.namespace import OWL, RDF, RDFS

from carnk_ld.constants import GRAPH_MAPPINGS, GRAPH_METADATA, PREFIXES
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.mappings import load_mappings, mapping_triples, render_sssom
from carnk_ld.ontology import load_ontology
from tests.conftest import SHARED, line_of

SKOS = "http://www.w3.org/2004/02/skos/core#"
C = "https://w3id.org/carnk/"
#: The RDF forms the README promises for the vocabularies whose usual web addresses differ.
PREFERRED_RDF_FORMS = {
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "mesh": "http://id.nlm.nih.gov/mesh/",
    "hgnc": "https://identifiers.org/hgnc:",
}


def source_path(root: Path) -> Path:
    return root / "mappings" / "carnk.sssom.tsv"


@pytest.fixture(scope="module")
def source_pack(project_root: Path):
    mappings, converter, metadata = sssom_pydantic.read(source_path(project_root))
    return mappings, converter, metadata


@pytest.fixture(scope="module")
def classes(project_root: Path) -> dict[str, str]:
    """The ontology's carnk: classes and their labels, read by rdflib."""
    graph = rdflib.Graph()
    graph.parse(project_root / "ontology" / "carnk.ttl", format="turtle")
    return {
        str(s): str(graph.value(s, RDFS.label))
        for s in graph.subjects(RDF.type, OWL.Class)
        if isinstance(s, rdflib.URIRef) and str(s).startswith(C)
    }


def curie(ref) -> str:
    return f"{ref.prefix}:{ref.identifier}"


def linked(mappings) -> list:
    return [m for m in mappings if m.object.prefix != "sssom"]


def test_every_row_is_read_and_every_object_curie_is_valid_and_standard(project_root: Path, source_pack) -> None:
    mappings, _, _ = source_pack
    lines = source_path(project_root).read_text(encoding="utf-8").splitlines()
    data_rows = [line for line in lines if line and not line.startswith("#")][1:]
    assert len(mappings) == len(data_rows)
    objects = [curie(m.object) for m in linked(mappings)]
    assert objects
    for value in objects:
        assert bioregistry.is_valid_curie(value) or bioregistry.normalize_curie(value), value
        prefix, local = value.split(":", 1)
        norm = bioregistry.normalize_prefix(prefix)
        assert norm is not None, value
        assert prefix == (bioregistry.get_preferred_prefix(norm) or norm), f"{value}: non-standard prefix"
        assert bioregistry.standardize_identifier(norm, local) == local, value
        pattern = bioregistry.get_pattern(norm)
        assert pattern is None or bioregistry.is_valid_identifier(norm, local), f"{value} fails {pattern}"


def test_every_class_is_mapped_or_explicitly_not_found(source_pack, classes: dict[str, str]) -> None:
    mappings, _, _ = source_pack
    subjects = {C + m.subject.identifier for m in mappings}
    assert set(classes) - subjects == set()
    for m in mappings:
        if m.object.prefix == "sssom":
            assert m.object.identifier == "NoTermFound"
            assert m.comment and "No term found" in m.comment, m.subject


def test_known_pitfalls_are_absent(source_pack) -> None:
    """The wrong or retired identifiers the reference warns about (comments may name them as warnings)."""
    mappings, _, _ = source_pack
    objects = {curie(m.object) for m in mappings}
    for wrong in ("NCIT:C155798", "NCIT:C116733", "mesh:D000078465", "NCIT:C12535"):
        assert wrong not in objects, wrong


def test_identifiers_are_verified_in_the_reference_or_name_their_evidence(source_pack) -> None:
    """Each object is a VERIFIED row of ../shared/reference with the same label, or says where it was checked."""
    reference = SHARED / "reference" / "vocabulary-ids.md"
    if not reference.exists():
        pytest.skip("../shared/reference is absent in this clone")
    rows = [
        line
        for line in reference.read_text(encoding="utf-8").splitlines()
        if "VERIFIED (P)" in line or "VERIFIED (D)" in line
    ]
    mappings, _, _ = source_pack
    for m in linked(mappings):
        value = curie(m.object)
        variants = {f"`{value}`", f"`{value.upper()}`", f"`{m.object.prefix.upper()}:{m.object.identifier}`"}
        verified = any(any(v in row for v in variants) and m.object.name in row for row in rows)
        assert verified or "checked in" in (m.comment or ""), f"{value} ({m.object.name}) has no evidence"


def mapping_quads(release: Path) -> list[ox.Quad]:
    return [q for q in ox.parse(path=str(release / "carnk.nq")) if q.graph_name.value == GRAPH_MAPPINGS]


def test_release_sssom_round_trips_to_the_rdf(release: Path, source_pack) -> None:
    mappings, converter, _ = sssom_pydantic.read(release / "carnk.sssom.tsv")
    from_tsv = {
        (converter.expand(curie(m.subject)), converter.expand(curie(m.predicate)), converter.expand(curie(m.object)))
        for m in linked(mappings)
    }
    quads = mapping_quads(release)
    skos = {(q.subject.value, q.predicate.value, q.object.value) for q in quads if q.predicate.value.startswith(SKOS)}
    assert from_tsv == skos
    source, _, _ = source_pack
    assert {(curie(m.subject), curie(m.predicate), curie(m.object)) for m in source} == {
        (curie(m.subject), curie(m.predicate), curie(m.object)) for m in mappings
    }
    turtle = {q.triple for q in ox.parse(path=str(release / "carnk.sssom.ttl"))}
    assert turtle == {q.triple for q in quads}


def test_rdf_iris_use_bioregistry_preferred_forms(release: Path, source_pack) -> None:
    mappings, converter, _ = source_pack
    objects = {q.object.value for q in mapping_quads(release) if q.predicate.value.startswith(SKOS)}
    assert objects == {converter.expand(curie(m.object)) for m in linked(mappings)}
    for m in linked(mappings):
        prefix = m.object.prefix
        obo = bioregistry.get_obofoundry_prefix(prefix)
        expected = PREFERRED_RDF_FORMS.get(prefix) or (f"http://purl.obolibrary.org/obo/{obo}_" if obo else None)
        if expected:
            assert converter.expand(curie(m.object)) == expected + m.object.identifier
    assert not any("meshb.nlm.nih.gov" in o or "genenames.org" in o for o in objects)


def test_dbxrefs_for_exact_matches_only(release: Path, source_pack) -> None:
    mappings, _, _ = source_pack
    triples = [q.triple for q in mapping_quads(release)]
    xrefs = {(t.subject.value, t.object.value) for t in triples if t.predicate.value.endswith("#hasDbXref")}
    expected = {
        (C + m.subject.identifier, curie(m.object)) for m in linked(mappings) if m.predicate.identifier == "exactMatch"
    }
    assert expected, "the mapping set has exact matches"
    assert xrefs == expected


def test_void_linkset_counts_match_the_mapping_set(release: Path, source_pack) -> None:
    mappings, _, _ = source_pack
    meta = [q.triple for q in ox.parse(path=str(release / "carnk.nq")) if q.graph_name.value == GRAPH_METADATA]
    counts = {
        t.subject.value.split("/linkset/")[1]: int(t.object.value)
        for t in meta
        if t.predicate.value == "http://rdfs.org/ns/void#triples" and "/linkset/" in t.subject.value
    }
    expected = Counter(
        f"{bioregistry.normalize_prefix(m.object.prefix)}/{m.predicate.identifier}" for m in linked(mappings)
    )
    assert counts == dict(expected)


def test_coverage_report(cli, project_root: Path, source_pack, classes: dict[str, str]) -> None:
    mappings, _, _ = source_pack
    kinds: dict[str, set[str]] = defaultdict(set)
    by_vocabulary: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for m in linked(mappings):
        kind = "exact" if m.predicate.identifier == "exactMatch" else "other"
        kinds[C + m.subject.identifier].add(kind)
        by_vocabulary[m.object.prefix.lower()][m.subject.identifier].add(kind)
    exact = sum("exact" in kinds[c] for c in classes)
    other = sum(bool(kinds[c]) and "exact" not in kinds[c] for c in classes)
    result = cli("mappings", "--root", str(project_root))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{len(classes)} classes: {exact} with an exact match, {other} with only close/broad/narrow/related "
        f"matches, {len(classes) - exact - other} with no term found (sssom:NoTermFound)"
    )
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows == {
        vocabulary: [
            str(sum("exact" in k for k in subjects.values())),
            str(sum("exact" not in k for k in subjects.values())),
            str(len(subjects)),
        ]
        for vocabulary, subjects in by_vocabulary.items()
    }


def test_unmapped_class_is_reported_at_its_ontology_line(
    cli, sample_corpus: Path, tmp_path: Path, classes: dict[str, str]
) -> None:
    path = source_path(sample_corpus)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(line for line in lines if line.startswith("carnk:"))
    local = first.split("\t", 1)[0].removeprefix("carnk:")
    path.write_text("\n".join(line for line in lines if not line.startswith(f"carnk:{local}\t")) + "\n", "utf-8")
    result = cli("build", "--root", str(sample_corpus), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    line = line_of(sample_corpus / "ontology" / "carnk.ttl", f"carnk:{local} a owl:Class")
    assert (
        f"ontology/carnk.ttl:{line}: error: class <{C}{local}> ({classes[C + local]}) has no mapping" in result.output
    )


def test_no_term_found_needs_a_comment(corpus: Path) -> None:
    path = source_path(corpus)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "\tsssom:NoTermFound\t" in line)
    cells = lines[index].split("\t")
    cells[-1] = ""
    lines[index] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises((InputError, InputErrors)) as info:
        load_mappings(path, load_ontology(corpus / "ontology" / "carnk.ttl"))
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    (error,) = [e for e in errors if "needs a comment naming the vocabularies checked" in e.message]
    assert error.location.line == index + 1


def mapping_errors(project_root: Path, tmp_path: Path, edit) -> list[InputError]:
    """The errors of the project's mapping set after ``edit`` (old text -> new text) of its header."""
    path = tmp_path / "carnk.sssom.tsv"
    text = source_path(project_root).read_text(encoding="utf-8")
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises((InputError, InputErrors)) as info:
        load_mappings(path, load_ontology(project_root / "ontology" / "carnk.ttl"))
    return info.value.errors if isinstance(info.value, InputErrors) else [info.value]


def header_line(text: str, prefix: str) -> str:
    return next(line for line in text.split("\n") if line.startswith(prefix))


@pytest.mark.parametrize("prefix", ["carnk", "skos", "semapv", "sssom"])
def test_curie_map_may_not_redefine_a_release_prefix(project_root: Path, tmp_path: Path, prefix: str) -> None:
    def edit(text: str) -> str:
        return text.replace(header_line(text, f"#   {prefix}: "), f"#   {prefix}: http://example.org/{prefix}/")

    errors = mapping_errors(project_root, tmp_path, edit)
    (error,) = [e for e in errors if e.message.startswith(f"curie_map: prefix {prefix}:")]
    assert f"but the release binds it to <{PREFIXES[prefix]}>" in error.message
    lines = (tmp_path / "carnk.sssom.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[error.location.line - 1] == f"#   {prefix}: http://example.org/{prefix}/"


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ('"two\\nlines"', "U+000A"),
        ('"a bell \\a"', "U+0007"),
        ('"line\\u2028separator"', "U+2028"),
        ("|\n#   block", "U+000A"),
    ],
)
def test_metadata_values_are_one_line(project_root: Path, tmp_path: Path, value: str, char: str) -> None:
    def edit(text: str) -> str:
        return text.replace(header_line(text, "# mapping_set_title: "), f"# mapping_set_title: {value}")

    (error,) = mapping_errors(project_root, tmp_path, edit)
    assert error.message.startswith(f"mapping_set_title contains the character {char}")
    assert error.location.line == line_of(tmp_path / "carnk.sssom.tsv", "# mapping_set_title:")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("license", "CC-BY-4.0", "license must be an absolute IRI"),
        ("license", "https://example.org/a licence", "license must be an absolute IRI"),
        ("mapping_set_id", "carnk.sssom.tsv", "mapping_set_id must be an absolute IRI"),
        ("mapping_date", "2026-02-30", "'2026-02-30' is not a valid xsd:date: day is out of range for month"),
        ("mapping_date", "2028-02-29", None),
        ("mapping_date", "2026-02-03Z", "mapping_date must be a date, YYYY-MM-DD"),
        ("mapping_date", "|\n#   2026-02-03", "mapping_date contains the character U+000A"),
    ],
)
def test_metadata_published_as_iris_and_dates_are_checked(
    project_root: Path, tmp_path: Path, key: str, value: str, fragment: str | None
) -> None:
    def edit(text: str) -> str:
        return text.replace(header_line(text, f"# {key}: "), f"# {key}: {value}")

    if fragment is None:  # a leap day is a date, and is published as written
        path = tmp_path / "carnk.sssom.tsv"
        path.write_text(edit(source_path(project_root).read_text(encoding="utf-8")), encoding="utf-8")
        loaded = load_mappings(path, load_ontology(project_root / "ontology" / "carnk.ttl"))
        assert loaded.metadata[key] == value
        return
    (error,) = mapping_errors(project_root, tmp_path, edit)
    assert error.message.startswith(fragment)
    assert error.location.line == line_of(tmp_path / "carnk.sssom.tsv", f"# {key}:")


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_rows_hold_no_line_breaks_tsv_readers_split_at(project_root: Path, tmp_path: Path, char: str) -> None:
    def edit(text: str) -> str:
        return text.replace("\tsssom:NoTermFound\t", f"\tsssom:NoTerm{char}Found\t", 1)

    (error,) = mapping_errors(project_root, tmp_path, edit)
    assert error.message == f"character U+{ord(char):04X} is not allowed in an SSSOM TSV file"
    row = next(
        i for i, line in enumerate(edit(source_path(project_root).read_text("utf-8")).split("\n")) if char in line
    )
    assert error.location.line == row + 1
    assert error.location.column is not None


def with_row_dates(text: str, date: str) -> str:
    """The mapping set with a mapping_date column: ``date`` on the first row, empty on the others."""
    lines = text.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("subject_id\t"))
    lines[header] += "\tmapping_date"
    for i in range(header + 1, len(lines)):
        if lines[i]:
            lines[i] += "\t" + (date if i == header + 1 else "")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("date", "fragment"),
    [
        ("2026-02-30", "'2026-02-30' is not a valid xsd:date: day is out of range for month (mapping_date)"),
        ("2026-13-01", "'2026-13-01' is not a valid xsd:date"),
        ("2026-02-03Z", "mapping_date '2026-02-03Z' must be a date, YYYY-MM-DD"),
    ],
)
def test_a_row_s_mapping_date_is_judged_as_a_typed_literal(
    project_root: Path, tmp_path: Path, date: str, fragment: str
) -> None:
    (error,) = mapping_errors(project_root, tmp_path, lambda text: with_row_dates(text, date))
    assert error.message.startswith(fragment)
    assert error.location.line == line_of(tmp_path / "carnk.sssom.tsv", f"\t{date}")


def test_a_row_s_mapping_date_is_published_as_an_xsd_date(project_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "carnk.sssom.tsv"
    path.write_text(with_row_dates(source_path(project_root).read_text(encoding="utf-8"), "2024-02-29"), "utf-8")
    loaded = load_mappings(path, load_ontology(project_root / "ontology" / "carnk.ttl"))
    dated = [m for m in loaded.mappings if m.mapping_date]
    assert [m.mapping_date for m in dated] == ["2024-02-29"]
    date = ox.Literal("2024-02-29", datatype=ox.NamedNode(PREFIXES["xsd"] + "date"))
    records = [t.subject for t in mapping_triples(loaded) if t.object == date]
    assert len(records) == 1 and records[0] != ox.NamedNode(PREFIXES["kg"] + "mappingset/carnk")
    release = render_sssom(loaded).decode("utf-8").split("\n")
    header = next(line for line in release if line.startswith("subject_id\t"))
    assert header.endswith("\tmapping_date")
    assert sum(line.endswith("\t2024-02-29") for line in release) == 1
