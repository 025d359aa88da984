"""Time ontology QC on generated ontologies of N classes, these checks against older ones side by side.

Usage: python benchmarks/qc_scale.py [--sizes 10000,50000] [--old main | --old DIR]
                                     [--timeout 600] [--check] [--work DIR] [--out benchmarks/RESULTS.md]

For every size, the project's ontology gets N generated classes (deterministic seed): each
with a label, a definition, a synonym and a named parent, some with an OWL restriction,
and a small share of injected violations (labels that differ only in case, second labels,
padded synonyms, deprecated classes still referenced). Each check
of ``queries/checks/`` and of ``--old`` (a git revision whose ``queries/checks/`` is read
with ``git show``, or a directory) runs in a fresh process over a store of the ontology
graph; a check that exceeds ``--timeout`` is killed and reported as a lower bound. Both
versions must give the same rows where both finish. ``--check`` also times the whole
``carnk-ld check --no-cache`` of the project corpus with the generated ontology, once per
version (its ``qc`` stage from ``--timings``).

Results go to ``--out`` as Markdown with the machine they ran on. Timings are for people
and issue notes, never assertions in tests.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import machine, run_child  # noqa: E402

CHECKS_DIR = Path("queries") / "checks"
COPIED = ("ontology", "shapes", "mappings", "documents", "facts")
WORDS = (
    "natural killer cell receptor domain therapy toxicity cytokine antigen costimulatory signal "
    "expansion persistence manufacturing donor source line activation marker tumour response"
).split()


def ontology_text(project_ontology: str, classes: int, seed: int) -> str:
    """The project's ontology with ``classes`` generated classes appended (Turtle, its prefixes)."""
    rng = random.Random(seed)
    labels: list[str] = []
    out = [project_ontology, "\n# Generated classes (benchmarks/qc_scale.py)\n"]
    out.append(
        'carnk:genRelatedTo a owl:ObjectProperty ; rdfs:label "generated relation"@en ;\n'
        '    obo:IAO_0000115 "A relation for generated classes."@en ;\n'
        "    rdfs:domain carnk:Gen0 ; rdfs:range carnk:Gen0 .\n"
    )
    deprecated: list[int] = []
    for i in range(classes):
        words = " ".join(rng.choice(WORDS) for _ in range(3))
        label = f"{words} {i}"
        roll = rng.random()
        if roll < 0.005 and labels:  # another class's label, in other case
            label = rng.choice(labels).upper()
        labels.append(label)
        lines = [f"carnk:Gen{i} a owl:Class", f'rdfs:label "{label}"@en']
        if 0.005 <= roll < 0.007:
            lines.append(f'rdfs:label "second label {i}"@en')
        # Every class has a definition: the SHACL gate, before QC, would stop a check without.
        lines.append(f'obo:IAO_0000115 "A generated class about {words}."@en')
        synonym = f" {words} {i}" if 0.012 <= roll < 0.014 else f"{words} synonym {i}"
        lines.append(f'oboInOwl:hasExactSynonym "{synonym}"@en')
        if i:
            lines.append(f"rdfs:subClassOf carnk:Gen{rng.randrange(i)}")
        if rng.random() < 0.1 and i > 1:
            target = rng.randrange(i)
            lines.append(
                "rdfs:subClassOf [ a owl:Restriction ; owl:onProperty carnk:genRelatedTo ; "
                f"owl:someValuesFrom carnk:Gen{target} ]"
            )
        if 0.014 <= roll < 0.016:
            lines.append("owl:deprecated true")
            deprecated.append(i)
        out.append(" ;\n    ".join(lines) + " .\n")
    return "".join(out)


