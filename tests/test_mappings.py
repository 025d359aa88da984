"""Mappings: every identifier valid and verified, every class covered, SSSOM <-> RDF round trip."""

from __future__ import annotations

from pathlib import Path

import bioregistry
import pyoxigraph as ox
import pytest
import sssom_pydantic

from carnk_ld.constants import GRAPH_MAPPINGS, GRAPH_METADATA
from carnk_ld.mappings import load_mappings
from carnk_ld.ontology import load_ontology
from tests.conftest import PROJECT, SHARED, edit, line_of

SOURCE = PROJECT / "mappings" / "carnk.sssom.tsv"
SKOS = "http://www.w3.org/2004/02/skos/core#"
C = "https://w3id.org/carnk/"


@pytest.fixture(scope="module")
def source_pack():
    mappings, converter, metadata = sssom_pydantic.read(SOURCE)
    return mappings, converter, metadata


@pytest.fixture(scope="module")
def ontology():
    return load_ontology(PROJECT / "ontology" / "carnk.ttl")


def curie(ref) -> str:
    return f"{ref.prefix}:{ref.identifier}"


def test_every_object_curie_is_valid_and_standard_per_bioregistry(source_pack) -> None:
    mappings, _, _ = source_pack
    objects = [curie(m.object) for m in mappings if m.object.prefix != "sssom"]
    assert len(objects) > 100
    for value in objects:
        assert bioregistry.is_valid_curie(value) or bioregistry.normalize_curie(value), value
        prefix, local = value.split(":", 1)
        norm = bioregistry.normalize_prefix(prefix)
        assert norm is not None, value
        assert prefix == (bioregistry.get_preferred_prefix(norm) or norm), f"{value}: non-standard prefix"
        assert bioregistry.standardize_identifier(norm, local) == local, value
        pattern = bioregistry.get_pattern(norm)
        assert pattern is None or bioregistry.is_valid_identifier(norm, local), f"{value} fails {pattern}"


def test_every_class_is_mapped_or_explicitly_not_found(source_pack, ontology) -> None:
    mappings, _, _ = source_pack
    subjects = {C + m.subject.identifier for m in mappings}
    classes = {iri for iri, t in ontology.terms.items() if t.kind == "class" and iri.startswith(C)}
    assert classes - subjects == set()
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
    for m in mappings:
        if m.object.prefix == "sssom":
            continue
        value = curie(m.object)
        variants = {f"`{value}`", f"`{value.upper()}`", f"`{m.object.prefix.upper()}:{m.object.identifier}`"}
        verified = any(any(v in row for v in variants) and m.object.name in row for row in rows)
        assert verified or "checked in" in (m.comment or ""), f"{value} ({m.object.name}) has no evidence"


def test_release_sssom_round_trips_to_the_rdf(release: Path) -> None:
    mappings, converter, _ = sssom_pydantic.read(release / "carnk.sssom.tsv")
    from_tsv = {
        (converter.expand(curie(m.subject)), converter.expand(curie(m.predicate)), converter.expand(curie(m.object)))
        for m in mappings
        if m.object.prefix != "sssom"
    }
    quads = [q for q in ox.parse(path=str(release / "carnk.nq")) if q.graph_name.value == GRAPH_MAPPINGS]
    skos = {(q.subject.value, q.predicate.value, q.object.value) for q in quads if q.predicate.value.startswith(SKOS)}
    assert from_tsv == skos
    source, _, _ = sssom_pydantic.read(SOURCE)
    assert {(curie(m.subject), curie(m.predicate), curie(m.object)) for m in source} == {
        (curie(m.subject), curie(m.predicate), curie(m.object)) for m in mappings
    }
    turtle = {q.triple for q in ox.parse(path=str(release / "carnk.sssom.ttl"))}
    assert turtle == {q.triple for q in quads}


def test_rdf_iris_use_bioregistry_preferred_forms(release: Path) -> None:
    objects = {
        q.object.value
        for q in ox.parse(path=str(release / "carnk.nq"))
        if q.graph_name.value == GRAPH_MAPPINGS and q.predicate.value.startswith(SKOS)
    }
    assert "http://purl.obolibrary.org/obo/NCIT_C15262" in objects
    assert "http://id.nlm.nih.gov/mesh/D007167" in objects
    assert "https://identifiers.org/hgnc:5977" in objects
    assert "http://www.ebi.ac.uk/efo/EFO_0004905" in objects
    assert not any("meshb.nlm.nih.gov" in o or "genenames.org" in o for o in objects)


