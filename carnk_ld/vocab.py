"""RDF vocabularies as pyoxigraph term factories, in one place."""

from __future__ import annotations

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
