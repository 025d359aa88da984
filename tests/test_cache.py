"""The build cache's file format: every cached kind of value reads back identical, and a
damaged, truncated or crafted file is a miss that runs no code."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carnk_ld import qc
from carnk_ld import reason as reasoning
from carnk_ld.cache import _MAGIC, Cache, Codec, Undecodable, code_fingerprint, untrusted
from carnk_ld.errors import Location
from carnk_ld.graph import canonical_ontology
from carnk_ld.mappings import MappingSet, load_mappings
from carnk_ld.ontology import Ontology
from carnk_ld.parts import DocumentPart, compute_part, part_key
from carnk_ld.pipeline import Inputs, cached_types, compute_parts
from carnk_ld.reason import Hierarchy
from carnk_ld.serialise import Sections
from carnk_ld.shacl import query_rows
from carnk_ld.validate import Violation, fast_validate, load_shapes
from carnk_ld.workers import Workers
from tests.conftest import PROJECT
from tests.oracle import classified

CARNK = "https://w3id.org/carnk/"
DOC = PROJECT / "documents" / "carnk-overview.txt"
FACTS = PROJECT / "facts" / "carnk-overview.yaml"


@pytest.fixture(scope="module")
def ontology() -> Ontology:
    return classified(PROJECT / "ontology" / "carnk.ttl")[0]


@pytest.fixture(scope="module")
def part(ontology: Ontology) -> DocumentPart:
    return compute_part(DOC, FACTS, ontology, "key")


@pytest.fixture
def codec() -> Codec:
    return Codec(cached_types())


def typed(value: object) -> object:
    """``value`` with the type of every element spelled out, so that 1 and True, a set and a
    frozenset, a list and a tuple, or two orders of a dict compare different."""
    kind = type(value)
    if kind in (list, tuple):
        return (kind.__name__, tuple(map(typed, value)))  # type: ignore[call-overload]
    if kind in (set, frozenset):
        return (kind.__name__, frozenset(map(typed, value)))  # type: ignore[call-overload]
    if kind is dict:
        return ("dict", tuple((typed(k), typed(v)) for k, v in value.items()))  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(value):
        return (kind.__name__, tuple(typed(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if kind in (ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple) or isinstance(value, Path):
        return (kind.__name__, str(value))
    return (kind.__name__, value)


def roundtrip(codec: Codec, value: object) -> object:
    encoded = codec.encode(value)
    decoded = codec.decode(encoded)
    assert typed(decoded) == typed(value)
    assert codec.encode(decoded) == encoded  # canonical: the copy writes the same bytes
    return decoded


# -- every kind of value the build caches -------------------------------------------------


def test_a_document_part_reads_back_identical(codec: Codec, part: DocumentPart, tmp_path: Path) -> None:
    copy = roundtrip(codec, part)
    assert isinstance(copy, DocumentPart) and copy == part
    assert isinstance(copy.nq, Sections) and copy.nq.text() == part.nq.text()
    assert any(isinstance(t, ox.Triple) for triples in copy.shared.values() for t in triples)
    assert copy.quads() == part.quads()
    cache = Cache(tmp_path / "cache", types=cached_types())
    cache.put("part", "k", part)
    again = Cache(tmp_path / "cache", types=cached_types())  # through the file, in another instance
    assert again.get("part", "k") == part


def test_a_hierarchy_from_the_reasoner_reads_back_identical(codec: Codec, ontology: Ontology) -> None:
    # through the module: the suite's builds of the project have usually classified this input already
    hierarchy = reasoning.reason(ontology, canonical_ontology(ontology))
    assert hierarchy.inferred_all
    copy = roundtrip(codec, hierarchy)
    assert isinstance(copy, Hierarchy) and copy.new_edges() == hierarchy.new_edges()


def test_the_project_mapping_set_reads_back_identical(codec: Codec, ontology: Ontology) -> None:
    mapping_set = load_mappings(PROJECT / "mappings" / "carnk.sssom.tsv", ontology)
    assert mapping_set.mappings
    copy = roundtrip(codec, mapping_set)
    assert isinstance(copy, MappingSet) and copy == mapping_set


def test_validation_results_read_back_identical(codec: Codec, ontology: Ontology) -> None:
    undefined = ox.Triple(
        ox.NamedNode(CARNK + "Undefined"),
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("http://www.w3.org/2002/07/owl#Class"),
    )
    sources = {CARNK + "Undefined": Location(Path("ontology/carnk.ttl"), 7, 3)}
    result = fast_validate([*canonical_ontology(ontology), undefined], load_shapes(PROJECT / "shapes"), sources)
    violations = list(result.violations)
    assert violations and all(isinstance(v, Violation) for v in violations)
    assert any(v.source == sources[CARNK + "Undefined"] for v in violations)
    assert roundtrip(codec, violations) == violations


def test_sparql_rows_read_back_identical(codec: Codec, ontology: Ontology) -> None:
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in ontology.triples)
    rows = query_rows(store, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", union=False)
    assert any(isinstance(r["s"], ox.BlankNode) for r in rows)  # OWL axioms: blank nodes keep their ids
    assert any(isinstance(r["o"], ox.Literal) and r["o"].language for r in rows)
    assert roundtrip(codec, rows) == rows
    checks = qc.load_checks(PROJECT / "queries" / "checks")
    qc_rows = [row for check in checks for row in qc.check_rows(check, store)]
    assert qc_rows and all(type(row) is tuple and len(row) == 3 for row in qc_rows)
    assert roundtrip(codec, qc_rows) == qc_rows


def test_bytes_and_long_strings_are_blobs_after_the_manifest(codec: Codec) -> None:
    text = "ünïcode " * 100
    blob = bytes(range(256)) * 10
    encoded = codec.encode({"text": text, "blob": blob})
    length = int.from_bytes(encoded[:8], "big")
    manifest = json.loads(encoded[8 : 8 + length])
    n = len(text.encode("utf-8"))
    assert manifest == [[], ["d", {"text": ["U", 0, n], "blob": ["B", n, n + len(blob)]}]]
    assert encoded[8 + length :] == text.encode() + blob


@pytest.mark.parametrize(
    "text",
    ["\ud800", "a\udfff" * 40, '\x00\n\r"\\' * 20, "", "é" * 64, "é" * 65],
    ids=["lone surrogate", "long, with surrogates", "escapes", "empty", "inline", "blob"],
)
def test_any_python_string_reads_back_identical(codec: Codec, text: str) -> None:
    """Even one UTF-8 cannot hold (a lone surrogate, as a file name may decode to)."""
    roundtrip(codec, [text, {text: text}, Path(text or "."), frozenset({text})])


# -- any nested value ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    left: object
    right: object


def _iris() -> st.SearchStrategy[ox.NamedNode]:
    path = st.lists(st.sampled_from(["a", "Z", "0", "-", "_", "~", "é", "%41", "/"]), max_size=8).map("".join)
    end = st.sampled_from(["", "?q=1", "#f", "?q=é#f"])
    return st.builds(lambda p, e: ox.NamedNode(f"https://example.org/{p}{e}"), path, end)


def _terms() -> st.SearchStrategy[object]:
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
    literals = st.one_of(
        st.builds(ox.Literal, text),
        st.builds(lambda v, lang: ox.Literal(v, language=lang), text, st.sampled_from(["en", "de-CH", "x-a1"])),
        st.builds(
            lambda v: ox.Literal(v, language="ar", direction=ox.BaseDirection.RTL),
            text,
        ),
        st.builds(lambda v, dt: ox.Literal(v, datatype=dt), text, IRIS),
    )
    blanks = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).map(ox.BlankNode)
    return st.one_of(IRIS, blanks, literals)


def _triples() -> st.SearchStrategy[ox.Triple]:
    subjects = st.one_of(IRIS, st.from_regex(r"b[0-9]{1,3}", fullmatch=True).map(ox.BlankNode))
    return st.builds(ox.Triple, subjects, IRIS, TERMS)


IRIS = _iris()
TERMS = _terms()
TRIPLES = _triples()


ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=100)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    ANY_TEXT,
    st.binary(max_size=80),
    ANY_TEXT.map(Path),
    TERMS,
    TRIPLES,
)
HASHABLE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(tuple),
        st.frozensets(inner, max_size=4),
        st.builds(Pair, inner, inner),
    ),
    max_leaves=10,
)
VALUES = st.recursive(
    HASHABLE,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(HASHABLE, inner, max_size=5),
        st.dictionaries(ANY_TEXT, inner, max_size=5),
        st.sets(HASHABLE, max_size=5),
        st.frozensets(HASHABLE, max_size=5),
        st.builds(Pair, inner, inner),
        st.builds(lambda line, v: Location(Path("f.yaml"), line, v), st.integers(), st.none() | st.integers()),
    ),
    max_leaves=40,
)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # hypothesis describing a drawn value
@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_any_nested_value_reads_back_identical(value: object) -> None:
    roundtrip(Codec({"Pair": Pair, "Location": Location}), value)


def test_a_set_encodes_alike_whatever_order_it_was_built_in(codec: Codec) -> None:
    words = [f"w{i}" for i in range(200)]
    terms = [ox.Literal(w, language="en") for w in words] + [ox.NamedNode(CARNK + w) for w in words]
    extra = [f"x{i}" for i in range(2000)]
    for members in (words, terms):
        fresh = set(members)
        grown = set(extra + members)  # a larger table: the same members iterate in another order
        grown.difference_update(extra)
        assert grown == fresh and list(grown) != list(fresh)
        assert codec.encode(grown) == codec.encode(fresh)
        assert codec.encode(frozenset(grown)) == codec.encode(frozenset(fresh))
    assert codec.encode({(1, "a"), (None, "b"), ("c",)}) == codec.encode({("c",), (None, "b"), (1, "a")})


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        object(),
        Pair(1, 2),
        [ox.DefaultGraph()],
        {"x": ox.Quad(ox.NamedNode("a:b"), ox.NamedNode("a:b"), ox.BlankNode())},
    ],
    ids=["float", "object", "unregistered dataclass", "default graph", "quad"],
)
def test_a_value_the_format_has_no_type_for_is_refused_when_written(codec: Codec, value: object) -> None:
    with pytest.raises(TypeError, match="cannot hold"):
        codec.encode(value)


def test_only_dataclasses_that_init_can_rebuild_are_registered() -> None:
    @dataclass
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="__init__"):
        Codec({"Derived": Derived})
    with pytest.raises(TypeError, match="not a dataclass"):
        Codec({"Path": Path})


# -- damaged and crafted files --------------------------------------------------------------


def _file(payload: bytes, magic: bytes = _MAGIC) -> bytes:
    return magic + hashlib.sha256(payload).digest() + payload


def _manifest(terms: list, value: object, blobs: bytes = b"") -> bytes:
    head = json.dumps([terms, value]).encode("ascii")
    return len(head).to_bytes(8, "big") + head + blobs


def _read(tmp_path: Path, content: bytes) -> tuple[object, Cache]:
    """What a fresh cache reads from a file with this content."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700, exist_ok=True)
    (directory / "part-k").write_bytes(content)
    cache = Cache(directory, types=cached_types())
    return cache.get("part", "k"), cache


