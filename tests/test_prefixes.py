"""The release file (prefixes and dataset description) is the one place they are stated.

The package reads ``carnk_ld/release.ttl`` strictly; the release, the JSON-LD context and the
VoID description follow it; the licence follows the ontology header; every prefix that the
project's queries, shapes, ontology and mappings declare agrees with it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld import qc
from carnk_ld.constants import DATASET, PREFIXES, RELEASE_FILE, read_release_data
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.graph import metadata_graph
from carnk_ld.mappings import load_mappings
from carnk_ld.ontology import load_ontology
from carnk_ld.vocab import declared_prefixes, prefix_conflict
from tests.conftest import PROJECT, edit, run_process

SH = "http://www.w3.org/ns/shacl#"


def release_lines() -> list[tuple[str, str]]:
    """The PREFIX lines of the release file, read independently of the package's reader."""
    text = RELEASE_FILE.read_text(encoding="utf-8")
    return re.findall(r"^PREFIX (\S+): <(\S+)>$", text, flags=re.MULTILINE)


def test_the_package_reads_its_prefixes_in_file_order() -> None:
    assert list(PREFIXES.items()) == release_lines()
    assert len(PREFIXES) >= 16


def test_the_release_writes_the_file_prefixes(release: Path) -> None:
    context = json.loads((release / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert list(context.items()) == release_lines()  # JSON-LD 1.0: no @version
    inline = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))["@context"]
    assert inline == context
    header = (release / "carnk.ttl").read_text(encoding="utf-8").split("\n")
    declared = {m.group(1): m.group(2) for line in header if (m := re.match(r"@prefix (\S+): <(\S+)> \.$", line))}
    assert declared == dict(release_lines())


# -- strict reading --------------------------------------------------------------------------

GOOD = RELEASE_FILE.read_text(encoding="utf-8")


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in GOOD, old
    path = tmp_path / "release.ttl"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def line_in(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if needle in line)


DCTERMS = "PREFIX dcterms: <http://purl.org/dc/terms/>\n"

