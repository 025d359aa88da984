"""Shared fixtures: the project's corpus (or ``--project-root``), the suite's own sample corpus, a generated
corpus, and a CLI runner.

Only tests/test_cq.py may depend on what the project's corpus says. Every other test either uses the
sample corpus in tests/fixtures/corpus (whose text the tests own) or derives its expectations from
whatever corpus ``project_root`` holds, so that ``--project-root`` can point the suite at a grown copy.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from carnk_ld import gates
from carnk_ld import reason as reason_module
from carnk_ld.cli import main
from carnk_ld.errors import CarnkError
from carnk_ld.ontology import Ontology
from carnk_ld.reason import Hierarchy
from tests.oracle import KnowledgeGraph

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
INPUT_DIRS = ("ontology", "shapes", "documents", "facts", "queries", "mappings")
#: The suite's own documents and facts files; the rest of a sample corpus comes from the project.
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "corpus"
#: What a sample corpus takes from the project: the vocabulary, the shapes, the mappings and the QC checks.
SAMPLE_FROM_PROJECT = ("ontology", "shapes", "mappings", "queries/checks")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--project-root",
        default=None,
        help="Corpus tree the corpus-independent tests read instead of this checkout (e.g. a grown copy).",
    )


#: The annotation properties OWL 2 has built in (as listed in its Structural Specification).
_BUILT_IN_ANNOTATIONS = frozenset(
    f"{ns}{name}"
    for ns, names in (
        ("http://www.w3.org/2000/01/rdf-schema#", ("label", "comment", "seeAlso", "isDefinedBy")),
        (
            "http://www.w3.org/2002/07/owl#",
            ("deprecated", "versionInfo", "priorVersion", "backwardCompatibleWith", "incompatibleWith"),
        ),
    )
    for name in names
)
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_ANNOTATION_PROPERTY = "http://www.w3.org/2002/07/owl#AnnotationProperty"


def hierarchy_key(ontology: Ontology, triples: list[ox.Triple], java: str | None) -> str:
    """What :func:`carnk_ld.reason.reason`'s hierarchy depends on: the ontology's classes and asserted parents,
    and the triples HermiT reads less their annotation assertions.

    Annotations carry no meaning in OWL 2's Direct Semantics: a label, a definition or a
    notation edited by a test cannot change a classification. Blank nodes are numbered in order of
    appearance, as a parser names them afresh on every parse.
    """
    annotations = _BUILT_IN_ANNOTATIONS | {
        t.subject.value for t in triples if t.predicate.value == _RDF_TYPE and t.object.value == _ANNOTATION_PROPERTY
    }
    logical = [t for t in triples if t.predicate.value not in annotations]
    classes = sorted(iri for iri, term in ontology.terms.items() if term.kind == "class")
    parents = sorted(f"{c} {' '.join(sorted(ups))}" for c, ups in ontology.parents.items())
    return hashlib.sha256(
        "\0".join([str(java), *classes, "", *parents, "", *sorted(_numbered_blank_nodes(logical))]).encode()
    ).hexdigest()


@pytest.fixture(autouse=True, scope="session")
def hermit_answers_reused() -> Iterator[None]:
    """The reasoning gate and :func:`carnk_ld.reason.classify` reuse HermiT's answer to an input already classified.

    HermiT is deterministic, and each run starts a JVM (half a second, several cores): most
    builds of the suite, every ``guide``, ``suggest`` and ``terms --predicates``, and the oracle
    classify one of a few ontologies. The first run of each input is real; its hierarchy is
    replayed for an input that differs at most in annotations (:func:`hierarchy_key`) wherever the
    corpus lies, since a hierarchy names no file. An error is replayed only for the same file, text
    and triples, since its message names the file and may quote a label. Tests of the reasoner
    itself call the :func:`carnk_ld.reason.reason` they imported, which is not replaced.
    """
    hierarchies: dict[str, Hierarchy] = {}
    errors: dict[str, CarnkError] = {}
    real = reason_module.reason

    def reused(ontology: Ontology, triples: list[ox.Triple], *, java: str | None = None) -> Hierarchy:
        key = hierarchy_key(ontology, triples, java)
        if key in hierarchies:
            return copy.deepcopy(hierarchies[key])
        exact = hashlib.sha256(
            b"\0".join(
                [
                    str(ontology.path).encode(),
                    ontology.path.read_bytes() if ontology.path.is_file() else b"",
                    str(java).encode(),
                    *sorted(line.encode() for line in _numbered_blank_nodes(triples)),
                ]
            )
        ).hexdigest()
        if exact not in errors:
            try:
                hierarchies[key] = real(ontology, triples, java=java)
                return copy.deepcopy(hierarchies[key])
            except CarnkError as exc:
                errors[exact] = exc
        raise errors[exact].with_traceback(None)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gates, "reason", reused)
        patch.setattr(reason_module, "reason", reused)
        yield


def _numbered_blank_nodes(triples: list[ox.Triple]) -> list[str]:
    """The triples as N-Triples, each blank node named by the order it first appears in.

    A parser names blank nodes afresh on every parse; numbering them in order of appearance makes
    the same text, parsed twice, the same lines (different inputs stay different).
    """
    names: dict[str, str] = {}

    def name(term: object) -> str:
        if isinstance(term, ox.BlankNode):
            return names.setdefault(term.value, f"_:b{len(names)}")
        if isinstance(term, ox.Triple):
            return f"<< {name(term.subject)} {name(term.predicate)} {name(term.object)} >>"
        return str(term)

    return [f"{name(t.subject)} {name(t.predicate)} {name(t.object)} ." for t in triples]


@pytest.fixture(scope="session")
def project_root(request: pytest.FixtureRequest) -> Path:
    """The project's inputs: this checkout, or the tree given with ``--project-root``."""
    value = request.config.getoption("--project-root")
    return Path(value).resolve() if value else PROJECT