def old_checks(old: str, into: Path) -> Path:
    """The checks of ``old`` (a directory, or a git revision of this repository) copied into ``into``."""
    into.mkdir(parents=True)
    if Path(old).is_dir():
        for path in Path(old).glob("*-violation.rq"):
            shutil.copy(path, into / path.name)
        return into
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{old}:{CHECKS_DIR}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    for name in names:
        text = subprocess.run(
            ["git", "show", f"{old}:{CHECKS_DIR / name}"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        (into / name).write_bytes(text)
    return into


_CHILD = """
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
from carnk_ld.qc import check_rows, load_checks
store = ox.Store()
store.bulk_load(path=sys.argv[1], format=ox.RdfFormat.N_QUADS)
check = next(c for c in load_checks(Path(sys.argv[2])) if c.rule == sys.argv[3])
started = time.perf_counter()
rows = sorted(set(check_rows(check, store)))
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""


def dataset_file(ontology: str, directory: Path) -> Path:
    """The ontology graph as the build publishes it, in N-Quads."""
    from carnk_ld.constants import GRAPH_ONTOLOGY
    from carnk_ld.graph import canonical_ontology
    from carnk_ld.ontology import load_ontology

    path = directory / "carnk.ttl"
    path.write_text(ontology, encoding="utf-8")
    graph = ox.NamedNode(GRAPH_ONTOLOGY)
    quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in canonical_ontology(load_ontology(path))]
    target = directory / "ontology.nq"
    ox.serialize(quads, str(target), ox.RdfFormat.N_QUADS)
    return target


def time_check(dataset: Path, checks: Path, rule: str, timeout: float) -> dict:
    run = run_child([sys.executable, "-c", _CHILD, str(dataset), str(checks), rule], timeout=timeout)
    if run["timed_out"]:
        return {"seconds": None, "rows": None}
    if run["status"] != 0:
        raise SystemExit(f"check {rule} failed:\n{run['stderr']}")
    return json.loads(run["stdout"])


def _map_generated_classes(tsv: Path, ontology: str) -> None:
    """Every class needs a mapping row: the generated ones get sssom:NoTermFound."""
    text = tsv.read_text(encoding="utf-8")
    columns = next(line for line in text.split("\n") if not line.startswith("#")).split("\t")
    values = {
        "predicate_id": "skos:exactMatch",
        "object_id": "sssom:NoTermFound",
        "mapping_justification": "semapv:ManualMappingCuration",
        "comment": "generated by benchmarks/qc_scale.py",
    }
    rows = []
    for local in re.findall(r"^carnk:(Gen\d+) a owl:Class", ontology, re.MULTILINE):
        cells = {**values, "subject_id": f"carnk:{local}"}
        rows.append("\t".join(cells.get(column, "") for column in columns))
    tsv.write_text(text.rstrip("\n") + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def time_check_command(ontology: str, checks: Path, work: Path, timeout: float) -> dict:
    """``carnk-ld check --no-cache`` of the project corpus with this ontology and these checks."""
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    for name in COPIED:
        shutil.copytree(ROOT / name, corpus / name)
    shutil.copytree(checks, corpus / CHECKS_DIR)
    (corpus / "ontology" / "carnk.ttl").write_text(ontology, encoding="utf-8")
    _map_generated_classes(corpus / "mappings" / "carnk.sssom.tsv", ontology)
    timings = work / "timings.json"
    timings.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "carnk_ld", "check", "--root", str(corpus), "--no-cache", "--timings", str(timings)]
    run = run_child(argv, timeout=timeout)
    if run["timed_out"]:
        return {"seconds": None, "qc": None, "status": None}
    stages = json.loads(timings.read_text(encoding="utf-8")) if timings.exists() else []
    # The QC queries run with the shapes' on each shard in the validate stage; qc renders.
    gates = sum(s["seconds"] for s in stages if s["stage"] in ("validate", "qc")) if stages else None
    return {"seconds": run["seconds"], "qc": gates, "status": run["status"], "stderr": run["stderr"][-2000:]}


def _seconds(value: float | None, timeout: float) -> str:
    return f"> {timeout:.0f} s" if value is None else f"{value:.2f} s"


def render(
    results: dict, commands: dict, args: argparse.Namespace, triples: dict[int, int], differ: dict[str, list[str]]
) -> str:
    sizes = sorted(results)
    lines = [
        "## Ontology QC at 10k and 50k generated classes (each check against the previous ones)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/qc_scale.py "
        f"--sizes {args.sizes} --old {args.old} --timeout {args.timeout:.0f}{' --check' if args.check else ''}` "
        f"on {machine()}.",
        "",
        "*old*: the checks of `--old`; *new*: this checkout's. Each check runs alone in a fresh process "
        "over a store of the ontology graph (time of the query only); a check killed at the timeout is "
        "shown as a lower bound. " + ", ".join(f"{n:,} classes: {triples[n]:,} triples" for n in sizes) + ".",
        "",
        "| check | " + " | ".join(f"old {n:,} | new {n:,}" for n in sizes) + f" | new {sizes[-1]:,} / {sizes[0]:,} |",
        "|---|" + "---:|---:|" * len(sizes) + "---:|",
    ]
    for rule in sorted(results[sizes[0]]["new"]):
        cells = []
        for n in sizes:
            for version in ("old", "new"):
                cells.append(_seconds(results[n][version].get(rule, {}).get("seconds"), args.timeout))
        first, last = (results[n]["new"][rule]["seconds"] for n in (sizes[0], sizes[-1]))
        ratio = f"{last / first:.1f}x" if first and last else ""
        lines.append(f"| {rule} | " + " | ".join(cells) + f" | {ratio} |")
    totals = []
    for n in sizes:
        for version in ("old", "new"):
            values = [r["seconds"] for r in results[n][version].values()]
            total = sum(args.timeout if v is None else v for v in values)
            totals.append(f"{'> ' if None in values else ''}{total:.2f} s")
    new_totals = [sum(r["seconds"] for r in results[n]["new"].values()) for n in (sizes[0], sizes[-1])]
    lines.append("| **all checks** | " + " | ".join(totals) + f" | {new_totals[1] / new_totals[0]:.1f}x |")
    lines.append("")
    lines.append(
        f"{sizes[-1] / sizes[0]:.0f}x the classes: the new checks took {new_totals[1] / new_totals[0]:.1f}x the time. "
        "Where both versions finished, their rows were identical"
        + (
            ", except: " + "; ".join(f"{rule} ({', '.join(notes)})" for rule, notes in sorted(differ.items())) + "."
            if differ
            else "."
        )
    )
    if commands:
        lines += [
            "",
            "Whole `carnk-ld check --no-cache` of the project corpus with the generated ontology "
            "(exit 1 expected: the injected violations are ERRORs):",
            "",
            "| classes | version | check | its validate and qc stages | exit |",
            "|---:|---|---:|---:|---:|",
        ]
        for (n, version), run in sorted(commands.items()):
            qc = "" if run["qc"] is None else f"{run['qc']:.2f} s"
            lines.append(
                f"| {n:,} | {version} | {_seconds(run['seconds'], args.check_timeout)} | {qc} | {run['status']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--old", default="main", help="git revision or directory of the checks to compare with")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a check is killed")
    parser.add_argument("--check", action="store_true", help="also time the whole 'carnk-ld check'")
    parser.add_argument("--check-timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="append the Markdown section to this file")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="qc-scale-"))
    versions = {"old": old_checks(args.old, work / "old-checks"), "new": ROOT / CHECKS_DIR}
    rules = sorted(p.name.removesuffix("-violation.rq") for p in versions["new"].glob("*-violation.rq"))
    project_ontology = (ROOT / "ontology" / "carnk.ttl").read_text(encoding="utf-8")
    results: dict[int, dict[str, dict]] = {}
    commands: dict[tuple[int, str], dict] = {}
    triples: dict[int, int] = {}
    differ: dict[str, list[str]] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        directory = work / str(size)
        directory.mkdir(parents=True, exist_ok=True)
        ontology = ontology_text(project_ontology, size, args.seed)
        dataset = dataset_file(ontology, directory)
        triples[size] = sum(1 for _ in dataset.open("rb"))
        results[size] = {"old": {}, "new": {}}
        for rule in rules:
            for version, checks in versions.items():
                result = time_check(dataset, checks, rule, args.timeout)
                results[size][version][rule] = result
                print(size, version, rule, _seconds(result["seconds"], args.timeout), flush=True)
            old, new = (results[size][v][rule]["rows"] for v in ("old", "new"))
            if old is not None and old != new:
                differ.setdefault(rule, []).append(f"{size:,} classes: {len(old)} rows old, {len(new)} new")
        if args.check:
            for version, checks in versions.items():
                commands[(size, version)] = time_check_command(ontology, checks, directory, args.check_timeout)
                print(size, version, "check", commands[(size, version)], flush=True)
    text = render(results, commands, args, triples, differ)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