class _Boom:
    """Unpickling this creates a directory: the proof that a reader unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_pickle_in_a_cache_file_is_a_miss_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Boom(marker))
    for magic in (_MAGIC, b"CARNKLD-CACHE 1\n"):
        found, cache = _read(tmp_path, _file(payload, magic))
        assert found is None and cache.stats.misses["part"] == 1
        assert not marker.exists()
        assert not (tmp_path / "cache" / "part-k").exists()  # removed, to be recomputed


@pytest.mark.parametrize(
    "value",
    [
        ["C", "Popen", {"args": ["mkdir", "MARKER"]}],
        ["C", "subprocess.Popen", {"args": ["mkdir", "MARKER"]}],
        ["C", "os.system", {"command": "mkdir MARKER"}],
        ["C", "Location", {"path": ["P", "x"], "line": 1, "column": None, "extra": 1}],  # a field it does not declare
        ["C", "Location", {"path": ["P", "x"]}],  # declared fields missing
        ["X", 1],  # an unknown tag
        ["t", -1],  # terms[-1] would be the last term
        ["t", 5],
        ["B", 0, 99],  # a blob past the end
        ["B", 3, 1],
        ["U", 0, 2],  # a blob that is not UTF-8
        ["D", "key"],  # a key without a value
        ["F", ["L"]],  # a list as a set element: unhashable
        ["R", ["t", 0], ["t", 1], ["t", 0]],  # a literal as predicate
        1.5,
        {"a": 1},
        [],
    ],
)
def test_a_crafted_file_with_a_valid_checksum_is_a_miss(tmp_path: Path, value: object) -> None:
    text = json.dumps(value).replace("MARKER", str(tmp_path / "ran"))
    payload = _manifest(["<https://w3id.org/carnk/x>", '"lit"'], json.loads(text), b"\xff\xfe")
    found, cache = _read(tmp_path, _file(payload))
    assert found is None and cache.stats.misses["part"] == 1
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "terms",
    [
        ['<https://w3id.org/carnk/x> .\n<a:b> <a:b> "injected"'],  # two lines from one entry
        ["not a term"],
        ["<relative>"],
        ['<a:b> <a:b> "quoted triple"'],
        [1],
    ],
)
def test_a_bad_term_table_is_a_miss(tmp_path: Path, terms: list) -> None:
    found, _ = _read(tmp_path, _file(_manifest(terms, ["t", 0])))
    assert found is None


def test_a_valid_crafted_file_decodes_to_exactly_what_it_says(tmp_path: Path) -> None:
    """The hand-written format of the module docstring is what the reader reads (the control of the tests above)."""
    payload = _manifest(
        ["<https://w3id.org/carnk/x>", '"lit"@en'],
        ["L", ["C", "Location", {"path": ["P", "facts/a.yaml"], "line": 3, "column": None}], ["t", 1], ["B", 0, 2]],
        b"\xff\xfe",
    )
    found, cache = _read(tmp_path, _file(payload))
    assert found == [Location(Path("facts/a.yaml"), 3, None), ox.Literal("lit", language="en"), b"\xff\xfe"]
    assert cache.stats.hits["part"] == 1


@pytest.fixture
def written(tmp_path: Path, part: DocumentPart) -> bytes:
    cache = Cache(tmp_path / "written", types=cached_types())
    cache.put("part", "k", part)
    return (tmp_path / "written" / "part-k").read_bytes()


def test_every_truncation_of_a_file_is_a_miss(tmp_path: Path, written: bytes, codec: Codec) -> None:
    head = len(_MAGIC) + 32
    for size in (0, 1, len(_MAGIC), head - 1, head, head + 7, head + 100, len(written) // 2, len(written) - 1):
        found, _ = _read(tmp_path, written[:size])
        assert found is None, size
    payload = written[head:]
    small = codec.encode([b"abc", "x" * 70, ox.Literal("y"), {(1, 2): frozenset({"z"})}])
    for size in range(len(small)):  # even with a matching checksum every prefix is refused
        with pytest.raises(Undecodable):
            codec.decode(small[:size])
    with pytest.raises(Undecodable):
        codec.decode(payload[: len(payload) // 3])


def test_a_flipped_byte_anywhere_is_a_miss(tmp_path: Path, written: bytes, part: DocumentPart) -> None:
    head = len(_MAGIC)
    for index in (0, 5, head, head + 31, head + 32, head + 40, len(written) // 2, len(written) - 1):
        damaged = bytearray(written)
        damaged[index] ^= 0x01
        found, _ = _read(tmp_path, bytes(damaged))
        assert found is None, index
    found, _ = _read(tmp_path, written)
    assert found == part  # the control: the undamaged file is a hit


def test_a_file_with_a_wrong_checksum_is_a_miss(tmp_path: Path, written: bytes) -> None:
    head = len(_MAGIC)
    wrong = written[:head] + hashlib.sha256(b"something else").digest() + written[head + 32 :]
    found, cache = _read(tmp_path, wrong)
    assert found is None and cache.stats.misses["part"] == 1
    assert not (tmp_path / "cache" / "part-k").exists()


def test_a_file_others_may_write_is_a_miss(tmp_path: Path, written: bytes, part: DocumentPart) -> None:
    found, _ = _read(tmp_path, written)
    assert found == part
    (tmp_path / "cache" / "part-k").chmod(0o666)
    found, _ = _read(tmp_path, written)
    assert found is None


def test_a_directory_others_may_write_is_not_used(tmp_path: Path, written: bytes) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    (directory / "part-k").write_bytes(written)
    directory.chmod(0o777)
    cache = Cache(directory, types=cached_types())
    assert cache.refused == untrusted(directory) == f"{directory} is writable by other users"
    assert cache.directory is None and cache.get("part", "k") is None
    directory.chmod(0o700)
    assert untrusted(directory) == "" and Cache(directory, types=cached_types()).get("part", "k") is not None


# -- a changed input is a new key -----------------------------------------------------------


def test_a_changed_input_or_code_version_never_finds_the_old_part(
    tmp_path: Path, ontology: Ontology, monkeypatch
) -> None:
    root = tmp_path / "corpus"
    for name in ("documents", "facts"):
        shutil.copytree(PROJECT / name, root / name)
    pairs = [(root / "documents" / DOC.name, root / "facts" / FACTS.name)]
    directory = tmp_path / "cache"

    def load() -> tuple[DocumentPart, Cache]:
        cache = Cache(directory, types=cached_types())
        inputs = Inputs(ontology, "ontology digest", Hierarchy({}, {}, {}, "none"), pairs, [])
        parts = compute_parts(inputs, cache, Workers(1))
        return parts[0], cache

    first, cache = load()
    assert cache.stats.misses["part"] == 1
    again, cache = load()
    assert cache.stats.hits["part"] == 1 and again == first
    facts = pairs[0][1]
    facts.write_text(facts.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    edited, cache = load()
    assert cache.stats.hits["part"] == 0 and cache.stats.misses["part"] == 1
    assert edited.key != first.key
    assert edited.key == part_key(
        code_fingerprint(), "ontology digest", DOC.name, DOC.read_bytes(), FACTS.name, facts.read_bytes()
    )
    monkeypatch.setattr("carnk_ld.cache.code_fingerprint", lambda: "another version of the code")
    _, cache = load()
    assert cache.stats.hits["part"] == 0 and cache.stats.misses["part"] == 1


def test_the_fingerprint_is_computed_afresh_once_per_cache(monkeypatch) -> None:
    before = code_fingerprint()
    assert code_fingerprint() == before
    monkeypatch.setattr("carnk_ld.cache.CACHE_FORMAT", 99)
    assert code_fingerprint() != before  # nothing memoised across calls
    calls: list[str] = []

    def fingerprint() -> str:
        calls.append("v")
        return "v"

    monkeypatch.setattr("carnk_ld.cache.code_fingerprint", fingerprint)
    cache = Cache(None)
    assert (cache.fingerprint, cache.fingerprint, len(calls)) == ("v", "v", 1)
    assert Cache(None).fingerprint == "v" and len(calls) == 2  # a new cache (a new build) computes it again