def write_sample_corpus(project_root: Path, root: Path) -> Path:
    """Lay out the sample corpus at ``root``: the suite's documents and facts, the project's ontology and rest."""
    shutil.copytree(SAMPLE, root)
    for name in SAMPLE_FROM_PROJECT:
        shutil.copytree(project_root / name, root / name)
    return root


@dataclass
class Result:
    """Outcome of one CLI run."""

    exit_code: int
    output: str


@pytest.fixture
def corpus(project_root: Path, tmp_path: Path) -> Path:
    """A copy of the project's inputs that a test may break without touching the checkout."""
    root = tmp_path / "corpus"
    for name in INPUT_DIRS:
        shutil.copytree(project_root / name, root / name)
    return root


@pytest.fixture
def sample_corpus(project_root: Path, tmp_path: Path) -> Path:
    """A private copy of the sample corpus (tests/fixtures/corpus plus the project's ontology and rest)."""
    return write_sample_corpus(project_root, tmp_path / "sample")


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``carnk-ld`` in-process and capture stdout and stderr together."""

    def run(*args: str) -> Result:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return Result(result.exit_code, result.output)

    return run


def _build_once(root: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def release(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the project's corpus, built once for read-only tests."""
    return _build_once(project_root, tmp_path_factory.mktemp("release") / "build")


