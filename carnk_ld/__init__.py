"""carnk-ld: publish CAR-NK cell therapy knowledge as validated, provenance-rich linked data.

:mod:`carnk_ld.pipeline` is the build: the inputs and facts gates (:mod:`carnk_ld.ontology`,
:mod:`carnk_ld.documents`, :mod:`carnk_ld.facts`, :mod:`carnk_ld.graph`, :mod:`carnk_ld.parts`),
then reasoning, SHACL and QC over the documents' shards (:mod:`carnk_ld.gates`), then the
release (:mod:`carnk_ld.serialise`, :mod:`carnk_ld.release`). :mod:`carnk_ld.cli` is the
command line.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carnk_ld.errors import CarnkError, InputError, ValidationFailed
    from carnk_ld.pipeline import BuildSummary, run_build

#: Where each public name lives: imported on first use, so that importing the package (as the
#: entry point does before it handles signals, :mod:`carnk_ld.__main__`) stays quick.
_LAZY = {
    "BuildSummary": "carnk_ld.pipeline",
    "run_build": "carnk_ld.pipeline",
    "CarnkError": "carnk_ld.errors",
    "InputError": "carnk_ld.errors",
    "ValidationFailed": "carnk_ld.errors",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "__version__":
        return importlib.import_module("carnk_ld.constants").VERSION
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'carnk_ld' has no attribute {name!r}")


__all__ = [
    # pipeline
    "BuildSummary",
    # errors
    "CarnkError",
    "InputError",
    "ValidationFailed",
    "__version__",
    "run_build",
]
