"""Scale features users notice: the benchmark corpus generator, build progress, stage timings.

Speed itself is measured by ``benchmarks/run.py`` (numbers in ``benchmarks/RESULTS.md``),
never asserted here: test machines are noisy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from benchmarks.generate import generate
from tests.conftest import run_process


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale") / "corpus"
    generate(30000, root, seed=3)
    return root


@pytest.mark.slow
def test_generated_corpus_builds_to_about_the_requested_size(corpus: Path, tmp_path: Path) -> None:
    timings = tmp_path / "timings.json"
    out = tmp_path / "release"
    result = run_process("build", "--root", str(corpus), "--out", str(out), "--timings", str(timings))
    assert result.returncode == 0, result.stderr
    triples = sum(1 for _ in (out / "carnk.nq").open("rb"))
    assert abs(triples - 30000) <= 3000, triples
    stages = json.loads(timings.read_text(encoding="utf-8"))
    names = [s["stage"] for s in stages]
    for stage in ("load", "assemble", "reason", "validate", "qc", "write carnk.ttl", "write carnk.jsonld"):
        assert stage in names
    assert next(s for s in stages if s["stage"] == "load")["cached"] == 0  # a first build: nothing to reuse
    assert all(s["seconds"] >= 0 and s["peak_rss_mib"] > 0 for s in stages)
    assert next(s for s in stages if s["stage"] == "assemble")["triples"] == triples
    # documents that report one trial with different values for a measure
    assert len((out / "conflicts.tsv").read_text(encoding="utf-8").splitlines()) > 1


def test_generated_corpus_mixes_every_fact_kind(corpus: Path) -> None:
    keys: dict[str, set[str]] = {}
    kinds: set[str] = set()
    reasons: set[str] = set()
    studies: list[dict] = []
    documents = sorted((corpus / "documents").glob("*.txt"))
    assert len(documents) >= 20
    for path in sorted((corpus / "facts").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data["metadata"]) == {"title", "kind", "source", "licence"}
        kinds.add(data["metadata"]["kind"])
        for fact in data["facts"]:
            for key, value in fact.items():
                keys.setdefault(key, set()).add(str(value))
        studies += data["studies"]
        reasons |= {e["reason"] for e in data["excluded"]}
    assert keys["polarity"] == {"negated"}
    assert keys["modality"] == {"possible", "implied"}
    assert keys["frequency"] == {"usually", "often", "sometimes", "uncommon", "minimal-or-none"}
    assert "is_a" in keys["predicate"] and "compared_to" in keys and "note" in keys
    assert kinds == {"overview", "review", "trial-summary", "conference-report"}
    assert reasons == {"heading", "list-introduction", "not-a-factual-claim"}

    # claims about named products, and findings of a study (about the study or its product)
    products = {"FT516", "FT596", "NKX019", "CordBloodCAR19IL15NKCells", "NKG2DmRNACARNKCells"}
    assert keys["subject"] & products
    assert {"targetsAntigen", "engineeredWith", "armouredWith", "hasGeneKnockout", "combinedWith"} <= keys["predicate"]
    assert "study" in keys and "hasOutcomePredictor" in keys["predicate"]

    # reference lists: numbered entries cited by markers, and the publication a summary reports
    texts = [path.read_text(encoding="utf-8") for path in documents]
    assert any(re.search(r"^\[\d+\] .* doi:10\.5555/", text, re.MULTILINE) for text in texts)
    assert any(re.search(r" \[\d+\]\.|\.\[\d+\]\[\d+\]", text) for text in texts)
    assert any(text.count("\nReference: ") == 1 for text in texts)

    # studies: phases, products, arms, outcomes, adverse events, registry links
    phases = {str(s.get("phase")) for s in studies}
    assert phases <= {"1", "1-2", "2", "pilot", "None"} and len(phases) >= 4
    assert all(s["product"] in products for s in studies if "product" in s)
    assert any("patients" not in s for s in studies) and any(s.get("preliminary") is True for s in studies)
    arms = [a for s in studies for a in s.get("arms", [])]
    assert {"route", "infusions", "doses", "combined_with"} <= {k for a in arms for k in a}
    assert {d["unit"] for a in arms for d in a.get("doses", [])} == {"cells-per-kg", "cells"}
    outcomes = [o for s in studies for o in s["outcomes"]]
    assert any("count" in o and "of" in o for o in outcomes) and any("percent" in o for o in outcomes)
    assert {o["at"].get("bound") for o in outcomes if "at" in o} == {None, "at-least", "at-most", "about"}
    assert any(o.get("among") == "evaluable" for o in outcomes) and any("evaluable" in s for s in studies)
    events = [e for s in studies for e in s["adverse_events"]]
    assert any(e["count"] == 0 for e in events)
    assert any(e["count"] > 0 and "grade" in e for e in events)
    assert any(e["count"] > 0 and "min_grade" in e for e in events)
    registries = [s["registry"] for s in studies if "registry" in s]
    assert all(re.fullmatch(r"NCT99\d{6}", r) for r in registries)  # synthetic: no real trial
    assert len(set(registries)) < len(registries)  # some trial is reported by several documents
    assert any("registry_note" in s for s in studies)


def test_generator_is_deterministic(tmp_path: Path) -> None:
    generate(3000, tmp_path / "a", seed=9)
    generate(3000, tmp_path / "b", seed=9)
    for sub in ("documents", "facts"):
        a = {p.name: p.read_bytes() for p in (tmp_path / "a" / sub).iterdir()}
        b = {p.name: p.read_bytes() for p in (tmp_path / "b" / sub).iterdir()}
        assert a == b


@pytest.mark.slow
def test_progress_is_shown_per_stage_when_asked_and_quiet_otherwise(tmp_path: Path) -> None:
    from tests.conftest import PROJECT

    quiet = run_process("build", "--root", str(PROJECT), "--out", str(tmp_path / "a"))
    assert quiet.returncode == 0
    assert "carnk-ld:" not in quiet.stderr  # not a terminal: CI logs stay clean
    shown = run_process("build", "--root", str(PROJECT), "--out", str(tmp_path / "b"), "--progress")
    assert shown.returncode == 0
    lines = [line for line in shown.stderr.splitlines() if line.startswith("carnk-ld:")]
    documents = len(list((PROJECT / "documents").glob("*.txt")))
    assert re.match(
        rf"carnk-ld: load +\d+\.\d\d s  peak [\d,]+ MiB  \({documents} documents, \d+ statements, 0 cached\)", lines[0]
    )
    # every distinct triple of the release: carnk.nt leaves out the ontology's header, carnk.nq has it
    triples = len({q.triple for q in ox.parse(path=str(tmp_path / "b" / "carnk.nq"), format=ox.RdfFormat.N_QUADS)})
    assert any(re.match(rf"carnk-ld: assemble .*\({triples:,} triples\)", line) for line in lines)
    assert any(line.startswith("carnk-ld: write carnk.nq ") and "bytes)" in line for line in lines)
    assert (tmp_path / "a" / "carnk.nq").read_bytes() == (tmp_path / "b" / "carnk.nq").read_bytes()


@pytest.mark.slow
def test_progress_appears_by_itself_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a real pseudo-terminal (no --progress), the stages are shown."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import PROJECT

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "carnk_ld", "build", "--root", str(PROJECT), "--out", str(tmp_path / "r")],
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed when the build exited
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    for stage in ("load", "assemble", "reason", "validate", "qc", "write carnk.ttl"):
        assert f"carnk-ld: {stage} " in text, text
