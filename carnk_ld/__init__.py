"""carnk-ld: publish CAR-NK cell therapy knowledge as validated, provenance-rich linked data.

The pipeline has one module per stage: :mod:`carnk_ld.ontology` and
:mod:`carnk_ld.documents` read the inputs, :mod:`carnk_ld.facts` resolves curated
facts against them, :mod:`carnk_ld.graph` assembles the knowledge graph,
:mod:`carnk_ld.validate` checks it with SHACL and :mod:`carnk_ld.publish` writes the
release. :mod:`carnk_ld.pipeline` chains them and :mod:`carnk_ld.cli` is the command line.
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
