"""Base IRIs, prefixes, graph names and the project layout.

The prefixes and the dataset description are data, read from ``release.ttl`` next to this
module when the package is imported; everything else here is a plain constant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.errors import InputError, InputErrors, Location

#: The package version; pyproject.toml reads it from here (one place).
VERSION = "0.1.0"

#: The publisher's own data (package data, hashed with the code for the build cache): the
#: release's prefixes and its description as a dataset. See the comments in the file.
RELEASE_FILE = Path(__file__).resolve().parent / "release.ttl"

#: Prefix names the code builds IRIs from; a release file without one of them is refused.
REQUIRED_PREFIXES = tuple(
    "carnk kg dcterms oa obo oboInOwl owl prov rdf rdfs schema skos sssom semapv void dcat spdx xsd".split()
)

#: A prefix declaration as the release file writes it: ``PREFIX name: <namespace>``, one a line.
_PREFIX_LINE_RE = re.compile(r"^PREFIX[ \t]+([A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?):[ \t]*<([^<>\s]*)>[ \t]*$")
#: Anything that starts like a Turtle or SPARQL directive (case-insensitive, as Turtle allows).
_DIRECTIVE_RE = re.compile(r"^\s*(?:@prefix|@base|prefix|base)(?=\s)", re.IGNORECASE)
#: A namespace: an absolute http(s) IRI ending where a local name starts.
_NAMESPACE_RE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+[/#]$")


@dataclass(frozen=True)
class ReleaseData:
    """The contents of the release file: prefixes in output order and the dataset's own triples."""

    prefixes: dict[str, str]
    dataset: list[ox.Triple]


def read_release_data(path: Path, *, display_path: Path | None = None) -> ReleaseData:
    """Read and check the release file; every problem is an :class:`InputError` at its line.

    Strict beyond Turtle: each prefix is declared once, on a line of its own, as
    ``PREFIX name: <namespace>`` (so line order is output order), to an absolute http(s)
    namespace ending in ``/`` or ``#``, no two names share a namespace, ``BASE`` is refused,
    and the dataset description has no blank nodes and describes only ``kg:dataset``.
    """
    shown = display_path or path
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        raise InputError(shown, f"cannot read the release file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(Location(shown, data.count(b"\n", 0, exc.start) + 1), "not UTF-8") from None
    prefixes: dict[str, str] = {}
    lines: dict[str, int] = {}
    by_namespace: dict[str, str] = {}
    errors: list[InputError] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not _DIRECTIVE_RE.match(line):
            continue
        match = _PREFIX_LINE_RE.match(line)
        if match is None:
            errors.append(
                InputError(
                    Location(shown, number),
                    f"not a prefix declaration of the form PREFIX name: <namespace>: {line.strip()!r}",
                    "declare each prefix on a line of its own; BASE and @prefix are not used here",
                )
            )
            continue
        name, namespace = match.groups()
        where = Location(shown, number)
        if name in prefixes:
            errors.append(InputError(where, f"prefix {name}: is declared again (first on line {lines[name]})"))
        elif not _NAMESPACE_RE.match(namespace):
            errors.append(
                InputError(
                    where,
                    f"namespace of {name}: is not an absolute http(s) IRI ending in '/' or '#': <{namespace}>",
                    "a prefix abbreviates IRIs in the release; its namespace ends where local names start",
                )
            )
        elif namespace in by_namespace:
            other = by_namespace[namespace]
            errors.append(
                InputError(
                    where,
                    f"prefixes {other}: and {name}: share the namespace <{namespace}>",
                    f"keep one name per namespace (line {lines[other]} has {other}:)",
                )
            )
        else:
            by_namespace[namespace] = name
        prefixes.setdefault(name, namespace)
        lines.setdefault(name, number)
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    missing = [name for name in REQUIRED_PREFIXES if name not in prefixes]
    if missing:
        raise InputError(
            shown, f"missing prefixes the code builds IRIs from: {', '.join(missing)}", "declare them with PREFIX lines"
        )
    try:
        parser = ox.parse(data, format=ox.RdfFormat.TURTLE)
        triples = [quad.triple for quad in parser]
    except SyntaxError as exc:
        raise InputError(Location(shown, exc.lineno, exc.offset), f"RDF syntax error: {exc.msg or exc}") from None
    if dict(parser.prefixes) != prefixes:
        raise InputError(shown, "a prefix is declared other than on a line of its own", "write PREFIX lines only")
    dataset = ox.NamedNode(prefixes["kg"] + "dataset")
    for triple in triples:
        if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
            raise InputError(
                shown, "the dataset description has a blank node", "the release has none outside OWL axioms"
            )
        if triple.subject != dataset:
            raise InputError(
                shown,
                f"the release file describes <{triple.subject.value}>; it may only describe <{dataset.value}>",
                "the build describes the graphs and linksets itself",
            )
    return ReleaseData(prefixes, triples)


_RELEASE = read_release_data(RELEASE_FILE)

#: Prefixes of the release (Turtle, RDF/XML, JSON-LD context, QC report, queries), in output order.
PREFIXES: dict[str, str] = _RELEASE.prefixes
#: The release's own description of ``kg:dataset`` (VoID/DCAT); the build adds counts and linksets.
DATASET_DESCRIPTION: tuple[ox.Triple, ...] = tuple(_RELEASE.dataset)

BASE = PREFIXES["carnk"]
#: Instance data (documents, segments, facts, studies) lives under this namespace.
KG = PREFIXES["kg"]
ONTOLOGY_IRI = BASE + "ontology"
#: The release as a VoID/DCAT dataset.
DATASET = KG + "dataset"

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


def project_root() -> Path:
    """The checkout this package lives in (used as the default ``--root``)."""
    return Path(__file__).resolve().parent.parent
