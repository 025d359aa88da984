"""Property-based: arbitrary Unicode in documents and facts builds cleanly or fails with a located error.

Every example is checked. A build that succeeds must read every literal that came from the inputs
(segment texts, quotes, curator notes) back identically from N-Triples, Turtle, N-Quads and
JSON-LD. A build that fails must fail as bad input (exit 2) naming the fuzzed document or facts
file and a line, without a traceback, and write nothing. Lines that are well-formed sentences
must always build.

Each input reader (facts, SSSOM, documents, ontology, QC checks, shapes) also reads generated
files on its own: every one reads, or is refused as bad input at a line of the file.
``make fuzz`` runs thousands of those per reader; the suite runs a few.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from carnk_ld.cli import main
from carnk_ld.documents import Document, read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import load_facts
from carnk_ld.mappings import load_mappings
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.qc import load_checks
from carnk_ld.validate import load_shapes
from tests.conftest import PROJECT
from tests.test_bad_inputs import literals

pytestmark = pytest.mark.slow

# Any character a UTF-8 text file can hold on one line, NUL aside (NUL is refused by design).
LINE_CHARS = st.characters(
    exclude_categories=("Cs",), exclude_characters="\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
)
TRICKY = st.sampled_from(["\u0301", "\u200f", "\u202e", "\U0001f9ec", "\U00010348", '"', "\\", "'", "«", "Ω", "\u05d0"])
WORD = st.text(st.one_of(LINE_CHARS, TRICKY), min_size=1, max_size=12)
SENTENCE = st.lists(WORD, min_size=1, max_size=5).map(lambda words: " ".join(words).strip() + ".")
# Raw lines: leading spaces, colons that open lists, bullets, full stops mid-line; many must be refused.
RAW_LINE = st.text(st.one_of(LINE_CHARS, TRICKY, st.sampled_from([".", ":", " ", "-", "A"])), min_size=1, max_size=30)
LINE = st.one_of(SENTENCE, SENTENCE, RAW_LINE)
NOTE = st.text(
    st.one_of(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), TRICKY), min_size=1, max_size=40
)
#: Characters YAML reads as line breaks that PyYAML writes raw inside a quoted scalar.
YAML_BREAKS = set("\x85\u2028\u2029")
# A word that cannot end a sentence, open a list or split a line: no whitespace, no terminal punctuation.
SAFE_WORD = st.text(
    st.one_of(LINE_CHARS, TRICKY).filter(lambda c: not c.isspace() and c not in ".!?"), min_size=1, max_size=12
)
LOCATED_ERROR = re.compile(r"^(documents/fuzz\.txt|facts/fuzz\.yaml):\d+(:\d+)?: error: ", re.MULTILINE)
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}


def corpus_for(project_root: Path, root: Path, sentences: list[str], notes: list[str]) -> None:
    for name in ("ontology", "shapes", "mappings"):
        shutil.copytree(project_root / name, root / name)
    shutil.copytree(project_root / "queries" / "checks", root / "queries" / "checks")
    (root / "documents").mkdir()
    (root / "facts").mkdir()
    document = root / "documents" / "fuzz.txt"
    document.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    facts = [
        {
            "id": f"f{i}",
            "quote": sentence,
            "subject": "CARNKCellTherapy",
            "predicate": "hasChallenge",
            "object": "PersistenceInVivo",
            "note": notes[i % len(notes)],
        }
        for i, sentence in enumerate(sentences)
    ]
    data = {
        "document": "fuzz.txt",
        "sha256": hashlib.sha256(document.read_bytes()).hexdigest(),
        "metadata": {"source": "Written for the carnk-ld test suite", "licence": CC_BY},
        "facts": facts,
    }
    (root / "facts" / "fuzz.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def build(project_root: Path, sentences: list[str], notes: list[str], *, must_build: bool) -> None:
    """Build the fuzzed corpus and check the outcome, whichever it is."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        corpus_for(project_root, root, sentences, notes)
        out = Path(tmp) / "release"
        result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out)], catch_exceptions=False)
        if must_build:
            assert result.exit_code == 0, result.output
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert LOCATED_ERROR.search(result.output), result.output
            assert "build failed: bad input; the previous release is untouched" in result.output
            assert not out.exists()
            return
        found = literals(out)
        expected = set(sentences) | {notes[i % len(notes)] for i in range(len(sentences))}
        for name, values in found.items():
            missing = expected - values
            assert not missing, f"{sorted(missing)!r} did not round-trip through {name}"