@pytest.fixture(scope="session")
def sample_release(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the sample corpus, built once for read-only tests; its root is the release's parent."""
    root = write_sample_corpus(project_root, tmp_path_factory.mktemp("sample-release") / "sample")
    return _build_once(root, root / "build")


def copy_release(release: Path, out: Path) -> Path:
    """A copy of ``release`` at ``out`` with its build cache beside it, as a user has them after a first build.

    A test that edits the corpus and rebuilds starts from this instead of building afresh: the
    rebuild then reuses what the cache holds (HermiT's classification above all), as a user's does.
    """
    from carnk_ld.pipeline import cache_dir

    shutil.copytree(release, out, symlinks=True)
    if cache_dir(release).is_dir():
        shutil.copytree(cache_dir(release), cache_dir(out))
    return out


#: Size and seed of the generated corpus: several documents (so several studies and their
#: interventions), small enough for pySHACL to validate it in seconds.
GENERATED_TRIPLES = 10200
GENERATED_SEED = 11


@pytest.fixture(scope="session")
def generated_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus written by benchmarks/generate.py, once per session. Read-only: copy it before editing."""
    from benchmarks.generate import generate

    root = tmp_path_factory.mktemp("generated") / "corpus"
    generate(GENERATED_TRIPLES, root, seed=GENERATED_SEED)
    return root


@pytest.fixture(scope="session")
def generated_graph(generated_corpus: Path) -> KnowledgeGraph:
    """The knowledge graph of the generated corpus (with mappings), assembled once. Do not mutate it."""
    from tests.oracle import build_graph, load_corpus

    corpus = load_corpus(generated_corpus)
    return build_graph(corpus.ontology, corpus.factsets, corpus.mappings, corpus.classes)


def run_process(
    *args: str, cwd: Path | None = None, env_extra: dict[str, str] | None = None, module: str = "carnk_ld"
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m carnk_ld`` (or another module) in a separate interpreter, as from a terminal.

    Ctrl-C is restored to its default: a shell starts background jobs with SIGINT ignored,
    the child would inherit that, and Python then never raises KeyboardInterrupt.
    """
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def claim_of(triples: list[ox.Triple], qualifier: str, value: str) -> ox.Triple:
    """The claim about terms of the first statement with ``qualifier value``, as the plain triple it must not become.

    A claim about a study (a document's own node) is skipped: tests move these claims between documents.
    """
    for statement in (t.subject for t in triples if t.predicate.value == qualifier and t.object.value == value):
        spo = {t.predicate.value.rsplit("#", 1)[-1]: t.object for t in triples if t.subject == statement}
        if "/kg/" not in spo["subject"].value:
            return ox.Triple(spo["subject"], spo["predicate"], spo["object"])
    raise AssertionError(f"no statement about terms with {qualifier} {value}")


def tree_bytes(directory: Path) -> dict[str, bytes]:
    """Every file of a directory by name, to compare releases byte for byte.

    Links to files are read, links to folders are left out and not followed. ``os.walk`` rather
    than ``Path.rglob``: a release holds some 1,500 files, and pathlib's per-path work was most of
    the time of the many tests that compare releases.
    """
    found: dict[str, bytes] = {}
    for folder, _, files in os.walk(directory):
        inside = os.path.relpath(folder, directory)
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                found[name if inside == "." else os.path.join(inside, name)] = handle.read()
    return found


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a corpus file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def place_of(path: Path, needle: str) -> str:
    """``line:column`` (1-based) of the first occurrence of ``needle``, as error messages name a value."""
    line = line_of(path, needle)
    return f"{line}:{path.read_text(encoding='utf-8').splitlines()[line - 1].index(needle) + 1}"


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def add_no_term_row(root: Path, local: str, label: str) -> None:
    """Give a test-only class the mapping row every class needs (an explicit sssom:NoTermFound)."""
    path = root / "mappings" / "carnk.sssom.tsv"
    row = f"carnk:{local}\t{label}\tskos:exactMatch\tsssom:NoTermFound\t\tsemapv:ManualMappingCuration\t\ttest class"
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")


def assert_isomorphic(expected: rdflib.Graph, found: rdflib.Graph, what: str) -> None:
    """Fail with the triples that differ (up to 20 each way), not just "not isomorphic"."""
    if isomorphic(expected, found):
        return
    _, only_expected, only_found = graph_diff(to_isomorphic(expected), to_isomorphic(found))

    def show(graph: rdflib.Graph) -> str:
        lines = sorted(" ".join(term.n3() for term in triple) + " ." for triple in graph)
        more = f"\n    ... {len(lines) - 20} more" if len(lines) > 20 else ""
        return "\n".join(f"    {line}" for line in lines[:20]) + more

    raise AssertionError(
        f"{what}: not isomorphic\n  only in the reference ({len(only_expected)}):\n{show(only_expected)}"
        f"\n  only in {what} ({len(only_found)}):\n{show(only_found)}"
    )
