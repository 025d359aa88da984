"""Measure how fast ``carnk-ld serve`` answers a term page: median and 95th percentile over N requests.

Usage: python benchmarks/serve_latency.py [--out RELEASE] [--path NKCell] [--requests 200]

Starts ``carnk-ld serve`` on a free loopback port in a fresh process, sends one warm-up request,
then N requests for ``/carnk/PATH.html`` (the page itself) and N for ``/carnk/PATH`` with a
browser's Accept header, following the 303 (what a browser does with the IRI: two requests),
one at a time over a kept-alive connection. Without ``--out`` a synthetic release is written to a
temporary folder: the tests' fixture site (tests/webfixture.py) with a 40 KB term page.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from webfixture import serving, write_release

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def synthetic_release(folder: Path, page_bytes: int = 40_000) -> Path:
    """The fixture release with NKCell.html grown to ``page_bytes`` (a term page of the real site's size)."""
    release = write_release(folder)
    page = release / "site" / "NKCell.html"
    page.write_bytes(b"<!DOCTYPE html><title>NK cell</title>\n" + b"<p>statement</p>\n" * (page_bytes // 17))
    lines = []
    for line in (release / "SHA256SUMS").read_text().splitlines():
        name = line.split("  ", 1)[1]
        lines.append(f"{hashlib.sha256((release / name).read_bytes()).hexdigest()}  {name}")
    (release / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return release


def timed(client: httpx.Client, url: str, n: int, **kwargs: object) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        answer = client.get(url, **kwargs)  # type: ignore[arg-type]
        answer.read()
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url}: HTTP {answer.status_code}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="A release with a site (default: a synthetic one).")
    parser.add_argument("--path", default="NKCell", help="The term's path under https://w3id.org/carnk/.")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        release = args.out or synthetic_release(Path(tmp))
        with serving(release) as base, httpx.Client(base_url=base, timeout=30) as client:
            timed(client, f"/carnk/{args.path}.html", 1)
            page = timed(client, f"/carnk/{args.path}.html", args.requests)
            browser = {"headers": {"Accept": BROWSER}, "follow_redirects": True}
            iri = timed(client, f"/carnk/{args.path}", args.requests, **browser)
    for name, times in (("PATH.html", page), ("PATH (303, then the page)", iri)):
        cuts = statistics.quantiles(times, n=20)
        print(f"{name}: median {statistics.median(times):.2f} ms, p95 {cuts[18]:.2f} ms over {len(times)} requests")


if __name__ == "__main__":
    main()
