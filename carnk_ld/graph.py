"""Stage 3: assemble the knowledge graph from the ontology and resolved facts.

Pure: no files are read or written. The result keeps one triple list per named graph of
the release (ontology, facts, provenance) and a map from each node to the input file and
line it came from, so validation errors can point curators at their own lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

import pyoxigraph as ox

from carnk_ld.constants import (
    DATASET,
    DATASET_DESCRIPTION,
    GRAPH_METADATA,
    ONTOLOGY_IRI,
)
from carnk_ld.distributions import distribution_triples
from carnk_ld.documents import Document
from carnk_ld.errors import Location
from carnk_ld.facts import TRIAL_IRI, Fact, FactSet, Quantity, Study
from carnk_ld.licences import SHORT_QUOTE, UNKNOWN, publishable_quote, republishes_text
from carnk_ld.literals import decimal_form
from carnk_ld.mappings import MappingSet, linkset_triples, mapping_triples
from carnk_ld.ontology import Ontology
from carnk_ld.vocab import BIBO, CARNK, CITO, DCAT, DCTERMS, OA, PROV, RDF, RDFS, VOID, XSD

N = ox.NamedNode


def _int(value: int, datatype: ox.NamedNode = XSD.nonNegativeInteger) -> ox.Literal:
    return ox.Literal(str(value), datatype=datatype)


def _bool(value: bool) -> ox.Literal:
    return ox.Literal("true" if value else "false", datatype=XSD.boolean)


def _str(value: str) -> ox.Literal:
    return ox.Literal(value)


def sort_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Sort triples so serialisations are byte-identical across runs (rdf:type first).

    The order is by (blank subject last, subject, rdf:type first, predicate, object), each
    term compared by its N-Triples form. Term strings are computed once per distinct term
    (terms repeat across triples), not once per comparison key.
    """
    strings: dict[object, str] = {}
    rdf_type = str(RDF.type)

    def text(term: object) -> str:
        value = strings.get(term)
        if value is None:
            value = strings[term] = str(term)
        return value

    decorated = []
    for t in triples:
        subject, predicate = t.subject, text(t.predicate)
        decorated.append(
            (
                (
                    1 if isinstance(subject, ox.BlankNode) else 0,
                    text(subject),
                    0 if predicate == rdf_type else 1,
                    predicate,
                    text(t.object),
                ),
                t,
            )
        )
    decorated.sort(key=itemgetter(0))
    return [t for _, t in decorated]


def concise_description(
    starts: Iterable[object], triples_of: Callable[[object], Iterable[ox.Triple]]
) -> list[ox.Triple]:
    """The concise bounded description of ``starts``: their triples and, recursively, those of the
    blank nodes they reach, each once, in the order found. ``triples_of`` gives a node's triples
    (from an index, or a store)."""
    found: dict[ox.Triple, None] = {}
    seen: set[object] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in triples_of(node):
            found.setdefault(t)
            if isinstance(t.object, ox.BlankNode) and t.object not in seen:
                todo.append(t.object)
    return list(found)


