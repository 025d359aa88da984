"""Per-stage progress and measurements for long builds.

A build of a large corpus runs for a minute; on a terminal it says what it is doing, with
counts, after each stage. In CI logs (stderr not a terminal) it stays quiet unless asked
(``--progress``). Every stage's wall time and the process's peak RSS after it are
recorded either way; ``--timings FILE`` writes them as JSON for ``benchmarks/run.py`` (:mod:`carnk_ld.timings`).
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Progress:
    """Times stages and, when enabled, prints one line per finished stage to stderr."""

    enabled: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    stages: list[dict[str, object]] = field(default_factory=list)

    @classmethod
    def for_terminal(cls, forced: bool | None = None) -> Progress:
        """Enabled as ``forced`` says, else when stderr is a terminal."""
        return cls(enabled=sys.stderr.isatty() if forced is None else forced)

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, object]]:
        """Time the block; the caller may put counts into the yielded dict for the report."""
        counts: dict[str, object] = {}
        started = time.perf_counter()
        yield counts
        record = {"stage": name, "seconds": round(time.perf_counter() - started, 3), "peak_rss_mib": 0.0}
        record["peak_rss_mib"] = round(peak_rss_mib(), 1)
        record.update(counts)
        self.stages.append(record)
        if self.enabled:
            detail = ", ".join(f"{v:,} {k}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items())
            self.stream.write(
                f"carnk-ld: {name:<28} {record['seconds']:7.2f} s  peak {record['peak_rss_mib']:,.0f} MiB"
                + (f"  ({detail})" if detail else "")
                + "\n"
            )
            self.stream.flush()
