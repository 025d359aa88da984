"""The suite does not depend on the project corpus's size or content.

A copy of the project's inputs grows by a new document with valid facts; the corpus-independent
tests then run against the copy (``--project-root``) and must pass, and ``carnk-ld cq`` must
report the competency questions' answers on it (changed or not) without crashing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import INPUT_DIRS, PROJECT, run_process

#: Not run on the copy: test_cq.py checks the project's approved answers, the one test bound to
#: the corpus's content.
NOT_ON_THE_COPY = ("test_cq.py",)

DOCUMENT = """Interim report: CAR-NK cells in solid tumors
CAR-NK cells derived from peripheral blood were tested against solid tumors.
Intravenous CAR-NK therapy did not cause cytokine release syndrome in this series.
Interleukin-15 support may improve CAR-NK cell persistence in vivo.
"""

FACTS = """document: interim-report.txt
sha256: {sha256}
metadata:
  source: "Written for the carnk-ld test suite"
  licence: https://creativecommons.org/licenses/by/4.0/

facts:
  - id: carnk-from-peripheral-blood
    quote: "CAR-NK cells derived from peripheral blood"
    subject: CARNKCell
    predicate: derivedFrom
    object: PeripheralBlood
  - id: carnk-targets-solid-tumors
    quote: "were tested against solid tumors"
    subject: CARNKCell
    predicate: targets
    object: SolidTumor
  - id: carnk-intravenous
    quote: "Intravenous CAR-NK therapy"
    subject: CARNKCellTherapy
    predicate: administeredVia
    object: IntravenousAdministration
  - id: carnk-no-crs
    quote: "did not cause cytokine release syndrome"
    subject: CARNKCellTherapy
    predicate: hasToxicityRisk
    object: CytokineReleaseSyndrome
    polarity: negated
  - id: carnk-cytokine-support
    quote: "Interleukin-15 support may improve CAR-NK cell persistence in vivo."
    subject: CARNKCellTherapy
    predicate: hasImprovementStrategy
    object: CytokineSupport
    modality: possible
  - id: cytokine-support-il15
    quote: "Interleukin-15 support"
    subject: CytokineSupport
    predicate: involves
    object: Interleukin15

studies: []

excluded:
  - quote: "Interim report: CAR-NK cells in solid tumors"
    reason: heading
"""


def grow(project_root: Path, copy: Path) -> None:
    """Copy the project's inputs and add a new document with its facts."""
    for name in INPUT_DIRS:
        shutil.copytree(project_root / name, copy / name)
    document = copy / "documents" / "interim-report.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    sha256 = hashlib.sha256(document.read_bytes()).hexdigest()
    (copy / "facts" / "interim-report.yaml").write_text(FACTS.format(sha256=sha256), encoding="utf-8")


@pytest.mark.slow
def test_corpus_independent_tests_pass_on_a_grown_copy_of_the_corpus(project_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "grown"
    grow(project_root, copy)
    documents = len(list((project_root / "documents").glob("*.txt"))) + 1
    built = run_process("build", "--root", str(copy))
    assert built.returncode == 0, built.stdout + built.stderr
    assert f"documents:  {documents}\n" in built.stdout

    ignored = [f"--ignore=tests/{name}" for name in NOT_ON_THE_COPY]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    command += ["--project-root", str(copy), *ignored, "tests"]
    try:
        tests = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the suite on the grown copy did not finish in {exc.timeout} s")
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary, summary

    answered = run_process("cq", "--root", str(copy))
    assert answered.returncode in (0, 1), answered.stdout + answered.stderr
    assert "Traceback" not in answered.stderr
    lines = answered.stdout.splitlines()
    questions = sorted(p.stem for p in (copy / "queries").glob("cq-*.rq"))
    total = lines[-1] if answered.returncode == 0 else lines[-2]  # a difference ends with how to approve
    assert re.fullmatch(rf"{len(questions)} questions: \d+ ok, \d+ differ", total), total
    reported = [line.split(":", 1)[0] for line in lines if re.match(r"cq-[^:]+: ", line)]
    assert reported == questions
    if answered.returncode == 1:
        assert any(line.startswith(("  + ", "  - ")) for line in lines), "a difference shows its rows"
