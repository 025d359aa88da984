"""The command line: exit codes, messages, and that failures never touch the last release."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import edit, line_of, run_process, tree_bytes


def build(cli, root: Path, out: Path):
    return cli("build", "--root", str(root), "--out", str(out))


def test_help_documents_the_exit_codes(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "0 ok; 1 SHACL validation failed or a quality gate failed" in result.output
    assert "2 bad input" in result.output


def test_build_prints_a_summary(cli, corpus: Path, tmp_path: Path) -> None:
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "documents:  1" in result.output
    assert "segments:   25 (5 list items, 20 sentences); 2 excluded with a reason" in result.output
    assert "validation: conforms" in result.output
    assert "time:" in result.output and "triples:" in result.output


def test_python_dash_m_works(tmp_path: Path) -> None:
    result = run_process("--version")
    assert result.returncode == 0 and "carnk-ld" in result.stdout


def test_quote_not_found_fails_with_file_line_and_keeps_release(cli, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(cli, corpus, out).exit_code == 0
    before = tree_bytes(out)
    facts = corpus / "facts" / "carnk-overview.yaml"
    edit(facts, '"NK cell lines"', '"NK cell line s"')
    result = build(cli, corpus, out)
    assert result.exit_code == 2
    line = line_of(facts, "NK cell line s")
    assert f"facts/carnk-overview.yaml:{line}: error: quote not found verbatim" in result.output
    assert "previous release is untouched" in result.output
    assert tree_bytes(out) == before


def test_unknown_term_fails_with_suggestion(cli, corpus: Path, tmp_path: Path) -> None:
    edit(corpus / "facts" / "carnk-overview.yaml", "object: NKCellLine\n", "object: NKCelLine\n")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert "object 'NKCelLine' is not declared in the ontology" in result.output
    assert "did you mean 'NKCellLine'?" in result.output
    assert not (tmp_path / "out").exists()


def test_edited_document_is_caught_by_its_checksum(cli, corpus: Path, tmp_path: Path) -> None:
    doc = corpus / "documents" / "carnk-overview.txt"
    doc.write_bytes(doc.read_bytes() + b"NK cells are small.\n")
    edit(corpus / "facts" / "carnk-overview.yaml", "sha256: 54e1", "sha256: XXXX")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert "has changed since these facts were curated" in result.output


def test_new_sentence_without_fact_is_an_unaccounted_segment(cli, corpus: Path, tmp_path: Path) -> None:
    doc = corpus / "documents" / "carnk-overview.txt"
    doc.write_bytes(doc.read_bytes() + b"NK cells are small.\n")
    facts = corpus / "facts" / "carnk-overview.yaml"
    text = facts.read_text(encoding="utf-8")
    old = text.split("sha256: ", 1)[1].split("\n", 1)[0]
    facts.write_text(text.replace(old, hashlib.sha256(doc.read_bytes()).hexdigest()), encoding="utf-8")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert "documents/carnk-overview.txt:26: error: segment 26 yields no fact and is not excluded" in result.output


def test_shape_violation_exits_1_and_points_to_the_facts_line(cli, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(cli, corpus, out).exit_code == 0
    before = tree_bytes(out)
    (corpus / "shapes" / "local.shapes.ttl").write_text(
        """@prefix carnk: <https://w3id.org/carnk/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
<https://example.org/NoNotes> a sh:NodeShape ; sh:targetClass carnk:Statement ;
    sh:property [ sh:path rdfs:comment ; sh:maxCount 0 ; sh:message "House rule: no curator notes." ] .