def canonical_ontology(ontology: Ontology, inferred: Iterable[ox.Triple] = ()) -> list[ox.Triple]:
    """Ontology triples (plus ``inferred`` ones) with blank nodes relabelled by RDFC-1.0, so labels are stable."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in (*ontology.triples, *inferred))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sort_triples({q.triple for q in dataset})


@dataclass
class DocumentGraph:
    """What one document contributes: its facts and provenance triples, sources and coverage rows.

    Every node it creates is scoped to the document (``kg:doc/<id>``, ``kg:fact/<id>/``,
    ``kg:study/<id>/``), which is what lets a build reuse the part of an unchanged document.
    """

    facts: list[ox.Triple]
    provenance: list[ox.Triple]
    sources: dict[str, Location]
    coverage: list[tuple[str, ...]]


def document_graph(factset: FactSet) -> DocumentGraph:
    """The triples, sources and coverage rows of one resolved document (insertion-ordered, no repeats)."""
    facts = _OrderedSet()
    prov = _OrderedSet()
    part = DocumentGraph([], [], {}, [])
    doc = factset.document
    _document(doc, factset, prov, part)
    for fact in factset.facts:
        _fact(fact, doc, facts, prov, factset.metadata.licence)
        location = Location(factset.path, fact.line)
        for iri in (fact.iri, f"{fact.iri}/evidence", f"{fact.iri}/quote", f"{fact.iri}/position"):
            part.sources[iri] = location
    for study in factset.studies:
        _study(study, facts, part.sources, factset)
    return DocumentGraph(list(facts), list(prov), part.sources, part.coverage)


def _decimal(value: Decimal) -> ox.Literal:
    """An xsd:decimal in the canonical form RDF stores write (see :func:`carnk_ld.literals.decimal_form`)."""
    return ox.Literal(decimal_form(value), datatype=XSD.decimal)


def _positive(value: int) -> ox.Literal:
    return _int(value, XSD.positiveInteger)


_Value = tuple[ox.NamedNode, Any, Callable[[Any], ox.NamedNode | ox.Literal]]


def _present(node: ox.NamedNode, facts: _OrderedSet, *values: _Value) -> None:
    """A triple for each value the facts file gave (None: not given, so no triple)."""
    for predicate, value, term in values:
        if value is not None:
            facts.add(ox.Triple(node, predicate, term(value)))


def _quantity(node: ox.NamedNode, value: ox.NamedNode, quantity: Quantity, facts: _OrderedSet) -> None:
    facts.add(ox.Triple(node, value, _decimal(quantity.value)))
    facts.add(ox.Triple(node, CARNK.unit, N(quantity.unit)))
    if quantity.bound:
        facts.add(ox.Triple(node, CARNK.bound, N(quantity.bound)))


def _study(study: Study, facts: _OrderedSet, sources: dict[str, Location], factset: FactSet) -> None:
    s = N(study.iri)
    where = Location(factset.path, study.line)
    facts.add(ox.Triple(s, RDF.type, CARNK.ClinicalStudy))
    facts.add(ox.Triple(s, RDFS.label, _str(study.label)))
    if study.patients is not None:
        facts.add(ox.Triple(s, CARNK.patientCount, _int(study.patients)))
    facts.add(ox.Triple(s, CARNK.preliminary, _bool(study.preliminary)))
    sources[study.iri] = where
    if study.trial_iri:
        facts.add(ox.Triple(s, CARNK.reportsOnTrial, N(study.trial_iri)))
        facts.add(ox.Triple(s, CARNK.registryIdentifier, _str(study.registry or "")))
        facts.add(ox.Triple(s, CARNK.trialNamedInText, _bool(study.named_in_text)))
    if study.phase:
        facts.add(ox.Triple(s, CARNK.phase, N(study.phase)))
    if study.product:
        facts.add(ox.Triple(s, CARNK.studiedProduct, N(study.product)))
    if study.evaluable is not None:
        facts.add(ox.Triple(s, CARNK.evaluableCount, _int(study.evaluable)))
    for arm in study.arms:
        a = N(arm.iri)
        sources[arm.iri] = Location(factset.path, arm.line)
        facts.add(ox.Triple(s, CARNK.hasArm, a))
        facts.add(ox.Triple(a, RDF.type, CARNK.StudyArm))
        if arm.product:
            facts.add(ox.Triple(a, CARNK.studiedProduct, N(arm.product)))
        if arm.infusions is not None:
            facts.add(ox.Triple(a, CARNK.infusionCount, _int(arm.infusions, XSD.positiveInteger)))
        for number, dose in enumerate(arm.doses, start=1):
            d = N(f"{arm.iri}/dose/{number}")
            sources[d.value] = Location(factset.path, arm.line)
            facts.add(ox.Triple(a, CARNK.hasDoseLevel, d))
            facts.add(ox.Triple(d, RDF.type, CARNK.DoseLevel))
            _quantity(d, CARNK.quantityValue, dose, facts)
    for outcome in study.outcomes:
        o = N(outcome.iri)
        facts.add(ox.Triple(s, CARNK.hasOutcome, o))
        facts.add(ox.Triple(o, RDF.type, N(outcome.type_iri)))
        _present(
            o,
            facts,
            (CARNK.numerator, outcome.numerator, _int),
            (CARNK.denominator, outcome.denominator, _int),
            (CARNK.percentage, outcome.percentage, _decimal),
            (CARNK.denominatorPopulation, outcome.population, N),
            (CARNK.subgroup, outcome.subgroup, N),
            (CARNK.forArm, outcome.arm, N),
        )
        if outcome.time:
            _quantity(o, CARNK.timePoint, outcome.time, facts)
        sources[outcome.iri] = Location(factset.path, outcome.line)
    for event in study.adverse_events:
        e = N(event.iri)
        facts.add(ox.Triple(s, CARNK.hasAdverseEventObservation, e))
        facts.add(ox.Triple(e, RDF.type, CARNK.AdverseEventObservation))
        facts.add(ox.Triple(e, CARNK.eventType, N(event.event)))
        _present(
            e,
            facts,
            (CARNK.patientsAffected, event.count, _int),
            (CARNK.percentage, event.percentage, _decimal),
            (CARNK.grade, event.grade, _positive),
            (CARNK.minimumGrade, event.minimum_grade, _positive),
        )
        sources[event.iri] = Location(factset.path, event.line)


def ontology_sources(ontology: Ontology, mapping_set: MappingSet | None) -> dict[str, Location]:
    """Where each ontology term (and each mapped subject) is declared."""
    sources = {iri: Location(ontology.path, ontology.line_of(iri)) for iri in ontology.terms}
    if mapping_set is not None:
        for m in mapping_set.mappings:
            sources.setdefault(m.subject, Location(ontology.path, ontology.line_of(m.subject)))
    return sources


def mapping_graph(mapping_set: MappingSet) -> list[ox.Triple]:
    """The mappings named graph: SKOS links, cross-references and the SSSOM records."""
    return sort_triples(set(mapping_triples(mapping_set)))


def metadata_graph(
    ontology: Ontology,
    counts: dict[str, int],
    mapping_set: MappingSet | None,
    *,
    distinct: int,
    elsewhere: Callable[[ox.Triple], bool],
) -> list[ox.Triple]:
    """The metadata named graph: the dataset, its graphs (itself included), linksets and distributions.

    ``counts`` are the triples of every other named graph, ``distinct`` the distinct triples
    of their union and ``elsewhere`` whether a triple is in one of them. The graph states its
    own size and the dataset's total, which it is part of; how many triples it has does not
    depend on those two numbers, so it is described once with placeholders to count itself.
    """
    others = {name: count for name, count in counts.items() if name != GRAPH_METADATA}
    draft = set(_dataset_description(ontology, others, mapping_set, own=0, total=0))
    total = distinct + sum(1 for t in draft if not elsewhere(t))
    final = set(_dataset_description(ontology, others, mapping_set, own=len(draft), total=total))
    if len(final) != len(draft):  # pragma: no cover - a count that changed the description's shape
        raise RuntimeError("the metadata graph's size depends on the counts it states")
    return sort_triples(final)


class _OrderedSet(dict):
    """A set that remembers insertion order (``add`` like :class:`set`)."""

    def add(self, item: ox.Triple) -> None:
        self[item] = None


def _dataset_description(
    ontology: Ontology, counts: dict[str, int], mapping_set: MappingSet | None, *, own: int, total: int
) -> list[ox.Triple]:
    """VoID and DCAT description of the release: its graphs with triple counts, linksets and distributions.

    What the dataset is (types, title, description, the ontology it conforms to) comes from
    the package's release file; its licence, version, dates and publisher from the ontology
    header, which states them once for the whole release: the dataset was first issued when
    the ontology was created (``dcterms:created``) and last modified when this release was
    issued (``dcterms:issued``), the date of every file of the release. The publisher is the
    header's ``dcterms:publisher``, else each creator the ontology types ``prov:Organization``.
    """
    dataset = N(DATASET)
    header = N(ONTOLOGY_IRI)

    def values(predicate: ox.NamedNode) -> list[Any]:
        return sorted((t.object for t in ontology.triples if t.subject == header and t.predicate == predicate), key=str)

    licences = values(DCTERMS.license)
    created, issued, creators = values(DCTERMS.created), values(DCTERMS.issued), values(DCTERMS.creator)
    organisations = {t.subject for t in ontology.triples if t.predicate == RDF.type and t.object == PROV.Organization}
    publishers = values(DCTERMS.publisher) or [c for c in creators if c in organisations]
    triples = list(DATASET_DESCRIPTION)
    triples += [ox.Triple(dataset, DCTERMS.license, licence) for licence in licences]
    triples += [ox.Triple(dataset, DCTERMS.creator, creator) for creator in creators]
    triples += [ox.Triple(dataset, DCTERMS.publisher, publisher) for publisher in publishers]
    triples += [ox.Triple(dataset, DCTERMS.issued, date) for date in created]
    triples += [ox.Triple(dataset, DCTERMS.modified, date) for date in issued]
    triples.append(ox.Triple(dataset, DCAT.version, _str(ontology.version_info)))
    triples.append(ox.Triple(dataset, VOID.triples, _int(total, XSD.integer)))
    for name, count in sorted({**counts, GRAPH_METADATA: own}.items()):
        subset = N(name)
        triples += [
            ox.Triple(dataset, VOID.subset, subset),
            ox.Triple(subset, RDF.type, VOID.Dataset),
            ox.Triple(subset, VOID.triples, _int(count, XSD.integer)),
        ]
    if mapping_set is not None:
        triples += linkset_triples(mapping_set, dataset)
    triples += distribution_triples(dataset, ontology.version_info, licences, issued)
    return triples


def _document(doc: Document, factset: FactSet, prov: _OrderedSet, kg: DocumentGraph) -> None:
    d = N(doc.iri)
    meta = factset.metadata
    prov.add(ox.Triple(d, RDF.type, CARNK.Document))
    prov.add(ox.Triple(d, DCTERMS.title, _str(meta.title or doc.path.name)))
    prov.add(ox.Triple(d, CARNK.fileName, _str(doc.path.name)))
    if meta.kind:
        prov.add(ox.Triple(d, CARNK.documentKind, CARNK[meta.kind]))
    if meta.source is not None and meta.source != UNKNOWN:
        prov.add(ox.Triple(d, DCTERMS.source, N(meta.source) if meta.source_is_iri else _str(meta.source)))
    if meta.licence != UNKNOWN:
        prov.add(ox.Triple(d, DCTERMS.license, N(meta.licence)))
    if not meta.republishes_text:
        prov.add(ox.Triple(d, DCTERMS.rights, _str(_withheld(meta.licence))))
    for work in factset.works:
        w = N(work.iri)
        kg.sources[work.iri] = Location(doc.shown, work.segment.line)
        prov.add(ox.Triple(d, CITO.cites if work.number is not None else CARNK.summarises, w))
        prov.add(ox.Triple(w, RDF.type, BIBO.Document))
        prov.add(ox.Triple(w, DCTERMS.bibliographicCitation, _str(work.citation)))
        prov.add(ox.Triple(w, PROV.wasDerivedFrom, N(doc.segment_iri(work.segment.index))))
        if work.number is not None:
            prov.add(ox.Triple(w, CARNK.referenceNumber, _int(work.number, XSD.positiveInteger)))
        if work.doi:
            prov.add(ox.Triple(w, BIBO.doi, _str(work.doi)))
            prov.add(ox.Triple(w, RDFS.seeAlso, N("https://doi.org/" + work.doi)))
        if work.pmid:
            prov.add(ox.Triple(w, BIBO.pmid, _str(work.pmid)))
            prov.add(ox.Triple(w, RDFS.seeAlso, N(f"https://pubmed.ncbi.nlm.nih.gov/{work.pmid}/")))
        for registry in work.registry:
            prov.add(ox.Triple(w, RDFS.seeAlso, N(TRIAL_IRI + registry)))
    prov.add(ox.Triple(d, DCTERMS["format"], _str("text/plain; charset=utf-8")))
    prov.add(ox.Triple(d, CARNK.sha256, _str(doc.sha256)))
    prov.add(ox.Triple(d, CARNK.characterCount, _int(len(doc.text))))
    kg.sources[doc.iri] = Location(doc.shown)
    text = (lambda seg: seg.text) if meta.republishes_text else (lambda seg: "")
    excluded = {e.segment.index: e for e in factset.exclusions}
    works = {w.segment.index: w.iri.rsplit("/", 2)[-2] + "/" + w.iri.rsplit("/", 1)[-1] for w in factset.works}
    yielded: dict[int, list[str]] = {}
    for fact in factset.facts:
        yielded.setdefault(fact.evidence.segment.index, []).append(fact.fact_id)
    for seg in doc.segments:
        s = N(doc.segment_iri(seg.index))
        kg.sources[s.value] = Location(doc.shown, seg.line)
        prov.add(ox.Triple(s, RDF.type, _SEGMENT_CLASSES[seg.kind]))
        prov.add(ox.Triple(s, CARNK.segmentOf, d))
        prov.add(ox.Triple(s, CARNK.segmentIndex, _int(seg.index, XSD.positiveInteger)))
        prov.add(ox.Triple(s, CARNK.segmentStart, _int(seg.start)))
        prov.add(ox.Triple(s, CARNK.segmentEnd, _int(seg.end)))
        if meta.republishes_text:
            prov.add(ox.Triple(s, CARNK.segmentText, _str(seg.text)))
        if seg.list_intro is not None:
            prov.add(ox.Triple(s, CARNK.listIntroducedBy, N(doc.segment_iri(seg.list_intro))))
        if seg.index in excluded:
            exclusion = excluded[seg.index]
            prov.add(ox.Triple(s, CARNK.exclusionReason, CARNK[exclusion.reason]))
            if exclusion.note:
                prov.add(ox.Triple(s, RDFS.comment, _str(exclusion.note)))
            kg.coverage.append(
                (
                    doc.doc_id,
                    str(seg.index),
                    str(seg.start),
                    str(seg.end),
                    "excluded",
                    exclusion.reason,
                    exclusion.note or "",
                    text(seg),
                )
            )
        elif seg.index in works:
            kg.coverage.append(
                (doc.doc_id, str(seg.index), str(seg.start), str(seg.end), "reference", works[seg.index], "", text(seg))
            )
        else:
            ids = " ".join(sorted(yielded.get(seg.index, [])))
            kg.coverage.append((doc.doc_id, str(seg.index), str(seg.start), str(seg.end), "facts", ids, "", text(seg)))


_SEGMENT_CLASSES = {"sentence": CARNK.Sentence, "list_item": CARNK.ListItem, "reference": CARNK.ReferenceListEntry}


def _withheld(licence: str) -> str:
    """What the document node says of a text the release does not republish."""
    why = "its licence is unknown" if licence == UNKNOWN else f"its licence {licence} is not one that allows it"
    return (
        f"The text of this document is not republished: {why}. The release keeps its facts, "
        f"their position selectors and the quotes of at most {SHORT_QUOTE} characters."
    )


def _fact(fact: Fact, doc: Document, facts: _OrderedSet, prov: _OrderedSet, licence: str) -> None:
    st = N(fact.iri)
    subject, predicate, obj = N(fact.subject), N(fact.predicate), N(fact.object)
    if fact.plain:
        facts.add(ox.Triple(subject, predicate, obj))
    facts.add(ox.Triple(st, RDF.type, CARNK.Statement))
    facts.add(ox.Triple(st, DCTERMS.identifier, _str(fact.fact_id)))
    facts.add(ox.Triple(st, RDF.subject, subject))
    facts.add(ox.Triple(st, RDF.predicate, predicate))
    facts.add(ox.Triple(st, RDF.object, obj))
    facts.add(ox.Triple(st, CARNK.polarity, CARNK[fact.polarity]))
    facts.add(ox.Triple(st, CARNK.modality, CARNK[fact.modality]))
    if fact.frequency:
        facts.add(ox.Triple(st, CARNK.frequency, CARNK[fact.frequency]))
    if fact.compared_to:
        facts.add(ox.Triple(st, CARNK.comparedTo, N(fact.compared_to)))
    if fact.note:
        facts.add(ox.Triple(st, RDFS.comment, _str(fact.note)))
    if fact.study:
        facts.add(ox.Triple(st, CARNK.fromStudy, N(fact.study)))
    for work in fact.cites:
        prov.add(ox.Triple(st, CITO.cites, N(work)))
    ev = fact.evidence
    evidence = N(f"{fact.iri}/evidence")
    quote = N(f"{fact.iri}/quote")
    position = N(f"{fact.iri}/position")
    prov.add(ox.Triple(st, PROV.wasDerivedFrom, N(doc.segment_iri(ev.segment.index))))
    prov.add(ox.Triple(st, CARNK.evidence, evidence))
    prov.add(ox.Triple(evidence, RDF.type, OA.SpecificResource))
    prov.add(ox.Triple(evidence, OA.hasSource, N(doc.iri)))
    if publishable_quote(ev.quote, licence):
        prov.add(ox.Triple(evidence, OA.hasSelector, quote))
        prov.add(ox.Triple(quote, RDF.type, OA.TextQuoteSelector))
        prov.add(ox.Triple(quote, OA.exact, _str(ev.quote)))
        # the context around the quote is the document's text beyond the quote: only where it is republished
        if ev.prefix and republishes_text(licence):
            prov.add(ox.Triple(quote, OA.prefix, _str(ev.prefix)))
        if ev.suffix and republishes_text(licence):
            prov.add(ox.Triple(quote, OA.suffix, _str(ev.suffix)))
    prov.add(ox.Triple(evidence, OA.hasSelector, position))
    prov.add(ox.Triple(position, RDF.type, OA.TextPositionSelector))
    prov.add(ox.Triple(position, OA.start, _int(ev.start)))
    prov.add(ox.Triple(position, OA.end, _int(ev.end)))