BAD_FILES = {
    "a name declared twice": (DCTERMS, DCTERMS + "PREFIX dcterms: <http://purl.org/dc/elements/1.1/>\n",
                              "elements/1.1", "prefix dcterms: is declared again (first on line"),
    "two names for one namespace": (DCTERMS, DCTERMS + "PREFIX dc: <http://purl.org/dc/terms/>\n",
                                    "PREFIX dc:", "prefixes dcterms: and dc: share the namespace"),
    "a namespace without its last slash": (DCTERMS, "PREFIX dcterms: <http://purl.org/dc/terms>\n",
                                           "PREFIX dcterms:", "is not an absolute http(s) IRI ending in '/' or '#'"),
    "a relative namespace": (DCTERMS, "PREFIX dcterms: <terms/>\n", "PREFIX dcterms:", "not an absolute"),
    "Turtle's @prefix form": (DCTERMS, "@prefix dcterms: <http://purl.org/dc/terms/> .\n",
                              "@prefix dcterms:", "not a prefix declaration of the form PREFIX name: <namespace>"),
    "a BASE": (DCTERMS, DCTERMS + "BASE <https://w3id.org/carnk/>\n", "BASE <", "not a prefix declaration"),
    "a lower-case keyword": (DCTERMS, "prefix dcterms: <http://purl.org/dc/terms/>\n", "prefix dcterms:",
                             "not a prefix declaration"),
    "an empty prefix name": (DCTERMS, DCTERMS + "PREFIX : <https://example.org/>\n", "PREFIX :",
                             "not a prefix declaration"),
    "a relative IRI (Turtle syntax)": (
        "void:vocabulary carnk: .",
        "void:vocabulary <carnk> .",
        "void:vocabulary",
        "RDF syntax error",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_release_file_is_refused_at_its_line(tmp_path: Path, case: str) -> None:
    old, new, needle, message = BAD_FILES[case]
    path = variant(tmp_path, old, new)
    with pytest.raises(InputError) as caught:
        read_release_data(path, display_path=Path("carnk_ld/release.ttl"))
    text = str(caught.value)
    assert f"carnk_ld/release.ttl:{line_in(path, needle)}" in text.split(": error:")[0]
    assert message in text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("PREFIX void: <http://rdfs.org/ns/void#>\n", "", "missing prefixes the code builds IRIs from: void"),
        (
            "void:vocabulary carnk: .",
            'void:vocabulary carnk: ; dcterms:publisher [ dcterms:title "x" ] .',
            "blank node",
        ),
        (
            "kg:dataset a void:Dataset",
            "kg:other a void:Dataset",
            "it may only describe <https://w3id.org/carnk/kg/dataset>",
        ),
        (
            "void:vocabulary carnk: .",
            "void:vocabulary carnk: . PREFIX ex: <https://example.org/>",
            "on a line of its own",
        ),
    ],
)
def test_the_release_file_is_refused_when_the_code_could_not_use_it(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        read_release_data(variant(tmp_path, old, new))


def test_all_problems_of_the_prefix_lines_are_reported_together(tmp_path: Path) -> None:
    path = variant(tmp_path, DCTERMS, DCTERMS + "PREFIX dcterms: <http://e/>\n@prefix x: <http://x/> .\n")
    with pytest.raises(InputErrors) as caught:
        read_release_data(path)
    assert len(caught.value.errors) == 2


def test_bytes_that_are_not_utf8_are_refused_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "release.ttl"
    path.write_bytes(GOOD.encode("utf-8").replace(b"knowledge graph", b"knowledge \xff graph"))
    with pytest.raises(InputError, match=rf":{line_in(RELEASE_FILE, 'knowledge graph')}: error: not UTF-8"):
        read_release_data(path)


# -- the build follows the data ----------------------------------------------------------------


@pytest.mark.slow
def test_a_release_built_by_an_edited_package_follows_its_release_file(corpus: Path, tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(PROJECT / "carnk_ld", package / "carnk_ld", ignore=shutil.ignore_patterns("__pycache__"))
    release_file = package / "carnk_ld" / "release.ttl"
    edit(release_file, "PREFIX xsd:", "PREFIX ex: <https://example.org/ns#>\nPREFIX xsd:")
    edit(release_file, '"CAR-NK cell therapy knowledge graph"', '"An edited title"')
    out = tmp_path / "out"
    # Run from tmp_path: `python -m` puts the working directory first on the path.
    env = {"PYTHONPATH": str(package)}
    result = run_process("build", "--root", str(corpus), "--out", str(out), cwd=tmp_path, env_extra=env)
    assert result.returncode == 0, result.stderr
    context = json.loads((out / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    assert list(context)[-2:] == ["ex", "xsd"]
    assert context["ex"] == "https://example.org/ns#"
    void = (out / "void.ttl").read_text(encoding="utf-8")
    assert '"An edited title"' in void and "knowledge graph" not in void
    assert "@prefix ex: <https://example.org/ns#> ." in (out / "carnk.ttl").read_text(encoding="utf-8")


def test_the_dataset_licence_is_the_ontology_header_licence(corpus: Path) -> None:
    def licences(ontology_path: Path) -> set[str]:
        graph = metadata_graph(load_ontology(ontology_path), {}, None, distinct=0, elsewhere=lambda triple: False)
        return {t.object.value for t in graph if t.subject.value == DATASET and t.predicate.value.endswith("/license")}

    assert licences(corpus / "ontology" / "carnk.ttl") == {"https://creativecommons.org/licenses/by/4.0/"}
    edit(
        corpus / "ontology" / "carnk.ttl",
        "dcterms:license <https://creativecommons.org/licenses/by/4.0/>",
        "dcterms:license <https://creativecommons.org/publicdomain/zero/1.0/>",
    )
    assert licences(corpus / "ontology" / "carnk.ttl") == {"https://creativecommons.org/publicdomain/zero/1.0/"}


def test_the_mapping_set_states_the_ontology_licence() -> None:
    ontology = load_ontology(PROJECT / "ontology" / "carnk.ttl")
    header = [t.object.value for t in ontology.triples if t.subject.value == "https://w3id.org/carnk/ontology"
              and t.predicate.value == "http://purl.org/dc/terms/license"]  # fmt: skip
    mappings = load_mappings(PROJECT / "mappings" / "carnk.sssom.tsv", ontology)
    assert [mappings.metadata["license"]] == header


# -- every declaration in the project agrees ---------------------------------------------------


def project_texts() -> list[Path]:
    files = [*sorted((PROJECT / "queries").rglob("*.rq")), *sorted((PROJECT / "shapes").glob("*.ttl"))]
    return [*files, PROJECT / "ontology" / "carnk.ttl"]


@pytest.mark.parametrize("path", project_texts(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_declared_prefix_agrees_with_the_release_file(path: Path) -> None:
    declared = declared_prefixes(path.read_text(encoding="utf-8"))
    assert declared or path.suffix == ".ttl"
    conflicts = [(line, c) for line, name, ns in declared if (c := prefix_conflict(name, ns, same_names=True))]
    assert conflicts == []


def test_the_scan_sees_every_declaration_the_parsers_see() -> None:
    for path in project_texts():
        text = path.read_text(encoding="utf-8")
        scanned = {(name, ns) for _, name, ns in declared_prefixes(text)}
        if path.suffix == ".rq":
            found = re.findall(r"^PREFIX\s+(\w*):\s*<([^>]*)>", text, flags=re.MULTILINE | re.IGNORECASE)
        else:
            parser = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)
            for _ in parser:
                pass
            found = list(parser.prefixes.items())
        assert set(found) <= scanned, path


def test_the_shapes_sparql_prefixes_agree_with_the_release_file() -> None:
    graph = ox.Store()
    for path in sorted((PROJECT / "shapes").glob("*.ttl")):
        graph.load(path=str(path), format=ox.RdfFormat.TURTLE)
    declarations = list(
        graph.query(f"SELECT ?prefix ?namespace WHERE {{ ?d <{SH}prefix> ?prefix ; <{SH}namespace> ?namespace }}")
    )
    assert len(declarations) >= 5
    for row in declarations:
        assert prefix_conflict(row["prefix"].value, row["namespace"].value, same_names=True) is None, row


@pytest.mark.parametrize("path", sorted((PROJECT / "queries").rglob("*.rq")), ids=lambda p: p.name)
def test_every_query_file_runs_without_the_release_prefixes(path: Path) -> None:
    # Users paste these files into Fuseki or Virtuoso: they must declare every prefix they use.
    ox.Store().query(path.read_text(encoding="utf-8"))


def test_the_mapping_curie_map_agrees_with_the_release_file() -> None:
    ontology = load_ontology(PROJECT / "ontology" / "carnk.ttl")
    curie_map = load_mappings(PROJECT / "mappings" / "carnk.sssom.tsv", ontology).curie_map
    shared = {name for name in curie_map if name in PREFIXES}
    assert {"carnk", "skos", "sssom", "semapv"} <= shared
    assert all(prefix_conflict(name, curie_map[name]) is None for name in shared)


def test_a_qc_check_that_rebinds_a_release_prefix_is_refused_at_its_line(tmp_path: Path) -> None:
    for path in (PROJECT / "queries" / "checks").glob("*.rq"):
        shutil.copy(path, tmp_path)
    check = tmp_path / "missing-label-violation.rq"
    rdfs = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
    line = line_in(check, rdfs)
    edit(check, rdfs, rdfs.replace("#>", ">"))
    with pytest.raises(InputError) as caught:
        qc.load_checks(tmp_path, display_dir=Path("queries/checks"))
    assert str(caught.value).startswith(f"queries/checks/missing-label-violation.rq:{line}: error: prefix rdfs: is")
    # Another name for a release namespace reads the same IRIs: the loader lets it be.
    edit(check, rdfs.replace("#>", ">"), rdfs.replace("rdfs:", "rdfschema:") + "\n" + rdfs)
    assert len(qc.load_checks(tmp_path)) == len(list(tmp_path.glob("*.rq")))
