"""Measure loading a large release into Oxigraph server and Virtuoso: atomic PUT vs staged MOVE.

Usage: python benchmarks/load.py --triples 1000000 [--servers oxigraph,virtuoso]

Writes a synthetic release (one named graph of N triples, with its marker and SHA256SUMS) into a
temporary directory, starts each server on loopback with a fresh database, and times
``carnk-ld load`` in both modes. Results are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carnk_ld.release import CHECKSUMS, RELEASE_MARKER, marker_bytes
from carnk_ld.upload import Target, UploadFailed, upload_release
from tests.servers import ensure_virtuoso, oxigraph_server, virtuoso_server

GRAPH = "https://w3id.org/carnk/kg/graph/bench"


def synthetic_release(directory: Path, triples: int) -> Path:
    release = directory / "release"
    release.mkdir()
    with open(release / "carnk.nq", "w", encoding="utf-8") as out:
        for i in range(triples):
            out.write(
                f"<https://w3id.org/carnk/kg/bench/s{i // 10}> <https://w3id.org/carnk/p{i % 10}> "
                f'"value {i}" <{GRAPH}> .\n'
            )
    (release / RELEASE_MARKER).write_bytes(marker_bytes())
    sums = "".join(
        f"{hashlib.sha256((release / name).read_bytes()).hexdigest()}  {name}\n"
        for name in sorted([RELEASE_MARKER, "carnk.nq"])
    )
    (release / CHECKSUMS).write_text(sums, encoding="ascii")
    return release


def measure(server, release: Path) -> Iterator[tuple[str, str]]:
    """Time each mode; a failed mode is reported with the server's error instead of a time."""
    target = Target(server.gsp, server.query, server.update, server.user, server.password, server.auth, timeout=3600)
    for mode in ("put", "swap"):
        started = time.perf_counter()
        try:
            upload_release(release, target, mode=mode)
        except UploadFailed as exc:
            yield mode, "failed: " + str(exc).splitlines()[0][:160]
            continue
        yield mode, f"{time.perf_counter() - started:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--servers", default="oxigraph,virtuoso")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        release = synthetic_release(Path(tmp), args.triples)
        for name in args.servers.split(","):
            work = Path(tmp) / name
            work.mkdir()
            if name == "oxigraph":
                context = oxigraph_server(work)
            else:
                binary = ensure_virtuoso()
                if binary is None:
                    print("virtuoso: not available", file=sys.stderr)
                    continue
                context = virtuoso_server(work, binary)
            with context as server:
                for mode, outcome in measure(server, release):
                    rows.append((name, mode, outcome))
                    print(f"{name} {mode}: {outcome}", file=sys.stderr, flush=True)
    print(f"| server | mode | {args.triples:,} triples (s) |\n|---|---|---|")
    for name, mode, outcome in rows:
        print(f"| {name} | {mode} | {outcome} |")


if __name__ == "__main__":
    main()
