"""Base IRIs, graph names and the project layout; no side effects at import time."""

from __future__ import annotations

from pathlib import Path

#: The package version; pyproject.toml reads it from here (one place).
VERSION = "0.1.0"

BASE = "https://w3id.org/carnk/"
#: Instance data (documents, segments, facts, studies) lives under this namespace.
KG = BASE + "kg/"
ONTOLOGY_IRI = BASE + "ontology"

#: Named graphs of the N-Quads release, one per component.
GRAPH_ONTOLOGY = KG + "graph/ontology"
GRAPH_FACTS = KG + "graph/facts"
GRAPH_PROVENANCE = KG + "graph/provenance"
GRAPH_MAPPINGS = KG + "graph/mappings"
GRAPH_METADATA = KG + "graph/metadata"

#: Directory names of a corpus tree (``--root``).
ONTOLOGY_DIR = "ontology"
SHAPES_DIR = "shapes"
DOCUMENTS_DIR = "documents"
FACTS_DIR = "facts"
CHECKS_DIR = "queries/checks"
MAPPINGS_DIR = "mappings"
MAPPINGS_FILE = "carnk.sssom.tsv"
DEFAULT_OUT = "build"

ONTOLOGY_FILE = "carnk.ttl"

#: Prefixes used in Turtle and JSON-LD output, in output order.
PREFIXES: dict[str, str] = {
    "carnk": BASE,
    "kg": KG,
    "dcterms": "http://purl.org/dc/terms/",
    "oa": "http://www.w3.org/ns/oa#",
    "obo": "http://purl.obolibrary.org/obo/",
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sssom": "https://w3id.org/sssom/",
    "semapv": "https://w3id.org/semapv/vocab/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def project_root() -> Path:
    """The checkout this package lives in (used as the default ``--root``)."""
    return Path(__file__).resolve().parent.parent
