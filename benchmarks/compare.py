"""Benchmark this version of the build side by side with an earlier one, in one run.

Usage: python benchmarks/compare.py --before DIR [--sizes 1000000,3000000] [--runs 3] [--later-runs N]
                                    [--same-corpus] [--work DIR] [--out benchmarks/RESULTS.md]

``--before`` is a checkout of the earlier version (``git worktree add DIR <commit>``); it
runs with this checkout's installed dependencies, its own package first on the path.

Each version builds a corpus written by its own generator (``benchmarks/generate.py`` of
its checkout, seed 7). The facts format grows with the project: a corpus that exercises
this version's facts (document metadata, products, study arms, registry links, ...) holds
keys an earlier version refuses, and a corpus in the earlier format would leave this
version's new work unmeasured. The comparison is like for like in size: the earlier
version's corpus is generated for the size asked and built first, then this version's
corpus is generated for the number of triples of that release (this generator's estimate
is exact), so the two releases differ by less than one document's triples. With
``--same-corpus`` both versions build this version's corpus instead, for an earlier
version that reads the same format.

For each size both versions build in fresh processes, alternating, so that a slower hour
of the machine hits both alike: ``--runs`` cold builds each (no cache; ``--later-runs``
for the sizes after the first). This version is also built once with one process and no
cache (``--jobs 1 --no-cache``). On the first size each version then rebuilds ``--runs``
times after editing one document's text and after editing one fact of its corpus (warm
cache). Wall time and each process's own peak RSS come from ``wait4``. The release of
every option and of the rebuilds is checked byte-identical to a build of the same corpus
without cache (and, with ``--same-corpus``, to the earlier version's).

Results are appended to ``--out`` as a Markdown section. Timings are for people and issue
notes, never assertions in tests (machines are noisy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402
from benchmarks.run import edit_one_document, edit_one_fact, machine, run_child, same_release  # noqa: E402

SEED = 7


def build(source: Path, corpus: Path, out: Path, *, before: bool, cold: bool, extra: tuple[str, ...] = ()) -> dict:
    """One build of ``corpus`` by the checkout at ``source``, in a fresh process."""
    if cold:
        shutil.rmtree(out.absolute().parent / f".{out.name}.cache", ignore_errors=True)
    # ``python -m`` puts the working directory on the path before PYTHONPATH: run from one
    # checkout, every build would use that checkout's package, whatever ``source`` says.
    env = dict(os.environ, PYTHONPATH=str(source), PYTHONSAFEPATH="1")
    argv = [sys.executable, "-m", "carnk_ld", "build", "--root", str(corpus), "--out", str(out), *extra]
    if before:
        env["CARNK_LD_PROGRESS"] = "0"  # the earlier version's interface
    else:
        argv.append("--no-progress")
    result = run_child(argv, env=env)
    if result["status"] != 0:
        raise SystemExit(f"build of {corpus} by {source} failed:\n{result['stderr']}")
    return result


def generate_with(source: Path, triples: int, corpus: Path) -> None:
    """Write a corpus with the generator of the checkout at ``source``, in its own process."""
    script = source / "benchmarks" / "generate.py"
    result = subprocess.run(
        [sys.executable, str(script), "--triples", str(triples), "--seed", str(SEED), str(corpus)],
        env=dict(os.environ, PYTHONPATH=str(source)),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"the generator of {source} failed:\n{result.stderr}")


def triples_of(release: Path) -> int:
    """The number of triples of a release (lines of its N-Triples)."""
    return sum(1 for _ in (release / "carnk.nt").open("rb"))


def commit_of(checkout: Path) -> str:
    """The short commit of a checkout, with "+changes" when its tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True, check=False).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return commit + (" +changes" if git("status", "--porcelain", "--untracked-files=no").strip() else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the earlier version")
    parser.add_argument("--sizes", default="1000000,3000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--later-runs", type=int, default=None, help="cold runs for the sizes after the first")
    parser.add_argument("--same-corpus", action="store_true", help="both versions build this version's corpus")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args(argv)
    before_root = args.before.resolve()
    work = args.work or Path(f"/tmp/carnk-compare-{os.getpid()}")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for index, size in enumerate(sizes):
        corpus = work / f"corpus-{size}"
        before_corpus = corpus if args.same_corpus else work / f"corpus-before-{size}"
        if args.same_corpus and not corpus.exists():
            generate(size, corpus, SEED)
        if not before_corpus.exists():
            generate_with(before_root, size, before_corpus)
        runs = args.runs if index == 0 or args.later_runs is None else args.later_runs
        found: dict[str, list[dict]] = {"before": [], "now": [], "now-1-job": []}
        for _ in range(runs):
            found["before"].append(build(before_root, before_corpus, work / f"before-{size}", before=True, cold=True))
            if not corpus.exists():  # as many triples as the earlier version's release
                generate(triples_of(work / f"before-{size}"), corpus, SEED)
            found["now"].append(build(ROOT, corpus, work / f"now-{size}", before=False, cold=True))
            print(size, {k: [round(r["seconds"], 1) for r in v] for k, v in found.items()}, flush=True)
        found["now-1-job"].append(
            build(ROOT, corpus, work / f"one-{size}", before=False, cold=True, extra=("--jobs", "1", "--no-cache"))
        )
        identical = same_release(work / f"one-{size}", work / f"now-{size}")
        if args.same_corpus:
            identical = identical and same_release(work / f"before-{size}", work / f"now-{size}")
        rebuilds: dict[str, list[dict]] = {"before": [], "now": []}
        fact_rebuilds: dict[str, list[dict]] = {"before": [], "now": []}
        if index == 0:
            corpora = {"before": before_corpus, "now": corpus}
            sources = {"before": before_root, "now": ROOT}
            edited = sorted(set(corpora.values()))  # one corpus with --same-corpus
            for run in range(runs):
                for name, found_rebuilds in (("document", rebuilds), ("fact", fact_rebuilds)):
                    for edited_corpus in edited:
                        if name == "document":
                            # a document's text: its provenance changes, its facts do not
                            edit_one_document(edited_corpus, which=run * 97 + 13)
                        else:
                            # a fact: statements and plain triples change, so whole-graph checks run again
                            _edit_a_fact(edited_corpus, run * 89 + 7)
                    for version in ("before", "now"):
                        out = work / f"{version}-{size}"
                        found_rebuilds[version].append(
                            build(sources[version], corpora[version], out, before=version == "before", cold=False)
                        )
                print(size, "rebuilds", {k: [round(r["seconds"], 2) for r in v] for k, v in rebuilds.items()})
                print(size, "fact rebuilds", {k: [round(r["seconds"], 2) for r in v] for k, v in fact_rebuilds.items()})
            # the edited corpus, built from nothing, gives the bytes of the rebuilds
            build(ROOT, corpus, work / f"check-{size}", before=False, cold=True, extra=("--no-cache",))
            identical = identical and same_release(work / f"check-{size}", work / f"now-{size}")
            if args.same_corpus:
                identical = identical and same_release(work / f"before-{size}", work / f"now-{size}")
        rows.append(
            {
                "size": size,
                "triples": {"before": triples_of(work / f"before-{size}"), "now": triples_of(work / f"now-{size}")},
                "found": found,
                "rebuilds": rebuilds,
                "fact_rebuilds": fact_rebuilds,
                "identical": identical,
            }
        )
    text = render(rows, args, commit_of(before_root), commit_of(ROOT))
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


def render(rows: list[dict], args: argparse.Namespace, before: str, now: str) -> str:
    runs = f"--runs {args.runs}" + (f" --later-runs {args.later_runs}" if args.later_runs is not None else "")
    corpora = (
        "Both versions build this version's corpus (`--same-corpus`)."
        if args.same_corpus
        else "Each version builds a corpus of its own generator (seed 7), this version's with as many triples as "
        "the earlier version's release (the *triples* column)."
    )
    lines = [
        "## One pipeline against the version before it (side by side, one run)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/compare.py --before "
        f"<checkout> --sizes {args.sizes} {runs}{' --same-corpus' if args.same_corpus else ''}` on {machine()}.",
        "",
        f"*before*: commit {before} (`--before`); *now*: commit {now}, default options; *now, 1 job*: "
        f"`--jobs 1 --no-cache`, everything in one process. Cold = no cache. Builds alternate between versions. "
        + corpora,
        "",
        "| triples | version | cold build (median) | runs | peak RSS (median) "
        "| rebuild after one document's text | runs | rebuild after one fact | runs |",
        "|---:|---|---:|---|---:|---:|---|---:|---|",
    ]
    for row in rows:
        for name, found in row["found"].items():
            cells = []
            for kind in ("rebuilds", "fact_rebuilds"):
                rebuilds = row[kind].get(name, [])
                cells.append(f"{_median(rebuilds, 'seconds'):.2f} s" if rebuilds else "")
                cells.append(", ".join(f"{r['seconds']:.2f}" for r in rebuilds))
            cold_runs = ", ".join(f"{r['seconds']:.1f}" for r in found)
            triples = row["triples"]["before" if name == "before" else "now"]
            lines.append(
                f"| {triples:,} | {name} | {_median(found, 'seconds'):.2f} s | {cold_runs} | "
                f"{_median(found, 'peak_mib'):,.0f} MiB | {' | '.join(cells)} |"
            )
    if len(rows) > 1:
        small, big = rows[0], rows[-1]
        for name in ("before", "now"):
            ratio = _median(big["found"][name], "seconds") / _median(small["found"][name], "seconds")
            few, many = small["triples"][name], big["triples"][name]
            lines.append(
                f"\n{name}: {many / few:.2f}x the triples took {ratio:.2f}x the time (cold, {few:,} → {many:,})."
            )
    for row in rows:
        verdict = "byte-identical" if row["identical"] else "NOT identical"
        what = "all versions and options" if args.same_corpus else "all options of this version"
        if row["rebuilds"]["now"]:
            what += ", and its rebuilds to a build of the edited corpus without cache,"
        lines.append(f"\n{row['size']:,}: the releases of {what} are {verdict}.")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
