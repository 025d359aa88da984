"""The SSSOM/RDF file of a release reads back, with sssom-py, as the same mapping set as its SSSOM/TSV.

sssom-py (the SSSOM project's own library) reads both files; every mapping and every field of the
TSV (ids, labels, predicate, justification, comment, dates, the propagated set slots) and the set's
metadata must survive the RDF. Entity references are compared as IRIs, since SSSOM/TSV may write an
IRI where the RDF reader gives a CURIE of the same IRI.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyoxigraph as ox
import pytest
from sssom.parsers import parse_sssom_rdf, parse_sssom_table

from carnk_ld.constants import PREFIXES
from carnk_ld.mappings import load_mappings, mapping_triples, render_sssom
from carnk_ld.ontology import load_ontology
from carnk_ld.rdfio import serialize_bytes
from carnk_ld.serialise import sssom_prefixes
from tests.test_mappings import source_path, with_row_dates

#: The slots whose values are entity references (CURIEs or IRIs).
REFERENCES = ("subject_id", "predicate_id", "object_id", "mapping_justification", "subject_source", "object_source")
KEY = ("subject_id", "predicate_id", "object_id")


def _records(msdf) -> dict[tuple[str, ...], dict[str, str]]:
    """Each mapping of a sssom-py mapping set: its slots, empty ones left out, references as IRIs."""
    converter = msdf.converter
    records = {}
    for row in msdf.df.to_dict("records"):
        values = {}
        for column, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
                continue
            text = str(value)
            if column in REFERENCES:
                text = converter.expand(text) or text
            values[column] = text
        key = tuple(values[k] for k in KEY)
        assert key not in records, f"two mappings {key}"
        records[key] = values
    return records


def assert_same_mapping_set(tsv: Path, ttl: Path) -> dict[tuple[str, ...], dict[str, str]]:
    from_tsv = parse_sssom_table(tsv)
    from_rdf = parse_sssom_rdf(ttl)
    # as text: sssom-py gives a date read from RDF as a date, read from TSV as a string
    assert {k: str(v) for k, v in from_rdf.metadata.items()} == {k: str(v) for k, v in from_tsv.metadata.items()}
    expected, found = _records(from_tsv), _records(from_rdf)
    assert expected, "the TSV has mappings"
    assert found.keys() == expected.keys()
    for key, values in expected.items():
        # record_id is the RDF's own (SSSOM/RDF names each record); every TSV field must be there as it was
        assert {k: v for k, v in found[key].items() if k != "record_id"} == values, key
    return expected


def test_a_release_s_sssom_rdf_reads_back_as_its_tsv(sample_release: Path) -> None:
    records = assert_same_mapping_set(sample_release / "carnk.sssom.tsv", sample_release / "carnk.sssom.ttl")
    fields = set().union(*(r.keys() for r in records.values()))
    # the fields sssom-py lost from the non-standard RDF are among those compared
    assert {"subject_label", "mapping_date", "mapping_provider", "subject_source", "subject_source_version"} <= fields


def test_row_dates_and_a_curie_subject_source_survive_the_rdf(project_root: Path, tmp_path: Path) -> None:
    text = with_row_dates(source_path(project_root).read_text(encoding="utf-8"), "2024-02-29")
    text = text.replace("# subject_source: https://w3id.org/carnk/ontology\n", "# subject_source: carnk:ontology\n")
    assert "# subject_source: carnk:ontology\n" in text
    source = tmp_path / "in.sssom.tsv"
    source.write_text(text, encoding="utf-8")
    mapping_set = load_mappings(source, load_ontology(project_root / "ontology" / "carnk.ttl"))
    tsv, ttl = tmp_path / "out.sssom.tsv", tmp_path / "out.sssom.ttl"
    tsv.write_bytes(render_sssom(mapping_set))
    ttl.write_bytes(
        serialize_bytes(mapping_triples(mapping_set), format=ox.RdfFormat.TURTLE, prefixes=sssom_prefixes(mapping_set))
    )
    records = assert_same_mapping_set(tsv, ttl)
    # SSSOM propagates no set value to a column some rows fill: the other rows have no date
    assert [r["mapping_date"] for r in records.values() if "mapping_date" in r] == ["2024-02-29"]
    assert "mapping_date" in parse_sssom_rdf(ttl).metadata
    assert {r["subject_source"] for r in records.values()} == {PREFIXES["carnk"] + "ontology"}


@pytest.mark.parametrize(
    ("slot", "prop"),
    [
        ("mapping_date", "http://purl.org/dc/terms/created"),
        ("license", "http://purl.org/dc/terms/license"),
        ("mapping_set_version", "http://www.w3.org/2002/07/owl#versionInfo"),
        ("comment", "http://www.w3.org/2000/01/rdf-schema#comment"),
        ("subject_label", "https://w3id.org/sssom/subject_label"),
    ],
)
def test_slots_use_the_sssom_schema_s_slot_uris(sample_release: Path, slot: str, prop: str) -> None:
    """Spot checks against the schema (sssom_schema.yaml's slot_uri, else sssom: and the slot's name)."""
    predicates = {t.predicate.value for t in ox.parse(path=str(sample_release / "carnk.sssom.ttl"))}
    assert prop in predicates, slot
    assert not any(p.startswith("https://w3id.org/sssom/mapping_date") for p in predicates)
