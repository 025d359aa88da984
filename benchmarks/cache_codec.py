"""Compare the build cache's file format with pickle on the cache of a real build.

Usage: python benchmarks/cache_codec.py [--triples 1000000] [--work DIR] [--repeat 3]

Generates a corpus (benchmarks/generate.py, seed 7) into ``DIR/corpus-<triples>`` unless
it is there already, builds it once cold with ``carnk-ld build`` in a fresh process to
fill the per-document cache, then reads back every cached value and, per kind of value
(``part``, ``rows``, ...), times encoding and decoding with the cache's codec
(:class:`carnk_ld.cache.Codec`) and with ``pickle`` (highest protocol), and sums the sizes
of the files each would write (header and checksum included). For scale it also times
reading each file and checking its SHA-256, which a warm build does before decoding. Each
value is timed ``--repeat`` times and the fastest run counted. Results are printed as
Markdown.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402
from carnk_ld.cache import _CHECKSUM, _MAGIC, Cache  # noqa: E402
from carnk_ld.pipeline import cached_types  # noqa: E402

HEADER = len(_MAGIC) + _CHECKSUM


def fastest(function, repeat: int) -> tuple[float, object]:
    """The shortest of ``repeat`` timed calls, and the call's result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def fill_cache(corpus: Path, out: Path) -> float:
    """A cold build of the corpus in a fresh process; its wall seconds."""
    shutil.rmtree(out.absolute().parent / f".{out.name}.cache", ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "carnk_ld", "build", "--root", str(corpus), "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"build of {corpus} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def measure(directory: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Per kind of cached value: count, sizes and seconds of both formats."""
    cache = Cache(directory, writable=False, types=cached_types())
    codec = cache.codec
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for path in sorted(directory.iterdir()):
        kind, key = path.name.split("-", 1)
        value = cache.get(kind, key)
        if value is None:
            raise SystemExit(f"{path} did not decode")
        row = totals[kind]
        row["files"] += 1
        row["on disk"] += path.stat().st_size
        seconds, _ = fastest(lambda p=path: hashlib.sha256(p.read_bytes()[HEADER:]).digest(), repeat)
        row["read + checksum"] += seconds
        seconds, encoded = fastest(lambda v=value: codec.encode(v), repeat)
        row["codec encode"] += seconds
        row["codec size"] += HEADER + len(encoded)  # type: ignore[arg-type]
        seconds, decoded = fastest(lambda e=encoded: codec.decode(e), repeat)  # type: ignore[misc]
        row["codec decode"] += seconds
        if decoded != value:
            raise SystemExit(f"{path} does not round-trip")
        seconds, pickled = fastest(lambda v=value: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL), repeat)
        row["pickle encode"] += seconds
        row["pickle size"] += HEADER + len(pickled)  # type: ignore[arg-type]
        seconds, _ = fastest(lambda p=pickled: pickle.loads(p), repeat)  # type: ignore[misc]
        row["pickle decode"] += seconds
    return totals


def report(totals: dict[str, dict[str, float]], triples: int, build_seconds: float, repeat: int) -> str:
    total: dict[str, float] = defaultdict(float)
    for row in totals.values():
        for name, number in row.items():
            total[name] += number
    lines = [
        f"Cache of a cold build of a {triples:,}-triple corpus (build {build_seconds:.1f} s); "
        f"fastest of {repeat} runs per value. Python {platform.python_version()}, {os.cpu_count()} cores.",
        "",
        "| kind | files | codec size | pickle size | codec encode | pickle encode | codec decode | pickle decode"
        " | read + checksum |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, row in [*sorted(totals.items()), ("all", total)]:
        lines.append(
            f"| {kind} | {row['files']:.0f}"
            f" | {row['codec size'] / 2**20:,.2f} MiB | {row['pickle size'] / 2**20:,.2f} MiB"
            f" | {row['codec encode'] * 1000:,.0f} ms | {row['pickle encode'] * 1000:,.0f} ms"
            f" | {row['codec decode'] * 1000:,.0f} ms | {row['pickle decode'] * 1000:,.0f} ms"
            f" | {row['read + checksum'] * 1000:,.0f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/carnk-cache-codec"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = args.work / f"corpus-{args.triples}"
    if not corpus.is_dir():
        generate(args.triples, corpus)
    out = args.work / f"build-{args.triples}"
    build_seconds = fill_cache(corpus, out)
    totals = measure(out.absolute().parent / f".{out.name}.cache", args.repeat)
    print(report(totals, args.triples, build_seconds, args.repeat))


if __name__ == "__main__":
    main()