@settings(max_examples=30, **SETTINGS)
@given(sentences=st.lists(LINE, min_size=1, max_size=4, unique=True), notes=st.lists(NOTE, min_size=1, max_size=3))
def test_arbitrary_unicode_builds_and_round_trips_or_fails_at_a_line(
    project_root: Path, sentences: list[str], notes: list[str]
) -> None:
    build(project_root, sentences, notes, must_build=False)


@settings(max_examples=15, **SETTINGS)
@given(
    words=st.lists(st.lists(SAFE_WORD, min_size=1, max_size=5), min_size=1, max_size=4),
    # A blank note is refused, rightly; so is a NEL, LS or PS that PyYAML's emitter writes raw
    # (YAML would fold it into a space), which the other fuzz test covers.
    notes=st.lists(NOTE.filter(lambda n: n.strip() and not set(n) & YAML_BREAKS), min_size=1, max_size=3),
)
def test_well_formed_sentences_of_any_characters_always_build(
    project_root: Path, words: list[list[str]], notes: list[str]
) -> None:
    # "Fact <i> says" makes every line a sentence of its own that occurs once and in no other line.
    sentences = [f"Fact {i} says {' '.join(line)}." for i, line in enumerate(words)]
    build(project_root, sentences, notes, must_build=True)


# ---------------------------------------------------------------------------------------
# The input readers, one generated file at a time. Each example is a small valid input
# edited at random places (format punctuation, line ends of every kind, invalid UTF-8,
# arbitrary Unicode, huge numbers) or replaced by noise. Every example must read, or fail
# as bad input naming the file and, unless the fault is the whole file's, a line; any
# other exception is a defect. ``make fuzz`` runs thousands of examples
# (CARNK_FUZZ_EXAMPLES per reader); the suite runs a few.
FUZZ_EXAMPLES = int(os.environ.get("CARNK_FUZZ_EXAMPLES", "25"))
READER_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The facts reader needs the ontology's statement model, so the context of the facts and
# mapping readers is the project's ontology plus these terms (their seeds name only these).
MINI_TERMS = """
carnk:FuzzTherapy a owl:Class ; rdfs:label "fuzz therapy"@en ; obo:IAO_0000115 "A treatment."@en .
carnk:FuzzChallenge a owl:Class ; rdfs:label "fuzz challenge"@en ; obo:IAO_0000115 "A problem."@en .
carnk:fuzzHasChallenge a owl:AnnotationProperty ; rdfs:label "fuzz has challenge"@en ;
    obo:IAO_0000115 "A therapy faces a challenge."@en ;
    schema:domainIncludes carnk:FuzzTherapy ; schema:rangeIncludes carnk:FuzzChallenge .
"""
MINI_ONTOLOGY = (
    """\
@prefix carnk: <https://w3id.org/carnk/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .

<https://w3id.org/carnk/ontology> a owl:Ontology ;
    owl:versionIRI <https://w3id.org/carnk/releases/0.1.0/ontology.owl> ;
    owl:versionInfo "0.1.0" ;
    dcterms:title "Fuzz ontology"@en ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> .
obo:IAO_0000115 a owl:AnnotationProperty ; rdfs:label "definition" .
"""
    + MINI_TERMS
)
MINI_DOCUMENT = "Persistence is the main challenge.\n"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
MINI_FACTS = """\
document: fuzz.txt
sha256: {sha256}
metadata:
  source: "Written for the carnk-ld test suite"
  licence: https://creativecommons.org/licenses/by/4.0/
facts:
  - id: f1
    quote: "Persistence is the main challenge."
    subject: FuzzTherapy
    predicate: fuzzHasChallenge
    object: FuzzChallenge
    note: "A note."
"""
MINI_SSSOM = """\
# curie_map:
#   carnk: https://w3id.org/carnk/
#   NCIT: http://purl.obolibrary.org/obo/NCIT_
#   semapv: https://w3id.org/semapv/vocab/
#   skos: http://www.w3.org/2004/02/skos/core#
#   sssom: https://w3id.org/sssom/
# mapping_set_id: https://w3id.org/carnk/mappings/carnk.sssom.tsv
# mapping_set_title: Fuzz mappings
# mapping_date: 2026-01-01
# license: https://creativecommons.org/licenses/by/4.0/
subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\tcomment
carnk:FuzzTherapy\tfuzz therapy\tskos:exactMatch\tNCIT:C15262\tTherapy\tsemapv:ManualMappingCuration\tA comment
carnk:FuzzChallenge\tfuzz challenge\tskos:exactMatch\tsssom:NoTermFound\t\tsemapv:ManualMappingCuration\tnone in NCIt
"""
MINI_CHECK = """\
# severity: WARN
# title: fuzz
# scope: document
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?entity ?property ?value WHERE {
  ?entity rdfs:label ?value .
  FILTER (REGEX(STR(?value), "^\\\\s"))
  BIND (rdfs:label AS ?property)
}
"""
MINI_SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix carnk: <https://w3id.org/carnk/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
carnk:FuzzShape a sh:NodeShape ;
    sh:targetClass carnk:Therapy ;
    sh:property [ sh:path carnk:count ; sh:datatype xsd:integer ; sh:maxCount 1 ; sh:pattern "^[0-9]+$" ] .