""",
        encoding="utf-8",
    )
    result = build(cli, corpus, out)
    assert result.exit_code == 1
    facts = corpus / "facts" / "carnk-overview.yaml"
    line = line_of(facts, "id: nk-cell-therapy-is-immunotherapy")
    assert f"facts/carnk-overview.yaml:{line}: Violation: House rule: no curator notes." in result.output
    assert "focus <https://w3id.org/carnk/kg/fact/carnk-overview/nk-cell-therapy-is-immunotherapy>" in result.output
    assert tree_bytes(out) == before


def test_ontology_term_without_definition_fails_validation(cli, corpus: Path, tmp_path: Path) -> None:
    ontology = corpus / "ontology" / "carnk.ttl"
    edit(ontology, '    obo:IAO_0000115 "Administration into a vein."@en ;\n', "")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 1
    line = line_of(ontology, "carnk:IntravenousAdministration a owl:Class")
    assert f"ontology/carnk.ttl:{line}: Violation: Every carnk: term needs a textual definition" in result.output


def test_malformed_ontology_reports_line_and_column(cli, corpus: Path, tmp_path: Path) -> None:
    ontology = corpus / "ontology" / "carnk.ttl"
    edit(ontology, 'rdfs:label "NK cell"@en ;', 'rdfs:label "NK cell@en ;')
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert "ontology/carnk.ttl:" in result.output and "RDF syntax error" in result.output


def test_out_directory_that_is_not_a_release_is_not_replaced(cli, corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = build(cli, corpus, out)
    assert result.exit_code == 2
    assert "is not a carnk-ld release" in result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_unexpected_files_in_the_corpus_are_not_skipped(cli, corpus: Path, tmp_path: Path) -> None:
    shutil.copy(corpus / "facts" / "carnk-overview.yaml", corpus / "facts" / "carnk-overview.yml")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert "facts/carnk-overview.yml: error: unexpected entry in facts/" in result.output


def test_check_writes_nothing(cli, corpus: Path) -> None:
    result = cli("check", "--root", str(corpus))
    assert result.exit_code == 0, result.output
    assert "SHACL conforms" in result.output
    assert not (corpus / "build").exists()


def test_default_out_is_build_under_the_root(cli, corpus: Path) -> None:
    result = cli("build", "--root", str(corpus))
    assert result.exit_code == 0, result.output
    assert (corpus / "build" / "SHA256SUMS").is_file()
    assert not list(corpus.glob(".build.staging-*")), "staging directories must not be left behind"


def test_errors_in_several_facts_are_reported_together(cli, corpus: Path, tmp_path: Path) -> None:
    facts = corpus / "facts" / "carnk-overview.yaml"
    edit(facts, '"NK cell lines"', '"NK cell line s"')
    edit(facts, "object: UmbilicalCordBlood\n", "object: UmbilicalCordBlod\n")
    result = build(cli, corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert f"facts/carnk-overview.yaml:{line_of(facts, 'UmbilicalCordBlod')}: error: object" in result.output
    assert f"facts/carnk-overview.yaml:{line_of(facts, 'NK cell line s')}: error: quote not found" in result.output


GATE_BREAKERS = {
    "ontology syntax": ("ontology/carnk.ttl", 'rdfs:label "T cell"@en', 'rdfs:label "T cell@en', 2),
    "subclass cycle": (
        "ontology/carnk.ttl",
        "carnk:Cell a owl:Class ;",
        "carnk:Cell a owl:Class ;\n    rdfs:subClassOf carnk:NKCell ;",
        2,
    ),
    "unsatisfiable class": (
        "ontology/carnk.ttl",
        "rdfs:subClassOf carnk:TCell ;",
        "rdfs:subClassOf carnk:TCell , carnk:NKCell ;",
        1,
    ),
    "QC error": (
        "ontology/carnk.ttl",
        "carnk:NKCell a owl:Class ;",
        "carnk:NKCell a owl:Class ;\n    owl:deprecated true ;",
        1,
    ),
    "unknown facts key": ("facts/carnk-overview.yaml", "patients: 11", "patients: 11\n    label_extra: 1", 2),
    "SHACL": ("ontology/carnk.ttl", '    obo:IAO_0000115 "Administration into a vein."@en ;\n', "", 1),
    "quote": ("facts/carnk-overview.yaml", '"Hematopoietic stem cells"', '"Hematopoietic stem cell s"', 2),
    "YAML alias": ("facts/carnk-overview.yaml", "  - id: carnk-from-hsc", "  - id: &x carnk-from-hsc", 2),
}


@pytest.mark.parametrize("gate", sorted(GATE_BREAKERS))
def test_every_gate_failure_leaves_the_previous_release_byte_identical(
    cli, corpus: Path, tmp_path: Path, gate: str
) -> None:
    out = tmp_path / "out"
    assert build(cli, corpus, out).exit_code == 0
    before = tree_bytes(out)
    relative, old, new, code = GATE_BREAKERS[gate]
    edit(corpus / relative, old, new)
    result = build(cli, corpus, out)
    assert result.exit_code == code, result.output
    assert f"{Path(relative)}:" in result.output, result.output
    assert "previous release is untouched" in result.output
    assert tree_bytes(out) == before
    assert not list(tmp_path.glob(".out.staging-*")) + list(tmp_path.glob(".out.old-*")), "no staging directory left"
