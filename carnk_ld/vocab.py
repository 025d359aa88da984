"""RDF vocabularies as pyoxigraph term factories, in one place, and checks of prefix declarations."""

from __future__ import annotations

import re

from pyoxigraph import NamedNode

from carnk_ld.constants import BASE, KG, PREFIXES


class Namespace:
    """Build :class:`NamedNode` terms by attribute or item access (``CARNK.Statement``)."""

    def __init__(self, iri: str):
        self.iri = iri

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self.iri + name)

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.iri + name)


CARNK = Namespace(BASE)
KGNS = Namespace(KG)
RDF = Namespace(PREFIXES["rdf"])
RDFS = Namespace(PREFIXES["rdfs"])
OWL = Namespace(PREFIXES["owl"])
XSD = Namespace(PREFIXES["xsd"])
OA = Namespace(PREFIXES["oa"])
PROV = Namespace(PREFIXES["prov"])
DCTERMS = Namespace(PREFIXES["dcterms"])
OBO = Namespace(PREFIXES["obo"])
OBOINOWL = Namespace(PREFIXES["oboInOwl"])
SKOS = Namespace(PREFIXES["skos"])
SSSOM = Namespace(PREFIXES["sssom"])
SEMAPV = Namespace(PREFIXES["semapv"])
VOID = Namespace(PREFIXES["void"])
DCAT = Namespace(PREFIXES["dcat"])
CITO = Namespace(PREFIXES["cito"])
BIBO = Namespace(PREFIXES["bibo"])
SCHEMA = Namespace(PREFIXES["schema"])

#: IAO:0000115, the OBO "definition" annotation property.
DEFINITION = OBO.IAO_0000115


def compact_iri(iri: str) -> str:
    """Shorten an IRI with the project's prefixes (longest namespace wins); keep it whole otherwise.

    >>> compact_iri("https://w3id.org/carnk/kg/doc/x")
    'kg:doc/x'
    >>> compact_iri("https://example.org/x")
    'https://example.org/x'
    """
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(namespace) > len(PREFIXES.get(best, "")):
            rest = iri[len(namespace) :]
            if rest and not rest.startswith("//"):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else iri


#: A prefix declaration in SPARQL (``PREFIX``) or Turtle (``@prefix``, ``PREFIX``) text, also one
#: inside a string (the SPARQL of a SHACL shape). Keywords are case-insensitive, as SPARQL has them.
_DECLARATION_RE = re.compile(r"(?<![\w@:])(@prefix|prefix)\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>", re.IGNORECASE)


def declared_prefixes(text: str) -> list[tuple[int, str, str]]:
    """``(line, name, namespace)`` of every prefix declaration in SPARQL or Turtle text.

    >>> declared_prefixes("# q\\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\\nSELECT * {}")
    [(2, 'rdfs', 'http://www.w3.org/2000/01/rdf-schema#')]
    """
    return [(text.count("\n", 0, m.start()) + 1, m.group(2) or "", m.group(3)) for m in _DECLARATION_RE.finditer(text)]


def prefix_conflict(name: str, namespace: str, *, same_names: bool = False) -> str | None:
    """Why declaring ``name:`` as ``namespace`` disagrees with the release's prefixes, or None.

    A release prefix bound to another namespace always disagrees: the text would read
    ``carnk:X`` as another IRI than the release, the QC report and ``carnk-ld query`` do.
    With ``same_names``, a release namespace under another name disagrees too.

    >>> prefix_conflict("obo", "http://purl.obolibrary.org/obo/") is None
    True
    >>> prefix_conflict("obo", "http://purl.obolibrary.org/obo")
    'prefix obo: is <http://purl.obolibrary.org/obo>, but the release binds it to <http://purl.obolibrary.org/obo/>'
    >>> prefix_conflict("dc", "http://purl.org/dc/terms/", same_names=True)
    'prefix dc: names <http://purl.org/dc/terms/>, which the release calls dcterms:'
    """
    if name in PREFIXES:
        if PREFIXES[name] != namespace:
            return f"prefix {name}: is <{namespace}>, but the release binds it to <{PREFIXES[name]}>"
        return None
    if same_names:
        for release_name, release_namespace in PREFIXES.items():
            if release_namespace == namespace:
                return f"prefix {name}: names <{namespace}>, which the release calls {release_name}:"
    return None
