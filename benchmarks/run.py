"""Benchmark the build at 10k, 100k and 1M triples against a naive rdflib + pySHACL baseline.

Usage: python benchmarks/run.py [--sizes 10000,100000,1000000] [--runs 3]
                                [--baseline-timeout 900] [--work DIR] [--out benchmarks/RESULTS.md]

For every size: generate a corpus (benchmarks/generate.py), build it ``--runs`` times with
``carnk-ld build`` in a fresh process (wall time and the child's own peak RSS from
``wait4``; per-stage times from ``--timings``), then push the same release through
the naive baseline in another process: rdflib parses ``carnk.nq``, pySHACL validates the
union graph with the project's shapes, rdflib writes Turtle, JSON-LD, N-Triples and
N-Quads. A baseline that exceeds ``--baseline-timeout`` is killed and reported as a lower
bound. Every build of a size starts cold (no per-document cache); a build in one process
without cache (``--jobs 1 --no-cache``) runs once beside them. On the largest corpus it then
measures rebuilds after editing one document (warm cache), checks the result is
byte-identical to a build without cache, and
times every competency question in the embedded store, on disk and in memory.

Results go to ``--out`` as Markdown with the machine they ran on. Timings are for people
and issue notes, never assertions in tests (machines are noisy).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402

STAGES = ("load", "assemble", "reason", "validate", "qc")
FORMATS = ("carnk.ttl", "carnk.nt", "carnk.nq", "carnk.jsonld", "ontology.owl")


def run_child(argv: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None) -> dict:
    """Run a process; return wall seconds, its own peak RSS (MiB), exit status, stdout, timed out or not."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - started > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return {
            "seconds": wall,
            "peak_mib": usage.ru_maxrss / 1024,
            "status": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace")[-2000:],
        }


