"""Benchmark this version of the build side by side with an earlier one, in one run.

Usage: python benchmarks/compare.py --before DIR [--sizes 1000000,3000000] [--runs 3] [--work DIR]
                                    [--out benchmarks/RESULTS.md]

``--before`` is a checkout of the earlier version (``git worktree add DIR <commit>``); it
runs with this checkout's installed dependencies, its own package first on the path.
For each size, a corpus is generated once (benchmarks/generate.py, seed 7) and both
versions build it in fresh processes, alternating, so that a slower hour of the machine
hits both alike: ``--runs`` cold builds each (no cache), then ``--runs`` rebuilds after
editing one document (warm cache). This version is also built with one process and no
cache (``--jobs 1 --no-cache``). Wall time and each process's own peak RSS come from
``wait4``. Every release is checked byte-identical to this version's cold build.

Results are appended to ``--out`` as a Markdown section. Timings are for people and issue
notes, never assertions in tests (machines are noisy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402
from benchmarks.run import edit_one_document, edit_one_fact, machine, run_child, same_release  # noqa: E402


def build(source: Path, corpus: Path, out: Path, *, before: bool, cold: bool, extra: tuple[str, ...] = ()) -> dict:
    """One build of ``corpus`` by the checkout at ``source``, in a fresh process."""
    if cold:
        shutil.rmtree(out.absolute().parent / f".{out.name}.cache", ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(source))
    argv = [sys.executable, "-m", "carnk_ld", "build", "--root", str(corpus), "--out", str(out), *extra]
    if before:
        env["CARNK_LD_PROGRESS"] = "0"  # the earlier version's interface
    else:
        argv.append("--no-progress")
    result = run_child(argv, env=env)
    if result["status"] != 0:
        raise SystemExit(f"build of {corpus} by {source} failed:\n{result['stderr']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the earlier version")
    parser.add_argument("--sizes", default="1000000,3000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    work = args.work or Path(f"/tmp/carnk-compare-{os.getpid()}")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for index, size in enumerate(sizes):
        corpus = work / f"corpus-{size}"
        if not corpus.exists():
            generate(size, corpus)
        runs = args.runs if index == 0 else 1
        found: dict[str, list[dict]] = {"before": [], "now": [], "now-1-job": []}
        for _ in range(runs):
            found["before"].append(build(args.before, corpus, work / f"before-{size}", before=True, cold=True))
            found["now"].append(build(ROOT, corpus, work / f"now-{size}", before=False, cold=True))
            print(size, {k: [round(r["seconds"], 1) for r in v] for k, v in found.items()}, flush=True)
        found["now-1-job"].append(
            build(ROOT, corpus, work / f"one-{size}", before=False, cold=True, extra=("--jobs", "1", "--no-cache"))
        )
        identical = same_release(work / f"before-{size}", work / f"now-{size}") and same_release(
            work / f"one-{size}", work / f"now-{size}"
        )
        rebuilds: dict[str, list[dict]] = {"before": [], "now": []}
        fact_rebuilds: dict[str, list[dict]] = {"before": [], "now": []}
        if index == 0:
            for run in range(runs):
                # a document's text: its provenance changes, its facts do not
                edit_one_document(corpus, which=run * 97 + 13)
                rebuilds["before"].append(build(args.before, corpus, work / f"before-{size}", before=True, cold=False))
                rebuilds["now"].append(build(ROOT, corpus, work / f"now-{size}", before=False, cold=False))
                # a fact: statements and plain triples change, so whole-graph checks run again
                _edit_a_fact(corpus, run * 89 + 7)
                fact_rebuilds["before"].append(
                    build(args.before, corpus, work / f"before-{size}", before=True, cold=False)
                )
                fact_rebuilds["now"].append(build(ROOT, corpus, work / f"now-{size}", before=False, cold=False))
                print(size, "rebuilds", {k: [round(r["seconds"], 2) for r in v] for k, v in rebuilds.items()})
                print(size, "fact rebuilds", {k: [round(r["seconds"], 2) for r in v] for k, v in fact_rebuilds.items()})
            identical = identical and same_release(work / f"before-{size}", work / f"now-{size}")
        triples = sum(1 for _ in (work / f"now-{size}" / "carnk.nt").open("rb"))
        rows.append(
            {
                "size": size,
                "triples": triples,
                "found": found,
                "rebuilds": rebuilds,
                "fact_rebuilds": fact_rebuilds,
                "identical": identical,
            }
        )
    text = render(rows, args)
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    args.out.write_text(previous.rstrip("\n") + "\n\n" + text if previous else text, encoding="utf-8")
    print(text)
    return 0


def _edit_a_fact(corpus: Path, which: int) -> str:
    """Turn a negated fact affirmed in the first document from ``which`` on that has one."""
    count = len(list((corpus / "facts").glob("*.yaml")))
    for offset in range(count):
        try:
            return edit_one_fact(corpus, which + offset)
        except SystemExit:  # that document has no negated fact left
            continue
    raise SystemExit(f"no document of {corpus} has a negated fact left")


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def render(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [
        "## One pipeline against the version before it (side by side, one run)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/compare.py --before "
        f"<checkout> --sizes {args.sizes} --runs {args.runs}` on {machine()}.",
        "",
        "*before*: the previous main (`--before`); *now*: this checkout, default options; *now, 1 job*: "
        "`--jobs 1 --no-cache`, everything in one process. Cold = no cache. Builds alternate between versions.",
        "",
        "| triples | version | cold build (median) | runs | peak RSS (median) "
        "| rebuild after one document's text | runs | rebuild after one fact | runs |",
        "|---:|---|---:|---|---:|---:|---|---:|---|",
    ]
    for row in rows:
        for name, runs in row["found"].items():
            cells = []
            for kind in ("rebuilds", "fact_rebuilds"):
                rebuilds = row[kind].get(name, [])
                cells.append(f"{_median(rebuilds, 'seconds'):.2f} s" if rebuilds else "")
                cells.append(", ".join(f"{r['seconds']:.2f}" for r in rebuilds))
            cold_runs = ", ".join(f"{r['seconds']:.1f}" for r in runs)
            lines.append(
                f"| {row['triples']:,} | {name} | {_median(runs, 'seconds'):.2f} s | {cold_runs} | "
                f"{_median(runs, 'peak_mib'):,.0f} MiB | {' | '.join(cells)} |"
            )
    if len(rows) > 1:
        small, big = rows[0], rows[-1]
        for name in ("before", "now"):
            ratio = _median(big["found"][name], "seconds") / _median(small["found"][name], "seconds")
            lines.append(
                f"\n{name}: {big['triples'] / small['triples']:.2f}x the triples took {ratio:.2f}x the time "
                f"(cold, {small['triples']:,} → {big['triples']:,})."
            )
    for row in rows:
        verdict = "byte-identical" if row["identical"] else "NOT identical"
        lines.append(f"\n{row['triples']:,} triples: the releases of all versions and options are {verdict}.")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
