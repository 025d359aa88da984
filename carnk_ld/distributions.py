"""The release's files as DCAT 3 distributions of the dataset ``kg:dataset``.

Every top-level file of a release is a ``dcat:Distribution`` with its media type (an IANA
media type IRI, as DCAT 3 recommends), its download URL under the versioned release folder
(``https://w3id.org/carnk/releases/<version>/<file>``, the pattern of the ontology's
versionIRI), its licence and its date. A file cannot state its own size or digest, and
``carnk.nq`` holds the metadata graph, so the metadata graph (in every dump) carries the
distributions without sizes and digests, and ``void.ttl`` (in no dump) adds the byte size and
SHA-256 of every file except itself and ``SHA256SUMS``, which lists ``void.ttl``'s digest.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import pyoxigraph as ox

from carnk_ld.constants import BASE, KG, PREFIXES
from carnk_ld.media import MEDIA_TYPES as WEB_FORMATS
from carnk_ld.media import mime

N = ox.NamedNode
_RDF = PREFIXES["rdf"]
_DCAT = PREFIXES["dcat"]
_DCTERMS = PREFIXES["dcterms"]
_VOID = PREFIXES["void"]
_XSD = PREFIXES["xsd"]
_SPDX = PREFIXES["spdx"]

#: IANA's registry: DCAT 3 gives a distribution's dcat:mediaType as the IRI of its registry entry.
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

#: Media type by file extension: the web formats of :mod:`carnk_ld.media` (what the server and the
#: w3id rules answer), plus the release's other files: N-Quads, the ontology, tables, texts, marker.
MEDIA_TYPES = {
    **{f".{ext}": mime(ext) for ext in WEB_FORMATS},
    ".nq": "application/n-quads",
    ".owl": "application/rdf+xml",  # ontology.owl is RDF/XML, as OBO publishes it
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".json": "application/json",
}

#: Files named without an extension.
MEDIA_TYPES_BY_NAME = {"SHA256SUMS": "text/plain"}

#: Every top-level file of a release and what it is (its distribution's dcterms:title).
RELEASE_FILES: dict[str, str] = {
    "RELEASE.json": "Release marker",
    "SHA256SUMS": "SHA-256 digests of the release files",
    "carnk.jsonld": "Knowledge graph with its named graphs (JSON-LD)",
    "carnk.nq": "Knowledge graph with its named graphs (N-Quads)",
    "carnk.nt": "Knowledge graph as one graph (N-Triples)",
    "carnk.ttl": "Knowledge graph as one graph (Turtle)",
    "carnk.sssom.tsv": "Mapping set (SSSOM TSV)",
    "carnk.sssom.ttl": "Mapping set (SSSOM RDF)",
    "class-hierarchy.tsv": "Asserted and inferred class hierarchy",
    "conflicts.tsv": "Conflicting measures of registered trials",
    "context.jsonld": "JSON-LD context",
    "coverage.tsv": "Coverage ledger of the documents' segments",
    "mapping-coverage.tsv": "Mapping coverage per vocabulary",
    "ontology-inferred.ttl": "Released ontology (Turtle)",
    "ontology.owl": "Released ontology (RDF/XML)",
    "qc-report.tsv": "Ontology QC report (TSV)",
    "qc-report.txt": "Ontology QC report",
    "validation-report.txt": "SHACL validation report",
    "void.ttl": "VoID and DCAT description of the release with file sizes and digests",
}

#: Files whose size and digest no distribution gives: ``void.ttl`` cannot contain its own, and
#: ``SHA256SUMS`` holds ``void.ttl``'s digest, so it is written after it.
UNMEASURED = ("SHA256SUMS", "void.ttl")

#: The RDF dumps of the whole dataset (``void:dataDump``).
DUMPS = ("carnk.jsonld", "carnk.nq", "carnk.nt", "carnk.ttl")


def media_type(name: str) -> str:
    """The media type of a release file, by its name or extension."""
    found = MEDIA_TYPES_BY_NAME.get(name) or MEDIA_TYPES.get(PurePosixPath(name).suffix)
    if found is None:
        raise ValueError(f"no media type is known for the release file {name!r}")
    return found


def download_url(version: str, name: str) -> str:
    """Where release ``version`` publishes file ``name``: the versionIRI's pattern."""
    return f"{BASE}releases/{version}/{name}"


def distribution_iri(version: str, name: str) -> str:
    """The IRI of file ``name`` of release ``version`` as a distribution (not the file's URL).

    The file name's dots are written ``-`` (``carnk.ttl`` is ``carnk-ttl``): an IRI ending in
    ``.ttl`` would be taken for a file of the site by the server and the w3id rules, and the
    distribution's own page could not be reached.
    """
    return f"{KG}distribution/{version}/{name.replace('.', '-')}"


def distribution_triples(
    dataset: ox.NamedNode, version: str, licences: list[ox.NamedNode], issued: list[ox.Literal]
) -> list[ox.Triple]:
    """Each release file as a distribution of ``dataset``, without size or digest; the dumps as data dumps."""
    triples = []
    for name, title in sorted(RELEASE_FILES.items()):
        node = N(distribution_iri(version, name))
        url = N(download_url(version, name))
        triples += [
            ox.Triple(dataset, N(_DCAT + "distribution"), node),
            ox.Triple(node, N(_RDF + "type"), N(_DCAT + "Distribution")),
            ox.Triple(node, N(_DCTERMS + "title"), ox.Literal(title, language="en")),
            ox.Triple(node, N(_DCAT + "downloadURL"), url),
            ox.Triple(node, N(_DCAT + "mediaType"), N(IANA_MEDIA_TYPES + media_type(name))),
        ]
        triples += [ox.Triple(node, N(_DCTERMS + "license"), licence) for licence in licences]
        triples += [ox.Triple(node, N(_DCTERMS + "issued"), date) for date in issued]
        if name in DUMPS:
            triples.append(ox.Triple(dataset, N(_VOID + "dataDump"), url))
    return triples


def measured_triples(version: str, files: dict[str, tuple[int, str]]) -> list[ox.Triple]:
    """The byte size and SHA-256 of each release file given as ``name -> (size, hex digest)``.

    The checksum is an ``spdx:Checksum`` node (DCAT 3's ``spdx:checksum``) with an IRI of its
    own, since the release has no blank nodes outside OWL axioms.
    """
    triples = []
    for name, (size, sha256) in sorted(files.items()):
        if name not in RELEASE_FILES or name in UNMEASURED:
            raise ValueError(f"{name!r} is not a release file whose size a distribution gives")
        node = N(distribution_iri(version, name))
        checksum = N(distribution_iri(version, name) + "/sha256")
        triples += [
            ox.Triple(node, N(_DCAT + "byteSize"), ox.Literal(str(size), datatype=N(_XSD + "nonNegativeInteger"))),
            ox.Triple(node, N(_SPDX + "checksum"), checksum),
            ox.Triple(checksum, N(_RDF + "type"), N(_SPDX + "Checksum")),
            ox.Triple(checksum, N(_SPDX + "algorithm"), N(_SPDX + "checksumAlgorithm_sha256")),
            ox.Triple(checksum, N(_SPDX + "checksumValue"), ox.Literal(sha256, datatype=N(_XSD + "hexBinary"))),
        ]
    return triples


__all__ = [
    "DUMPS",
    "IANA_MEDIA_TYPES",
    "MEDIA_TYPES",
    "RELEASE_FILES",
    "UNMEASURED",
    "distribution_iri",
    "distribution_triples",
    "download_url",
    "measured_triples",
    "media_type",
]
