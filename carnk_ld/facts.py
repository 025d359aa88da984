"""Stage 2: read curated facts and resolve them against their document and the ontology.

A fact names its evidence by an exact quote. Resolution finds the quote (it must occur
exactly once, inside one segment), checks every term against the ontology (declared,
of the right kind, within the property's domain and range), and produces typed records
that the graph builder turns into triples. Errors point to the facts file and line.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from carnk_ld.constants import BASE, KG
from carnk_ld.documents import Document, Segment
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.numbers import states
from carnk_ld.ontology import Ontology
from carnk_ld.vocab import RDFS
from carnk_ld.yamlreader import Reader, YNode, YScalar, load_yaml

FACT_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
IS_A = RDFS.subClassOf.value

#: The class whose individuals are the allowed values of each facts-file key. Curators write a
#: value as its ``skos:notation`` in the ontology, which also gives their order in error messages.
VALUE_CLASSES = {
    "polarity": BASE + "Polarity",
    "modality": BASE + "Modality",
    "frequency": BASE + "Frequency",
    "reason": BASE + "ExclusionReason",
}
#: Frequencies of this class say the claim mostly does not hold; such statements get no plain triple.
LOW_FREQUENCY = BASE + "LowFrequency"

_PREFIX_CHARS = 32
#: Ids become IRIs; a block scalar (``|`` or ``>``) keeps a line break that no IRI may hold.
_ID_HINT = "write the id on the same line as its key, as plain text (a block scalar keeps its line break)"


@dataclass(frozen=True)
class Evidence:
    """Where a quote sits in its document."""

    quote: str
    start: int
    end: int
    prefix: str
    suffix: str
    segment: Segment


@dataclass(frozen=True)
class Fact:
    """One resolved claim: a statement with polarity, modality, frequency and evidence."""

    iri: str
    fact_id: str
    subject: str
    predicate: str
    object: str
    polarity: str
    modality: str
    frequency: str | None
    compared_to: str | None
    note: str | None
    evidence: Evidence
    line: int
    #: Whether the claim is also published as a plain triple (see :func:`is_plain`).
    plain: bool


def is_plain(predicate: str, polarity: str, modality: str, frequency: str | None, low_frequencies: set[str]) -> bool:
    """Whether the document asserts a claim firmly enough to publish it as a plain triple.

    Negated, merely possible, and low-frequency (uncommon or minimal) claims stay statements
    only, so a SPARQL user who ignores statements never reads them as plain facts. ``is_a``
    facts are backed by the ontology's own axiom and add no triple either.
    """
    return predicate != IS_A and polarity == "Affirmed" and modality != "Possible" and frequency not in low_frequencies


@dataclass(frozen=True)
class Outcome:
    """A reported clinical outcome with its number of responders."""

    iri: str
    type_iri: str
    responders: int
    line: int


@dataclass(frozen=True)
class Study:
    """A clinical study with typed numbers; its claims are also facts (statements)."""

    iri: str
    study_id: str
    label: str
    patients: int
    outcomes: tuple[Outcome, ...]
    line: int


@dataclass(frozen=True)
class Exclusion:
    """A segment that yields no fact, with the reason."""

    segment: Segment
    reason: str
    note: str | None
    line: int


@dataclass
class FactSet:
    """Everything curated for one document."""

    path: Path
    document: Document
    facts: list[Fact] = field(default_factory=list)
    studies: list[Study] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)

    def unaccounted(self) -> list[Segment]:
        """Segments that neither yield a fact nor are excluded."""
        covered = {f.evidence.segment.index for f in self.facts}
        covered |= {e.segment.index for e in self.exclusions}
        return [s for s in self.document.segments if s.index not in covered]


class _Resolver:
    def __init__(self, path: Path, document: Document, ontology: Ontology):
        self.r = Reader(path)
        self.path = path
        self.doc = document
        self.ont = ontology
        self.local_names = sorted(t.local_name for t in ontology.terms.values() if t.iri.startswith(BASE))
        self.seen_ids: dict[str, int] = {}
        #: Each key's allowed words (skos:notation) and the local names of the values they stand for.
        self.choices = {
            key: {word: _local(iri) for word, iri in ontology.values(cls).items()} for key, cls in VALUE_CLASSES.items()
        }
        if LOW_FREQUENCY not in ontology.terms:
            raise InputError(
                ontology.path,
                f"the ontology does not declare {_local(LOW_FREQUENCY)}",
                "its individuals are the frequencies whose statements get no plain triple; declare it, even empty",
            )
        self.low_frequencies = {_local(iri) for iri in ontology.members(LOW_FREQUENCY)}

    # -- terms ---------------------------------------------------------------
    def term(self, node: YNode, what: str, kinds: tuple[str, ...]) -> str:
        name = self.r.text(node, what)
        local = name[len("carnk:") :] if name.startswith("carnk:") else name
        iri = local if local.startswith(BASE) else BASE + local
        term = self.ont.terms.get(iri)
        if term is None:
            close = difflib.get_close_matches(local, self.local_names, n=1, cutoff=0.6)
            if not close:
                lowered = {n.lower(): n for n in self.local_names}
                close = [lowered[local.lower()]] if local.lower() in lowered else []
            hint = f"did you mean {close[0]!r}?" if close else "declare the term in ontology/carnk.ttl first"
            raise self.r.error(node.line, f"{what} {name!r} is not declared in the ontology", hint)
        if term.kind not in kinds:
            raise self.r.error(node.line, f"{what} {name!r} is a {term.kind}, expected a {' or '.join(kinds)}")
        return iri

    def check_class_in(self, iri: str, expected: str | None, line: int, what: str, prop: str) -> None:
        if expected is None or self.ont.is_subclass(iri, expected):
            return
        label = self.ont.terms[expected].label if expected in self.ont.terms else expected
        raise self.r.error(
            line,
            f"{what} {_local(iri)} is not a kind of {_local(expected)} ({label}), which {_local(prop)} expects",
            "pick another term or predicate, or add the subclass axiom to the ontology",
        )

    # -- evidence ------------------------------------------------------------
    def evidence(self, node: YNode) -> Evidence:
        quote = self.r.text(node, "quote")
        text = self.doc.text
        starts = _find_all(text, quote)
        if not starts:
            raise self.r.error(
                node.line, f"quote not found verbatim in {self.doc.path.name}: {quote!r}", self._near(quote)
            )
        if len(starts) > 1:
            lines = ", ".join(str(self.doc.line_of(s)) for s in starts)
            raise self.r.error(
                node.line,
                f"quote occurs {len(starts)} times in {self.doc.path.name} (lines {lines}): {quote!r}",
                "extend the quote with neighbouring words until it is unique",
            )
        start = starts[0]
        end = start + len(quote)
        segment = self.doc.segment_at(start, end)
        if segment is None:
            raise self.r.error(
                node.line,
                f"quote spans more than one segment of {self.doc.path.name}",
                "quote a part of a single sentence or list item",
            )
        return Evidence(
            quote,
            start,
            end,
            text[max(0, start - _PREFIX_CHARS) : start],
            text[end : end + _PREFIX_CHARS],
            segment,
        )

    def _near(self, quote: str) -> str:
        folded = _fold(quote)
        for segment in self.doc.segments:
            if folded in _fold(segment.text):
                return (
                    f"segment {segment.index} (line {segment.line}) matches when case, spaces and "
                    "quote marks are ignored; copy the text exactly from the document"
                )
        texts = [s.text for s in self.doc.segments]
        close = difflib.get_close_matches(quote, texts, n=1, cutoff=0.5)
        if close:
            return f"closest segment: {close[0]!r}"
        return "copy the quote character for character from the document"

    # -- ids -----------------------------------------------------------------
    def fact_id(self, node: YNode) -> str:
        value = self.r.text(node, "id")
        if not FACT_ID_RE.fullmatch(value):
            raise self.r.error(node.line, f"id {value!r} must use lowercase letters, digits and '-'", _ID_HINT)
        if value in self.seen_ids:
            raise self.r.error(node.line, f"duplicate id {value!r} (first used on line {self.seen_ids[value]})")
        self.seen_ids[value] = node.line
        return value

    def fact_iri(self, fact_id: str) -> str:
        return f"{KG}fact/{self.doc.doc_id}/{fact_id}"


def _local(iri: str) -> str:
    return iri[len(BASE) :] if iri.startswith(BASE) else iri


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    quotes: dict[str, str | int | None] = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}
    text = text.translate(str.maketrans(quotes))
    return " ".join(text.split())


def _find_all(text: str, needle: str) -> list[int]:
    found = []
    start = text.find(needle)
    while start >= 0:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


_FACT_KEYS = {"id", "quote", "subject", "predicate", "object"}
_FACT_OPTIONAL = {"polarity", "modality", "frequency", "compared_to", "note"}


def load_facts(
    path: Path, documents: dict[str, Document], ontology: Ontology, *, display_path: Path | None = None
) -> FactSet:
    """Read one facts file and resolve it; see the module docstring for what is checked."""
    shown = display_path or path
    root = load_yaml(path, display_path=shown)
    reader = Reader(shown)
    top = reader.mapping(root, "the facts file", {"document", "sha256"}, {"facts", "studies", "excluded"})
    doc_line, doc_node = top.items["document"]
    doc_name = reader.text(doc_node, "document")
    if "/" in doc_name or "\\" in doc_name or doc_name.startswith("."):
        raise reader.error(
            doc_line,
            f"document {doc_name!r} must be a file name inside documents/, not a path",
            "write just the file name",
        )
    if doc_name not in documents:
        raise reader.error(doc_line, f"document {doc_name!r} is not in documents/", _suggest(doc_name, list(documents)))
    document = documents[doc_name]
    if path.stem != document.doc_id:
        raise reader.error(doc_line, f"facts for {doc_name} must be in facts/{document.doc_id}.yaml, not {path.name}")
    sha_line, sha_node = top.items["sha256"]
    sha = reader.text(sha_node, "sha256")
    if sha != document.sha256:
        raise reader.error(
            sha_line,
            f"{doc_name} has changed since these facts were curated (sha256 {document.sha256}, facts say {sha})",
            "check every quote against the new text, then update sha256",
        )
    res = _Resolver(shown, document, ontology)
    factset = FactSet(shown, document)
    errors: list[InputError] = []

    def each(key: str, handle: Callable[[YNode], None]) -> None:
        """Resolve every item of a section, collecting errors so curators see them all at once."""
        if key not in top.items:
            return
        for item in reader.sequence(top.items[key][1], key).items:
            try:
                handle(item)
            except InputError as exc:
                errors.append(exc)

    each("facts", lambda item: factset.facts.append(_relation_fact(res, item)))
    each("studies", lambda item: _study(res, item, factset))
    excluded_at: dict[int, int] = {}

    def exclusion(item: YNode) -> None:
        m = reader.mapping(item, "an excluded segment", {"quote", "reason"}, {"note"})
        segment = res.evidence(m.items["quote"][1]).segment
        if segment.index in excluded_at:
            raise reader.error(
                m.line, f"segment {segment.index} is already excluded on line {excluded_at[segment.index]}"
            )
        excluded_at[segment.index] = m.line
        reason = reader.choice(m.items["reason"][1], "reason", res.choices["reason"])
        note = reader.text(m.items["note"][1], "note") if "note" in m.items else None
        factset.exclusions.append(Exclusion(segment, reason, note, m.line))

    each("excluded", exclusion)
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    _check_coverage(factset)
    return factset


def _suggest(value: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(value, options, n=1)
    return f"did you mean {close[0]!r}?" if close else None


def _relation_fact(res: _Resolver, node: YNode) -> Fact:
    r = res.r
    m = r.mapping(node, "a fact", _FACT_KEYS, _FACT_OPTIONAL)
    items = m.items
    fact_id = res.fact_id(items["id"][1])
    evidence = res.evidence(items["quote"][1])
    pred_node = items["predicate"][1]
    is_a = isinstance(pred_node, YScalar) and pred_node.value == "is_a"
    subject = res.term(items["subject"][1], "subject", ("class",))
    obj = res.term(items["object"][1], "object", ("class",))
    polarity = (
        r.choice(items["polarity"][1], "polarity", res.choices["polarity"]) if "polarity" in items else "Affirmed"
    )
    modality = (
        r.choice(items["modality"][1], "modality", res.choices["modality"]) if "modality" in items else "Asserted"
    )
    frequency = r.choice(items["frequency"][1], "frequency", res.choices["frequency"]) if "frequency" in items else None
    note = r.text(items["note"][1], "note") if "note" in items else None
    compared_to = None
    if "compared_to" in items:
        compared_to = res.term(items["compared_to"][1], "compared_to", ("class",))
        res.check_class_in(
            compared_to,
            res.ont.terms[BASE + "comparedTo"].range,
            items["compared_to"][1].line,
            "compared_to",
            BASE + "comparedTo",
        )
    if is_a:
        predicate = IS_A
        if polarity == "Affirmed" and not res.ont.is_subclass(subject, obj):
            raise r.error(
                pred_node.line,
                f"the ontology does not say {_local(subject)} is a subclass of {_local(obj)}",
                "an is_a fact is evidence for an ontology axiom: add the rdfs:subClassOf axiom to ontology/carnk.ttl",
            )
    else:
        predicate = res.term(pred_node, "predicate", ("annotation property",))
        prop = res.ont.terms[predicate]
        res.check_class_in(subject, prop.domain, items["subject"][1].line, "subject", predicate)
        res.check_class_in(obj, prop.range, items["object"][1].line, "object", predicate)
    return Fact(
        res.fact_iri(fact_id),
        fact_id,
        subject,
        predicate,
        obj,
        polarity,
        modality,
        frequency,
        compared_to,
        note,
        evidence,
        m.line,
        is_plain(predicate, polarity, modality, frequency, res.low_frequencies),
    )


_STUDY_KEYS = {"id", "label", "quote", "intervention", "population", "patients"}
_STUDY_OPTIONAL = {"cell_source", "population_quote", "outcomes", "absent_adverse_events"}


def _study(res: _Resolver, node: YNode, factset: FactSet) -> None:
    r = res.r
    m = r.mapping(node, "a study", _STUDY_KEYS, _STUDY_OPTIONAL)
    items = m.items
    study_id = res.fact_id(items["id"][1])
    study_iri = f"{KG}study/{res.doc.doc_id}/{study_id}"
    label = r.text(items["label"][1], "label")
    patients = r.integer(items["patients"][1], "patients")
    evidence = res.evidence(items["quote"][1])

    def statement(suffix: str, predicate: str, obj: str, ev: Evidence, line: int, polarity: str = "Affirmed") -> None:
        fact_id = f"{study_id}-{suffix}"
        if fact_id in res.seen_ids:
            raise r.error(line, f"generated fact id {fact_id!r} collides with the fact on line {res.seen_ids[fact_id]}")
        res.seen_ids[fact_id] = line
        factset.facts.append(
            Fact(
                res.fact_iri(fact_id),
                fact_id,
                study_iri,
                BASE + predicate,
                obj,
                polarity,
                "Asserted",
                None,
                None,
                None,
                ev,
                line,
                is_plain(BASE + predicate, polarity, "Asserted", None, res.low_frequencies),
            )
        )

    def typed_term(key: str, prop: str) -> str:
        value_node = items[key][1]
        iri = res.term(value_node, key, ("class",))
        res.check_class_in(iri, res.ont.terms[BASE + prop].range, value_node.line, key, BASE + prop)
        return iri

    statement(
        "intervention",
        "studiedIntervention",
        typed_term("intervention", "studiedIntervention"),
        evidence,
        items["intervention"][0],
    )
    if "cell_source" in items:
        statement(
            "cell-source", "cellSource", typed_term("cell_source", "cellSource"), evidence, items["cell_source"][0]
        )
    population_ev = res.evidence(items["population_quote"][1]) if "population_quote" in items else evidence
    statement(
        "population",
        "studyPopulation",
        typed_term("population", "studyPopulation"),
        population_ev,
        items["population"][0],
    )
    outcomes: list[Outcome] = []
    quotes = list(dict.fromkeys([evidence.quote, population_ev.quote]))
    if "outcomes" in items:
        for onode in r.sequence(items["outcomes"][1], "outcomes").items:
            om = r.mapping(onode, "an outcome", {"id", "type", "responders", "quote"}, set())
            oid = r.text(om.items["id"][1], "outcome id")
            if not FACT_ID_RE.fullmatch(oid):
                raise r.error(
                    om.items["id"][1].line,
                    f"outcome id {oid!r} must use lowercase letters, digits and '-'",
                    _ID_HINT,
                )
            otype = res.term(om.items["type"][1], "outcome type", ("class",))
            res.check_class_in(
                otype, BASE + "ClinicalOutcome", om.items["type"][1].line, "outcome type", BASE + "hasOutcome"
            )
            responders = r.integer(om.items["responders"][1], "responders")
            if responders > patients:
                raise r.error(
                    om.items["responders"][1].line,
                    f"responders ({responders}) exceed the study's patients ({patients})",
                    "check both numbers against the document",
                )
            oiri = f"{study_iri}/outcome/{oid}"
            outcomes.append(Outcome(oiri, otype, responders, om.line))
            outcome_ev = res.evidence(om.items["quote"][1])
            statement(f"outcome-{oid}", "hasOutcome", oiri, outcome_ev, om.line)
            _stated(r, om.items["responders"][1].line, "responders", responders, [outcome_ev.quote])
            quotes.append(outcome_ev.quote)
    if "absent_adverse_events" in items:
        am = r.mapping(items["absent_adverse_events"][1], "absent_adverse_events", {"quote", "events"}, set())
        ev = res.evidence(am.items["quote"][1])
        for enode in r.sequence(am.items["events"][1], "events").items:
            event = res.term(enode, "adverse event", ("class",))
            res.check_class_in(event, BASE + "AdverseEvent", enode.line, "adverse event", BASE + "observedAdverseEvent")
            statement(f"no-{_slug(_local(event))}", "observedAdverseEvent", event, ev, enode.line, "Negated")
    # the number of patients may be stated with the study, its population or an outcome ("8 of 11")
    _stated(r, items["patients"][1].line, "patients", patients, quotes)
    factset.studies.append(Study(study_iri, study_id, label, patients, tuple(outcomes), m.line))


def _stated(r: Reader, line: int, what: str, number: int, quotes: list[str]) -> None:
    """Refuse a number that none of its quotes states (digits, words, percentages, 8 × 10^7)."""
    if not any(states(quote, number) for quote in quotes):
        shown = " / ".join(f'"{quote}"' for quote in quotes)
        raise r.error(
            line,
            f"{what} {number} is not stated in {'its quote' if len(quotes) == 1 else 'any of its quotes'}: {shown}",
            "every number of a fact must occur in its evidence (as digits, words such as 'eleven', a "
            "percentage or 8 × 10^7): check the number, or quote the words that state it",
        )


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "-", name).lower()


def _check_coverage(factset: FactSet) -> None:
    errors: list[InputError] = []
    yielding = {f.evidence.segment.index for f in factset.facts}
    for exclusion in factset.exclusions:
        if exclusion.segment.index in yielding:
            errors.append(
                InputError(
                    Location(factset.path, exclusion.line),
                    f"segment {exclusion.segment.index} is excluded but also yields facts",
                    "remove the exclusion or the facts",
                )
            )
    for segment in factset.unaccounted():
        errors.append(
            InputError(
                Location(factset.document.path, segment.line),
                f"segment {segment.index} yields no fact and is not excluded: {segment.text!r}",
                f"add a fact quoting it to {factset.path}, or list it under 'excluded:' with a reason",
            )
        )
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