def build(corpus: Path, out: Path, *, cold: bool = False, whole_graph: bool = False) -> dict:
    """One ``carnk-ld build`` in a fresh process, with its per-stage timings.

    ``cold`` removes the per-document cache first (a first build); ``whole_graph`` builds in
    one process without cache (``--jobs 1 --no-cache``).
    """
    if cold:
        shutil.rmtree(out.absolute().parent / f".{out.name}.cache", ignore_errors=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        timings = Path(handle.name)
    argv = [sys.executable, "-m", "carnk_ld", "build", "--root", str(corpus), "--out", str(out)]
    argv += ["--timings", str(timings), "--no-progress"]
    if whole_graph:
        argv += ["--jobs", "1", "--no-cache"]
    result = run_child(argv)
    if result["status"] != 0:
        raise SystemExit(f"build of {corpus} failed:\n{result['stderr']}")
    result["stages"] = json.loads(timings.read_text(encoding="utf-8"))
    timings.unlink()
    return result


def naive(release: Path, shapes: Path) -> None:
    """The baseline, run in its own process: rdflib + pySHACL on the whole graph, nothing else."""
    import pyshacl
    import rdflib

    times = {}
    started = time.perf_counter()
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    times["parse"] = time.perf_counter() - started
    shapes_graph = rdflib.Graph()
    for path in sorted(shapes.glob("*.ttl")):
        shapes_graph.parse(path, format="turtle")
    mark = time.perf_counter()
    conforms, _, _ = pyshacl.validate(union, shacl_graph=shapes_graph, advanced=True, inference="none")
    times["validate"] = time.perf_counter() - mark
    for fmt in ("turtle", "json-ld", "nt"):
        mark = time.perf_counter()
        union.serialize(format=fmt)
        times[f"write {fmt}"] = time.perf_counter() - mark
    mark = time.perf_counter()
    dataset.serialize(format="nquads")
    times["write nquads"] = time.perf_counter() - mark
    print(json.dumps({"conforms": bool(conforms), "times": times, "triples": len(union)}))


def baseline(release: Path, corpus: Path, timeout: float) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--naive", str(release), str(corpus / "shapes")]
    result = run_child(argv, timeout=timeout)
    if not result["timed_out"]:
        if result["status"] != 0:
            raise SystemExit(f"baseline failed:\n{result['stderr']}")
        result.update(json.loads(result["stdout"].strip().splitlines()[-1]))
    return result


def edit_one_document(corpus: Path, which: int | None = None) -> str:
    """Append an excluded sentence to one document and update its facts file (sha256 and exclusion)."""
    documents = sorted((corpus / "documents").glob("*.txt"))
    doc = documents[len(documents) // 2 if which is None else which % len(documents)]
    sentence = f"Editorial note added at {time.time_ns()}."
    text = doc.read_text(encoding="utf-8") + sentence + "\n"
    doc.write_text(text, encoding="utf-8")
    facts = corpus / "facts" / (doc.stem + ".yaml")
    yaml_text = facts.read_text(encoding="utf-8")
    old_sha = yaml_text.split("sha256: ", 1)[1].split("\n", 1)[0]
    new_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    yaml_text = yaml_text.replace(old_sha, new_sha, 1)
    yaml_text += f'  - quote: "{sentence}"\n    reason: not-a-factual-claim\n'
    facts.write_text(yaml_text, encoding="utf-8")
    return doc.name


def edit_one_fact(corpus: Path, which: int) -> str:
    """Turn one negated fact of a document into an affirmed one: statements and a plain triple change."""
    documents = sorted((corpus / "facts").glob("*.yaml"))
    facts = documents[which % len(documents)]
    text = facts.read_text(encoding="utf-8")
    if "polarity: negated" not in text:
        raise SystemExit(f"{facts} has no negated fact to edit")
    facts.write_text(text.replace("polarity: negated", "polarity: affirmed", 1), encoding="utf-8")
    return facts.name


def same_release(a: Path, b: Path) -> bool:
    """Whether two releases have the same files (the site's folders walked) with the same bytes."""
    def files(root: Path) -> list[str]:
        return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names)

    names = files(a)
    if names != files(b):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def cq_latencies(release: Path) -> dict[str, tuple[float, float]]:
    """Median over 5 runs of every competency question: in the on-disk embedded store and in memory."""
    from carnk_ld.store import EmbeddedStore

    stores = (EmbeddedStore.for_release(release), EmbeddedStore.in_memory(release))
    statements = stores[0].select("SELECT ?s WHERE { ?s a <https://w3id.org/carnk/Statement> }")
    fact = statements.rows[len(statements.rows) // 2][0]
    medians = {}
    for path in sorted((ROOT / "queries").glob("cq-*.rq")):
        query = path.read_text(encoding="utf-8")
        # Questions documented with --bind fact=... are asked about one fact, as users ask them.
        bindings = {"fact": fact} if "--bind fact=" in query else None
        found = []
        for store in stores:
            store.select(query, bindings)  # first run warms the store's caches
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                store.select(query, bindings)
                runs.append(time.perf_counter() - started)
            found.append(statistics.median(runs))
        medians[path.stem + (" (fact bound)" if bindings else "")] = (found[0], found[1])
    return medians


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        mem_kib = int(handle.readline().split()[1])
    from importlib.metadata import version

    libs = ", ".join(f"{name} {version(name)}" for name in ("pyoxigraph", "rdflib", "pyshacl", "owlready2", "PyYAML"))
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB RAM; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; {libs}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-timeout", type=float, default=900.0)
    parser.add_argument("--work", type=Path, default=None, help="where corpora are generated (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--naive", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cq", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive:
        naive(*args.naive)
        return 0
    if args.cq:  # in a process of its own, as a user's would be (not this driver's large heap)
        print(json.dumps(cq_latencies(args.cq)))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="carnk-bench-"))
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        corpus = work / f"corpus-{size}"
        if not corpus.exists():
            generate(size, corpus)
        release = corpus / "build"
        runs = [build(corpus, release, cold=True) for _ in range(args.runs)]
        triples = int(next(s for s in runs[0]["stages"] if s["stage"] == "assemble")["triples"])
        whole = build(corpus, corpus / "whole", whole_graph=True)
        print(
            f"{size}: {triples} triples, cold builds {[round(r['seconds'], 1) for r in runs]} s, "
            f"one process, no cache {whole['seconds']:.1f} s",
            flush=True,
        )
        base = baseline(release, corpus, args.baseline_timeout)
        print(f"{size}: baseline {base['seconds']:.1f} s{' (killed)' if base['timed_out'] else ''}", flush=True)
        rows.append(
            {"size": size, "triples": triples, "runs": runs, "whole": whole, "baseline": base, "corpus": corpus}
        )
    largest = rows[-1]
    corpus = largest["corpus"]
    release = corpus / "build"
    rebuilds: dict[str, list[dict]] = {"document": [], "fact": []}
    edited: dict[str, list[str]] = {"document": [], "fact": []}
    for run in range(args.runs):
        edited["document"].append(edit_one_document(corpus, which=run * 97 + 13))
        rebuilds["document"].append(build(corpus, release))
        edited["fact"].append(edit_one_fact(corpus, which=run * 89 + 7))
        rebuilds["fact"].append(build(corpus, release))
    for kind, found in rebuilds.items():
        print(f"rebuild after editing one {kind}: {[round(r['seconds'], 2) for r in found]} s", flush=True)
    check = build(corpus, corpus / "whole", whole_graph=True)
    identical = same_release(release, corpus / "whole")
    print(f"edited release identical to a build without cache: {identical} ({check['seconds']:.1f} s)", flush=True)
    measured = run_child([sys.executable, str(Path(__file__).resolve()), "--cq", str(release)])
    if measured["status"] != 0:
        raise SystemExit(f"competency questions failed:\n{measured['stderr']}")
    cqs = {name: tuple(pair) for name, pair in json.loads(measured["stdout"].strip().splitlines()[-1]).items()}
    args.out.write_text(render(rows, rebuilds, edited, identical, cqs, args), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _stage(run: dict, name: str) -> dict:
    return next((s for s in run["stages"] if s["stage"] == name), {"seconds": 0.0, "peak_rss_mib": 0.0})


def render(rows: list[dict], rebuilds: dict, edited: dict, identical: bool, cqs: dict, args) -> str:
    lines = [
        "# Build benchmark",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/run.py "
        f"--sizes {args.sizes} --runs {args.runs} --baseline-timeout {args.baseline_timeout:g}`.",
        "",
        f"Machine: {machine()}.",
        "",
        "Corpora from `benchmarks/generate.py` (seed 7). Build = `carnk-ld build` in a fresh process: all release "
        "formats, HermiT, SHACL validation and QC included. *Cold* builds start with no per-document cache (a first "
        "build; the cache is removed before each run). Wall time and peak RSS are the median of the runs (peak RSS "
        "from `wait4` for that process alone). *One process* is the same build with `--jobs 1 --no-cache` (one "
        "run). Baseline = the same release through "
        "rdflib (parse N-Quads, write Turtle, JSON-LD, N-Triples, N-Quads) and pySHACL on the whole graph with the "
        "project's shapes, in one process; a baseline over the timeout was killed, so its time is a lower bound.",
        "",
        "| triples | cold build (median) | runs | peak RSS | one process | baseline | speed-up | per 1k triples |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        walls = [r["seconds"] for r in row["runs"]]
        wall = statistics.median(walls)
        peak = statistics.median([r["peak_mib"] for r in row["runs"]])
        base = row["baseline"]
        base_text = f"> {base['seconds']:.0f} s (killed)" if base["timed_out"] else f"{base['seconds']:.1f} s"
        ratio = base["seconds"] / wall
        ratio_text = f"> {ratio:.0f}x" if base["timed_out"] else f"{ratio:.1f}x"
        lines.append(
            f"| {row['triples']:,} | {wall:.2f} s | {', '.join(f'{w:.1f}' for w in walls)} | {peak:,.0f} MiB | "
            f"{row['whole']['seconds']:.1f} s | {base_text} | {ratio_text} | "
            f"{wall / row['triples'] * 1000 * 1000:.1f} ms |"
        )
    lines += ["", "Growth (median cold build time ratio against the next smaller corpus, and triples ratio):", ""]
    for small, big in itertools.pairwise(rows):
        t_small = statistics.median([r["seconds"] for r in small["runs"]])
        t_big = statistics.median([r["seconds"] for r in big["runs"]])
        lines.append(
            f"- {small['triples']:,} → {big['triples']:,} triples ({big['triples'] / small['triples']:.1f}x): "
            f"time {t_big / t_small:.1f}x"
        )
    lines += ["", "## Stages of the cold build (median seconds; peak RSS of the process after the stage)", ""]
    header = "| stage | " + " | ".join(f"{row['triples']:,}" for row in rows) + " |"
    lines += [header, "|---|" + "---:|" * len(rows)]
    names = [s["stage"] for s in rows[-1]["runs"][0]["stages"]]
    shown = [n for n in names if n in STAGES or n.removeprefix("write ") in FORMATS]
    for stage in shown:
        cells = []
        for row in rows:
            secs = [_stage(r, stage)["seconds"] for r in row["runs"]]
            peak = [_stage(r, stage)["peak_rss_mib"] for r in row["runs"]]
            cells.append(f"{statistics.median(secs):.2f} s / {statistics.median(peak):,.0f} MiB")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "## Baseline detail (seconds)", ""]
    for row in rows:
        base = row["baseline"]
        if base["timed_out"]:
            lines.append(f"- {row['triples']:,} triples: killed after {base['seconds']:.0f} s")
        else:
            detail = ", ".join(f"{k} {v:.1f}" for k, v in base["times"].items())
            lines.append(
                f"- {row['triples']:,} triples: {detail}; conforms {base['conforms']}; peak {base['peak_mib']:,.0f} MiB"
            )
    lines += [
        "",
        "## Rebuild after editing one document of the largest corpus (warm cache)",
        "",
        "Each run edits another document and rebuilds: *document* appends an excluded sentence to the text and its "
        "facts file (provenance changes); *fact* turns one negated fact into an affirmed one (statements and a plain "
        "triple change, so the cross-document SHACL check reruns).",
        "",
        "| edit | rebuild (median) | runs | peak RSS | load | assemble | validate | qc | writing |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, found in rebuilds.items():
        walls = [r["seconds"] for r in found]
        med = {
            name: statistics.median([_stage(r, name)["seconds"] for r in found])
            for name in ("load", "assemble", "validate", "qc")
        }
        writing = statistics.median(
            [sum(s["seconds"] for s in r["stages"] if s["stage"].startswith("write ")) for r in found]
        )
        lines.append(
            f"| {kind} ({', '.join(edited[kind])}) | {statistics.median(walls):.2f} s | "
            f"{', '.join(f'{w:.2f}' for w in walls)} | {statistics.median([r['peak_mib'] for r in found]):,.0f} MiB | "
            + " | ".join(f"{med[n]:.2f} s" for n in ("load", "assemble", "validate", "qc"))
            + f" | {writing:.2f} s |"
        )
    lines += [
        "",
        f"After these edits the release is {'byte-identical' if identical else 'NOT identical'} to a build without "
        "cache of the same tree.",
        "",
        "## Competency questions on the largest release (median of 5 after a warm-up)",
        "",
        "Measured in a process of its own through `EmbeddedStore.select` (rows turned into Python terms, as a "
        "caller gets them). On disk = the default embedded store (`.build.store/`, RocksDB); in memory = "
        "`EmbeddedStore.in_memory(release)`, the release loaded into an in-memory Oxigraph store.",
        "",
        "| query | on disk | in memory |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {disk * 1000:.1f} ms | {mem * 1000:.1f} ms |" for name, (disk, mem) in cqs.items()]
    for label, index in (("on disk", 0), ("in memory", 1)):
        values = [v[index] for v in cqs.values()]
        over = sum(1 for v in values if v > 0.05)
        lines.append(
            f"\n{label}: median over all questions {statistics.median(values) * 1000:.1f} ms; slowest "
            f"{max(values) * 1000:.1f} ms; {len(values) - over} of {len(values)} at or under 50 ms."
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
