"""Shared fixtures: a private copy of the project's corpus and a CLI runner."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from carnk_ld.cli import main

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
INPUT_DIRS = ("ontology", "shapes", "documents", "facts", "queries", "mappings")


@dataclass
class Result:
    """Outcome of one CLI run."""

    exit_code: int
    output: str


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the project's inputs that a test may break without touching the checkout."""
    root = tmp_path / "corpus"
    for name in INPUT_DIRS:
        shutil.copytree(PROJECT / name, root / name)
    return root


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``carnk-ld`` in-process and capture stdout and stderr together."""

    def run(*args: str) -> Result:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return Result(result.exit_code, result.output)

    return run


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the project's own corpus, built once for read-only tests."""
    out = tmp_path_factory.mktemp("release") / "build"
    result = CliRunner().invoke(main, ["build", "--root", str(PROJECT), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def generated_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated multi-document corpus (benchmarks/generate.py) for the whole session; copy it to change it."""
    from benchmarks.generate import generate

    root = tmp_path_factory.mktemp("generated") / "corpus"
    generate(9000, root, seed=3)
    return root


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
    """The claim of the first statement with ``qualifier value``, as the plain triple it must not become."""
    statement = next(t.subject for t in triples if t.predicate.value == qualifier and t.object.value == value)
    spo = {t.predicate.value.rsplit("#", 1)[-1]: t.object for t in triples if t.subject == statement}
    return ox.Triple(spo["subject"], spo["predicate"], spo["object"])


def tree_bytes(directory: Path) -> dict[str, bytes]:
    """Every file of a directory by name, to compare releases byte for byte."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a corpus file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


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