def test_dbxrefs_only_for_exact_matches(release: Path) -> None:
    triples = [q.triple for q in ox.parse(path=str(release / "carnk.nq")) if q.graph_name.value == GRAPH_MAPPINGS]
    xrefs = {(t.subject.value, t.object.value) for t in triples if t.predicate.value.endswith("#hasDbXref")}
    exact = {(t.subject.value, t.object.value) for t in triples if t.predicate.value == SKOS + "exactMatch"}
    assert ("https://w3id.org/carnk/NKCell", "CL:0000623") in xrefs
    assert len(xrefs) == len(exact)
    assert ("https://w3id.org/carnk/CARNKCell", "CL:0000623") not in xrefs  # a broad match


def test_void_linkset_counts_match_the_links(release: Path) -> None:
    quads = list(ox.parse(path=str(release / "carnk.nq")))
    meta = [q.triple for q in quads if q.graph_name.value == GRAPH_METADATA]
    counts = {}
    for t in meta:
        if t.predicate.value == "http://rdfs.org/ns/void#triples" and "/linkset/" in t.subject.value:
            counts[t.subject.value.split("/linkset/")[1]] = int(t.object.value)
    assert counts["ncit/exactMatch"] == 18
    links = [q for q in quads if q.graph_name.value == GRAPH_MAPPINGS and q.predicate.value.startswith(SKOS)]
    assert sum(counts.values()) == len(links)


def test_coverage_report(cli) -> None:
    result = cli("mappings")
    assert result.exit_code == 0, result.output
    assert (
        "94 classes: 37 with an exact match, 30 with only close/broad/narrow/related matches, 27 with no term found"
        in result.output
    )
    assert any(line.split()[:4] == ["ncit", "18", "12", "30"] for line in result.output.splitlines())


IMMUNO = "carnk:Immunotherapy\timmunotherapy\tskos:exactMatch\t"
BAD = {
    "unknown prefix": (IMMUNO + "NCIT:C15262", IMMUNO + "FOO:C15262", "unknown prefix 'FOO'"),
    "malformed identifier": (
        IMMUNO + "NCIT:C15262",
        IMMUNO + "NCIT:15262",
        "does not match the NCIT identifier pattern",
    ),
    "non-standard prefix": (IMMUNO + "mesh:D007167", IMMUNO + "MESH:D007167", "write mesh:D007167"),
    "bad predicate": (
        IMMUNO + "NCIT:C15262",
        IMMUNO.replace("skos:exactMatch", "owl:sameAs") + "NCIT:C15262",
        "not one of",
    ),
    "unknown class": (IMMUNO + "NCIT:C15262", "carnk:Immunotherapie" + IMMUNO[19:] + "NCIT:C15262", "is not a class"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_mapping_fails_with_file_and_line(cli, corpus: Path, tmp_path: Path, case: str) -> None:
    old, new, fragment = BAD[case]
    path = corpus / "mappings" / "carnk.sssom.tsv"
    edit(path, old, new)
    result = cli("build", "--root", str(corpus), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    line = line_of(path, new)
    assert f"mappings/carnk.sssom.tsv:{line}: error:" in result.output, result.output
    assert fragment in result.output


def test_curie_map_must_use_the_preferred_rdf_form(cli, corpus: Path, tmp_path: Path) -> None:
    edit(
        corpus / "mappings" / "carnk.sssom.tsv",
        "#   mesh: http://id.nlm.nih.gov/mesh/",
        "#   mesh: https://meshb.nlm.nih.gov/record/ui?ui=",
    )
    result = cli("build", "--root", str(corpus), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "its preferred RDF form is http://id.nlm.nih.gov/mesh/" in result.output


def test_unmapped_class_is_reported_at_its_ontology_line(cli, corpus: Path, tmp_path: Path) -> None:
    path = corpus / "mappings" / "carnk.sssom.tsv"
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("carnk:Cryopreservation\t")
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("build", "--root", str(corpus), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    line = line_of(corpus / "ontology" / "carnk.ttl", "carnk:Cryopreservation a owl:Class")
    assert (
        f"ontology/carnk.ttl:{line}: error: class <{C}Cryopreservation> (cryopreservation) has no mapping"
        in result.output
    )


def test_no_term_found_needs_a_comment(corpus: Path) -> None:
    from carnk_ld.errors import InputError, InputErrors

    path = corpus / "mappings" / "carnk.sssom.tsv"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("carnk:Advantage\t"))
    cells = lines[index].split("\t")
    cells[-1] = ""
    lines[index] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises((InputError, InputErrors)) as info:
        load_mappings(path, load_ontology(corpus / "ontology" / "carnk.ttl"))
    assert "needs a comment naming the vocabularies checked" in str(info.value)