"""

PUNCTUATION = st.sampled_from(
    [
        "\n", "\r", "\r\n", "\t", " ", "\u2028", "\u2029", "\u0085", "\x00", "\ufeff", ":", "- ", "#", "'", '"',
        "\\", "{", "}", "[", "]", "<", ">", "@", ".", ";", ",", "|", ">-", "&a", "*a", "!!str", "---", "...",
        "?", "%", "_:b", "^^", "@en", "1" * 40, "9" * 400, "1e999", "-0", "true", "null", "~", "\U0001f9ec",
        "\u202e", "\u0301", "carnk:", "https://w3id.org/carnk/", "SELECT", "SERVICE", "GRAPH", "$this", "?x",
        "sh:", "owl:", "rdfs:label", "\t\t", "# ", "   ",
    ]
)  # fmt: skip
PIECE = st.one_of(PUNCTUATION, st.text(st.characters(exclude_categories=("Cs",)), max_size=6))
EDIT = st.tuples(st.floats(0, 1), st.integers(0, 12), st.one_of(PIECE.map(str.encode), st.binary(max_size=3)))
# Mostly edits of a valid input, sometimes noise.
CONTENT = st.one_of(
    st.lists(EDIT, min_size=1, max_size=6),
    st.lists(EDIT, min_size=1, max_size=6),
    st.lists(EDIT, min_size=1, max_size=6),
    st.binary(max_size=200),
)


def edited(seed: str, content: list[tuple[float, int, bytes]] | bytes) -> bytes:
    """``seed`` with the edits applied (each: where, how many bytes to drop, what to insert), or noise."""
    if isinstance(content, bytes):
        return content
    data = seed.encode("utf-8")
    for where, drop, insert in content:
        at = int(where * len(data))
        data = data[:at] + insert + data[at + drop :]
    return data


DOCUMENT = Path("documents/fuzz.txt")
# Faults of a whole file, which no line could name.
WHOLE_FILE = re.compile(
    r"no owl:Ontology|UTF-8|empty|not found|no .* found|is a directory|symlink|unexpected entry", re.IGNORECASE
)


def read_cleanly(shown: Path, read: Callable[[], object], *, also: Path | None = None) -> None:
    """Run a reader: success, or InputError(s) located in ``shown`` (or ``also``) at a line; anything else escapes."""
    try:
        read()
    except (InputError, InputErrors) as exc:
        errors = exc.errors if isinstance(exc, InputErrors) else [exc]
        assert errors
        for error in errors:
            assert error.location.path in (shown, also), error.render()
            assert error.location.line is not None or WHOLE_FILE.search(error.message), error.render()
            assert "Traceback" not in error.render()


@functools.cache
def _mini() -> tuple[Path, Ontology, Document, Ontology]:
    root = Path(tempfile.mkdtemp(prefix="carnk-fuzz-"))
    project = (PROJECT / "ontology" / "carnk.ttl").read_text(encoding="utf-8")
    (root / "carnk.ttl").write_text(project + MINI_TERMS, encoding="utf-8")
    (root / "fuzz.txt").write_text(MINI_DOCUMENT, encoding="utf-8")
    document = read_document(root / "fuzz.txt", display_path=DOCUMENT)
    (root / "mini.ttl").write_text(MINI_ONTOLOGY, encoding="utf-8")
    return (
        root,
        load_ontology(root / "carnk.ttl"),
        document,
        load_ontology(root / "mini.ttl", display_path=Path("ontology/carnk.ttl")),
    )


def _written(name: str, data: bytes) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="carnk-fuzz-", dir=_mini()[0]))
    (directory / name).write_bytes(data)
    return directory / name


def test_mini_inputs_are_valid() -> None:
    """The seeds of the reader fuzzing read cleanly, so edits start from valid input."""
    _, ontology, document, mini = _mini()
    sha = hashlib.sha256(MINI_DOCUMENT.encode()).hexdigest()
    load_facts(_written("fuzz.yaml", MINI_FACTS.format(sha256=sha).encode()), {"fuzz.txt": document}, ontology)
    load_mappings(_written("carnk.sssom.tsv", MINI_SSSOM.encode()), mini)
    assert len(load_checks(_written("fuzz-violation.rq", MINI_CHECK.encode()).parent)) == 1
    assert len(load_shapes(_written("fuzz.ttl", MINI_SHAPES.encode()).parent)) > 0
    assert load_ontology(_written("carnk.ttl", MINI_ONTOLOGY.encode())).terms


def _read_one(reader: str, data: bytes) -> None:
    """Write ``data`` where ``reader`` reads it and check the outcome (see :func:`read_cleanly`)."""
    _, ontology, document, mini = _mini()
    ontology_file = Path("ontology/carnk.ttl")
    if reader == "facts":
        path, shown = _written("fuzz.yaml", data), Path("facts/fuzz.yaml")
        read_cleanly(
            shown, lambda: load_facts(path, {"fuzz.txt": document}, ontology, display_path=shown), also=DOCUMENT
        )
    elif reader == "sssom":
        path, shown = _written("carnk.sssom.tsv", data), Path("mappings/carnk.sssom.tsv")
        # a row lost to an edit leaves its class unmapped, which the ontology's line names
        read_cleanly(shown, lambda: load_mappings(path, mini, display_path=shown), also=ontology_file)
    elif reader == "document":
        path, shown = _written("fuzz.txt", data), DOCUMENT
        read_cleanly(shown, lambda: read_document(path, display_path=shown))
    elif reader == "ontology":
        path, shown = _written("carnk.ttl", data), ontology_file
        read_cleanly(shown, lambda: load_ontology(path, display_path=shown))
    elif reader == "check":
        path = _written("fuzz-violation.rq", data)
        shown = Path("queries/checks") / path.name
        read_cleanly(shown, lambda: load_checks(path.parent, display_dir=shown.parent))
    else:
        path, shown = _written("fuzz.ttl", data), Path("shapes/fuzz.ttl")
        read_cleanly(shown, lambda: load_shapes(path.parent, display_dir=shown.parent))
    shutil.rmtree(path.parent)


SEEDS = {
    "facts": MINI_FACTS.format(sha256=hashlib.sha256(MINI_DOCUMENT.encode()).hexdigest()),
    "sssom": MINI_SSSOM,
    "document": MINI_DOCUMENT,
    "ontology": MINI_ONTOLOGY,
    "check": MINI_CHECK,
    "shapes": MINI_SHAPES,
}


def _kind(exc: Exception) -> str:
    """A failure's kind: its type and first line, with quoted values and numbers blanked."""
    first = (str(exc).splitlines() or [""])[0]
    first = re.sub(r"^\S*: error: ", "", first)
    return f"{type(exc).__name__}: " + re.sub(r"'[^']*'|<[^>]*>|#x[0-9a-f]+|0x[0-9a-f]+|\d+", "_", first)[:120]


@pytest.mark.parametrize("reader", sorted(SEEDS))
def test_readers_fail_only_with_located_input_errors(reader: str) -> None:
    # Every example is checked; failures are collected by kind (with the shortest input of
    # each) rather than stopping at the first, so one nightly run reports all it found.
    found: dict[str, bytes] = {}
    examples = 0

    @READER_SETTINGS
    @given(content=CONTENT)
    def run(content: list[tuple[float, int, bytes]] | bytes) -> None:
        nonlocal examples
        examples += 1
        data = edited(SEEDS[reader], content)
        try:
            _read_one(reader, data)
        except Exception as exc:  # any escape is a finding, reported below
            kind = _kind(exc)
            if kind not in found or len(data) < len(found[kind]):
                found[kind] = data

    run()
    assert not found, f"{reader}, {examples} examples:\n" + "\n".join(
        f"  {kind}\n    input: {data!r}" for kind, data in sorted(found.items())
    )
