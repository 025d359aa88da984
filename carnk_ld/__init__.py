"""carnk-ld: publish CAR-NK cell therapy knowledge as validated, provenance-rich linked data.

:mod:`carnk_ld.pipeline` is the build: the inputs and facts gates (:mod:`carnk_ld.ontology`,
:mod:`carnk_ld.documents`, :mod:`carnk_ld.facts`, :mod:`carnk_ld.graph`, :mod:`carnk_ld.parts`),
then reasoning, SHACL and QC over the documents' shards (:mod:`carnk_ld.gates`), then the
release (:mod:`carnk_ld.serialise`, :mod:`carnk_ld.release`). :mod:`carnk_ld.cli` is the
command line.
"""

from carnk_ld.constants import VERSION
from carnk_ld.errors import CarnkError, InputError, ValidationFailed
from carnk_ld.pipeline import BuildSummary, run_build

__version__ = VERSION

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
