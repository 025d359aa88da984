"""Stage 2: read curated facts and resolve them against their document and the ontology.

A fact names its evidence by an exact quote. Resolution finds the quote (it must occur
exactly once, inside one segment), checks every term against the ontology (declared,
of the right kind, within the property's domain and range), and produces typed records
that the graph builder turns into triples. Errors point to the facts file and line.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from carnk_ld.citations import MARKER_RE, NCT_RE, Work, markers_in, works_of
from carnk_ld.constants import BASE, KG
from carnk_ld.documents import Document, Segment
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.hints import CLOSED_SET_RATIO, did_you_mean
from carnk_ld.licences import UNKNOWN, republishes_text
from carnk_ld.literals import XSD, decimal_form, literal_problem
from carnk_ld.numbers import number_value, numbers_in, states
from carnk_ld.ontology import DECLARE_PROPERTY, Ontology
from carnk_ld.vocab import RDFS
from carnk_ld.yamlreader import Reader, YMap, YNode, YScalar, load_yaml

FACT_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
T = TypeVar("T")
IS_A = RDFS.subClassOf.value

#: The IRI of a trial registered at ClinicalTrials.gov: Bioregistry's URI format for the prefix
#: ``clinicaltrials``, so that every document's report of one trial names the same resource.
TRIAL_IRI = "https://www.clinicaltrials.gov/study/"
#: The document kind whose figures are preliminary unless a study says otherwise.
CONFERENCE_REPORT = BASE + "ConferenceReport"
#: A number with a leading zero ("075"): YAML 1.1 readers take it for octal.
_LEADING_ZERO_RE = re.compile(r"0\d")
#: A negation cue: a count of zero is stated by a quote that denies the event.
NEGATION_RE = re.compile(r"\b(?:no|not|none|never|without|zero)\b", re.IGNORECASE)
#: Frequencies of this class say the claim mostly does not hold; such statements get no plain triple.
LOW_FREQUENCY = BASE + "LowFrequency"

_PREFIX_CHARS = 32
#: Ids become IRIs; a block scalar (``|`` or ``>``) keeps a line break that no IRI may hold.
_ID_HINT = "write the id on the same line as its key, as plain text (a block scalar keeps its line break)"

#: What a claim's subject, object or comparison may name: a class, or a named individual (a product).
_TERMS = ("class", "individual")
#: Named products are individuals of this class.
PRODUCT = BASE + "CellTherapyProduct"


@dataclass(frozen=True)
class TermRule:
    """A key whose value names an ontology term: the kinds of term it may name and what it must be a kind of.

    ``prop`` is the property that relates the value; the term must lie within ``within`` when
    given, otherwise within the range the ontology declares for ``prop``. Without either, the
    constraint depends on the fact (a subject lies within its predicate's domain).
    """

    kinds: tuple[str, ...]
    prop: str | None = None
    within: str | None = None


@dataclass(frozen=True)
class Key:
    """One key of a facts-file section, as the reader accepts it and the modelling guide documents it."""

    name: str
    required: bool
    description: str
    #: The class whose individuals are the allowed values, written as their ``skos:notation``.
    values: str | None = None
    #: Fixed words the key takes, where the ontology has no class of values for it.
    words: tuple[str, ...] = ()
    #: The ontology term the value names, and its constraint.
    term: TermRule | None = None
    #: The IRI of the value the reader assumes when the key is left out.
    default: str | None = None
    #: The section (a key of :data:`FACTS_SCHEMA`) that describes the value: a mapping, or a list of mappings.
    section: str | None = None


@dataclass(frozen=True)
class Section:
    """A mapping of a facts file: where it sits (empty at the top level), what errors call it, and its keys."""

    path: str
    what: str
    description: str
    keys: tuple[Key, ...]

    @property
    def required(self) -> set[str]:
        """The keys every mapping of the section must have."""
        return {k.name for k in self.keys if k.required}

    @property
    def optional(self) -> set[str]:
        """The keys a mapping of the section may have."""
        return {k.name for k in self.keys if not k.required}

    def key(self, name: str) -> Key:
        """The key called ``name`` (a KeyError for a key the section does not have)."""
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)


def _req(name: str, description: str, **kwargs) -> Key:
    return Key(name, True, description, **kwargs)


def _opt(name: str, description: str, **kwargs) -> Key:
    return Key(name, False, description, **kwargs)


_ID = "unique in this file (facts and studies share ids): lowercase letters, digits and '-'; part of its IRI"
_QUOTE = "the evidence: text copied exactly from the document, found once, inside one segment, without citation markers"

#: The facts-file schema: every section, its required and optional keys, and what each takes. The
#: reader checks each mapping against it, and ``carnk-ld guide`` documents it (CURATING.md).
FACTS_SCHEMA: dict[str, Section] = {
    "file": Section(
        "",
        "the facts file",
        "One facts file per document, `facts/<document>.yaml`.",
        (
            _req("document", "the document's file name in documents/ (not a path); the facts file is named after it"),
            _req("sha256", "the SHA-256 checksum of the document's bytes when it was curated (`sha256sum`)"),
            _req(
                "metadata", "what the file says about its document: its origin and licence at least", section="metadata"
            ),
            _opt("facts", "the claims the document states, a list", section="facts"),
            _opt("studies", "the clinical studies the document reports, a list", section="studies"),
            _opt("excluded", "the segments that yield no fact, each with a reason, a list", section="excluded"),
        ),
    ),
    "metadata": Section(
        "metadata",
        "metadata",
        "What the facts file says about its document. `source` and `licence` are required: the release "
        "republishes the document's text only under a licence that allows it (carnk_ld/licences.tsv).",
        (
            _req(
                "source",
                "where the document comes from: its URL (http or https), its DOI (`doi:10.…`) or, for a text "
                "without either, one line saying who wrote it and what it is based on; `unknown` where nobody knows; "
                "published as dcterms:source",
            ),
            _req(
                "licence",
                "the IRI of the document's own licence (http or https), or `unknown` where nothing states it; "
                "its text is republished only under a licence of carnk_ld/licences.tsv (CC BY, CC BY-SA, CC0, "
                "public domain), otherwise the release keeps the facts, their selectors and quotes of at most "
                "200 characters",
            ),
            _opt("title", "the document's title"),
            _opt(
                "kind",
                "what kind of text the document is; a conference report makes its studies' figures preliminary",
                values=BASE + "DocumentKind",
            ),
        ),
    ),
    "facts": Section(
        "facts[]",
        "a fact",
        "A claim of the document: a statement with polarity, modality and evidence.",
        (
            _req("id", _ID),
            _req("quote", _QUOTE),
            _opt(
                "subject",
                "the class or named individual the claim is about, within the predicate's domain; required unless "
                "`study` is given (then the study is the subject unless this names its product)",
                term=TermRule(_TERMS),
            ),
            _req(
                "predicate",
                "a carnk: annotation property (see Predicates), or `is_a` for evidence of a subclass relation "
                "the ontology states or entails",
                term=TermRule(("annotation property",)),
            ),
            _req(
                "object",
                "the class or named individual the claim relates the subject to, within the predicate's range",
                term=TermRule(_TERMS),
            ),
            _opt("study", "the id of a study of this file whose finding the claim is"),
            _opt(
                "polarity",
                "whether the document affirms or denies the claim",
                values=BASE + "Polarity",
                default=BASE + "Affirmed",
            ),
            _opt(
                "modality",
                "how firmly the document commits to the claim",
                values=BASE + "Modality",
                default=BASE + "Asserted",
            ),
            _opt("frequency", "how often the document says the claim holds", values=BASE + "Frequency"),
            _opt(
                "compared_to",
                "the alternative the document compares the subject with",
                term=TermRule(_TERMS, BASE + "comparedTo"),
            ),
            _opt("note", "why the curator read the sentence so; published as rdfs:comment"),
        ),
    ),
    "studies": Section(
        "studies[]",
        "a study",
        "A document's report of a clinical study, with typed numbers; its claims become statements too.",
        (
            _req("id", _ID),
            _req("label", "a readable name of the study report"),
            _req("quote", _QUOTE + "; it names the study and is the evidence of its intervention"),
            _req(
                "intervention",
                "the therapy given to the study's patients",
                term=TermRule(_TERMS, BASE + "studiedIntervention"),
            ),
            _req(
                "population",
                "the disease of the study's patients",
                term=TermRule(_TERMS, BASE + "studyPopulation"),
            ),
            _opt("patients", "how many patients were treated: a whole number one of the study's quotes states"),
            _opt(
                "registry",
                "the trial's ClinicalTrials.gov number (NCT and 8 digits); the document must give it unless "
                "`registry_note` says how the curator identified the trial",
            ),
            _opt("registry_note", "how the curator identified the trial from a document that does not give its number"),
            _opt("phase", "the trial phase the document states", values=BASE + "TrialPhase"),
            _opt(
                "preliminary",
                "whether the figures are preliminary; by default true in a conference report, false otherwise",
                words=("true", "false"),
            ),
            _opt(
                "product",
                "the named product the study gave",
                term=TermRule(("individual",), BASE + "studiedProduct", PRODUCT),
            ),
            _opt(
                "cell_source",
                "the source of the cells of the studied product",
                term=TermRule(_TERMS, BASE + "cellSource"),
            ),
            _opt(
                "population_quote",
                "the evidence of the population, where the study's quote does not state it",
            ),
            _opt("evaluable", "how many patients could be assessed: at most `patients`, stated by a quote"),
            _opt("arms", "the study's arms, a list", section="arms"),
            _opt("outcomes", "the measurements of clinical outcomes, a list", section="outcomes"),
            _opt(
                "adverse_events",
                "what the report says about each kind of adverse event, a list",
                section="adverse_events",
            ),
        ),
    ),
    "arms": Section(
        "studies[].arms[]",
        "an arm",
        "A study arm: its product, combination partner, route, infusions and dose levels.",
        (
            _req("id", "unique in its study: lowercase letters, digits and '-'; part of its IRI"),
            _req("quote", _QUOTE),
            _opt(
                "product",
                "the named product the arm gave",
                term=TermRule(("individual",), BASE + "studiedProduct", PRODUCT),
            ),
            _opt(
                "combined_with",
                "a therapy given together with the arm's product",
                term=TermRule(("class",), BASE + "combinedWith", BASE + "TherapeuticIntervention"),
            ),
            _opt(
                "route",
                "the route by which the arm's product was given",
                term=TermRule(("class",), BASE + "viaRoute", BASE + "RouteOfAdministration"),
            ),
            _opt(
                "dose_quote",
                "the evidence of the arm's doses and infusions, where another sentence states them "
                "('The recommended phase 2 dose was ...')",
            ),
            _opt("infusions", "how many infusions the arm gives: at least 1, stated by the arm's (dose) quote"),
            _opt("doses", "the arm's dose levels, a list", section="dose"),
        ),
    ),
    "outcomes": Section(
        "studies[].outcomes[]",
        "an outcome",
        "A measurement of a clinical outcome; it states at least one of `count`, `percent` and `at`.",
        (
            _req("id", "unique in its study: lowercase letters, digits and '-'; part of its IRI"),
            _req(
                "type",
                "what was measured",
                term=TermRule(("class",), BASE + "hasOutcome", BASE + "ClinicalOutcome"),
            ),
            _req("quote", _QUOTE + "; it states the outcome's numbers"),
            _opt("count", "how many patients had the outcome, as the quote states it"),
            _opt("of", "out of how many patients, as the quote or the study's quotes state it"),
            _opt("percent", "the rate the quote states, in percent (at most 100)"),
            _opt("among", "which patients the denominator counts", values=BASE + "AnalysisPopulation"),
            _opt("at", "the time point of the measurement", section="time"),
            _opt(
                "subgroup",
                "the disease of the study's patients the measure counts, when only some ('4 with lymphoma')",
                term=TermRule(("class",), BASE + "subgroup", BASE + "Disease"),
            ),
            _opt("arm", "the id of the study's arm the measure is about ('at the highest dose levels')"),
        ),
    ),
    "adverse_events": Section(
        "studies[].adverse_events[]",
        "an adverse event",
        "What a study report says about one kind of adverse event; a count of 0 records a negated observation.",
        (
            _req("id", "unique in its study: lowercase letters, digits and '-'; part of its IRI"),
            _req(
                "type",
                "the kind of adverse event",
                term=TermRule(("class",), BASE + "eventType", BASE + "AdverseEvent"),
            ),
            _req("quote", _QUOTE + "; a quote that denies the event states a count of 0"),
            _req("count", "how many patients had the event (0: the document says it was not observed)"),
            _opt("percent", "the rate the quote states, in percent"),
            _opt("grade", "the grade observed, 1 to 5 (not with `min_grade`)"),
            _opt("min_grade", "the lowest grade counted, 1 to 5 ('grade 3 or higher' is 3; not with `grade`)"),
        ),
    ),
    "dose": Section(
        "studies[].arms[].doses[]",
        "a dose",
        "A dose level: a number with its unit, as the arm's evidence states it.",
        (
            _req("value", "a non-negative number the quote states (1 × 10^5, 9e8), written unquoted"),
            _req("unit", "the dose's unit", values=BASE + "DoseUnit"),
            _opt("bound", "whether the number is a bound or an approximation", values=BASE + "Bound"),
        ),
    ),
    "time": Section(
        "studies[].outcomes[].at",
        "a time point",
        "When a measurement was taken or how long it lasted, as the outcome's quote states it ('at least 12 months').",
        (
            _req("value", "a non-negative number the quote states (30, one), written unquoted"),
            _req("unit", "the time unit", values=BASE + "TimeUnit"),
            _opt("bound", "whether the number is a bound or an approximation", values=BASE + "Bound"),
        ),
    ),
    "excluded": Section(
        "excluded[]",
        "an excluded segment",
        "A segment that yields no fact, with the reason.",
        (
            _req("quote", "text of the segment, copied exactly (found once, inside one segment)"),
            _req("reason", "why the segment yields no fact", values=BASE + "ExclusionReason"),
            _opt("note", "what the curator wants the next reader to know"),
        ),
    ),
}

#: The class whose individuals are the allowed values of each facts-file key. Curators write a
#: value as its ``skos:notation`` in the ontology, which also gives their order in error messages.
VALUE_CLASSES = {
    key.name: key.values
    for section in FACTS_SCHEMA.values()
    for key in section.keys
    if key.values is not None and key.name != "unit"  # each kind of quantity has units of its own
}


class _Problems:
    """The errors of one item (a fact, a study, an arm ...), collected so that one run reports them all.

    Each independent check runs in its own :meth:`check` block; a check whose input failed is
    skipped by its caller (its value stays None), so one wrong value is reported once and does
    not cause follow-on errors.
    """

    def __init__(self) -> None:
        self.errors: list[InputError] = []

    @contextlib.contextmanager
    def check(self) -> Iterator[None]:
        """Run a block; its input error (or errors) is kept and the item's other checks go on."""
        try:
            yield
        except InputErrors as exc:
            self.errors.extend(exc.errors)
        except InputError as exc:
            self.errors.append(exc)

    def raise_any(self) -> None:
        """Raise what was collected, in line order."""
        if self.errors:
            errors = sorted(self.errors, key=_line_order)
            raise errors[0] if len(errors) == 1 else InputErrors(errors)


def _line_order(error: InputError) -> tuple[int, int]:
    return error.location.line or 0, error.location.column or 0


def _mapping(r: Reader, node: YNode, section: str, problems: _Problems, what: str | None = None) -> YMap:
    """A mapping checked against the keys :data:`FACTS_SCHEMA` allows in ``section``.

    A wrong or missing key is kept in ``problems`` and the mapping is still returned, so that its
    other keys are checked too; only a node that is not a mapping at all ends the item.
    """
    schema = FACTS_SCHEMA[section]
    if not isinstance(node, YMap):
        raise r.error(node, f"{what or schema.what} must be a mapping of keys to values")
    problems.errors.extend(r.key_errors(node, what or schema.what, schema.required, schema.optional))
    return node


#: A local name as ``carnk-ld add-term`` takes it (and as the ontology's own names are written).
_LOCAL_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: owl:Thing as a domain or range says nothing a new term could be placed under.
_THING = "http://www.w3.org/2002/07/owl#Thing"


@dataclass(frozen=True)
class NewTerm:
    """How a name that is not declared would be declared: as a subclass (``--parent``) or a member (``--type``)."""

    option: str
    cls: str | None = None

    def hint(self, name: str) -> str:
        """The ``carnk-ld add-term`` command, ready to run when the class is known (else a placeholder)."""
        known = self.cls is not None and self.cls.startswith(BASE) and self.cls != _THING
        shown = _local(self.cls) if known and self.cls else "PARENT_CLASS" if self.option == "--parent" else "CLASS"
        return f"declare it with: carnk-ld add-term {name} {self.option} {shown}"


def _term_rule(section: str, key: str) -> TermRule:
    rule = FACTS_SCHEMA[section].key(key).term
    assert rule is not None, f"{section}.{key} names no term"
    return rule


def _default(section: str, key: str) -> str:
    """The local name of the value a left-out key stands for."""
    default = FACTS_SCHEMA[section].key(key).default
    assert default is not None, f"{section}.{key} has no default"
    return default[len(BASE) :]


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
    #: The works the citation markers of its sentence cite.
    cites: tuple[str, ...] = ()
    #: The study report whose finding the claim is, if any.
    study: str | None = None


def is_plain(predicate: str, polarity: str, modality: str, frequency: str | None, low_frequencies: set[str]) -> bool:
    """Whether the document asserts a claim firmly enough to publish it as a plain triple.

    Negated, merely possible, and low-frequency (uncommon or minimal) claims stay statements
    only, so a SPARQL user who ignores statements never reads them as plain facts. ``is_a``
    facts are backed by the ontology's own axiom and add no triple either.
    """
    return predicate != IS_A and polarity == "Affirmed" and modality != "Possible" and frequency not in low_frequencies


@dataclass(frozen=True)
class Quantity:
    """A number with its unit and bound, as a document states it ("at least 12 months")."""

    value: Decimal
    unit: str
    bound: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A measurement of a clinical outcome in a study: counts where given, a rate where given, a time point."""

    iri: str
    outcome_id: str
    type_iri: str
    numerator: int | None
    denominator: int | None
    percentage: Decimal | None
    population: str | None
    time: Quantity | None
    quote: str
    line: int
    subgroup: str | None = None  # the disease class of the patients counted, when only some
    arm: str | None = None  # the arm measured, when the measure is about one arm only

    def value_text(self) -> str:
        """The measurement as a reader compares it: "7/11", "48.6%", "8/11 (73%)"."""
        parts = []
        if self.numerator is not None:
            parts.append(
                f"{self.numerator}/{self.denominator}" if self.denominator is not None else str(self.numerator)
            )
        if self.percentage is not None:
            parts.append(f"({_plain(self.percentage)}%)" if parts else f"{_plain(self.percentage)}%")
        return " ".join(parts)


@dataclass(frozen=True)
class AdverseEventObservation:
    """What a study report says about one kind of adverse event."""

    iri: str
    event: str
    count: int | None
    percentage: Decimal | None
    grade: int | None
    minimum_grade: int | None
    line: int


@dataclass(frozen=True)
class Arm:
    """A study arm: product, combination partner, route, infusions and dose levels."""

    iri: str
    product: str | None
    combined_with: str | None
    route: str | None
    infusions: int | None
    doses: tuple[Quantity, ...]
    line: int


@dataclass(frozen=True)
class Study:
    """A document's report of a clinical study; its claims are also facts (statements)."""

    iri: str
    study_id: str
    label: str
    patients: int | None
    outcomes: tuple[Outcome, ...]
    line: int
    registry: str | None = None
    named_in_text: bool = False
    phase: str | None = None
    preliminary: bool = False
    product: str | None = None
    evaluable: int | None = None
    arms: tuple[Arm, ...] = ()
    adverse_events: tuple[AdverseEventObservation, ...] = ()

    @property
    def trial_iri(self) -> str | None:
        """The trial's registry IRI, shared by every document's report of it."""
        return TRIAL_IRI + self.registry if self.registry else None


@dataclass(frozen=True)
class Metadata:
    """What the facts file says about its document: its origin and licence, and optionally title and kind."""

    title: str | None = None
    kind: str | None = None
    licence: str = UNKNOWN  # an IRI, or UNKNOWN where nothing states the licence
    source: str | None = None  # an IRI (a URL, or a DOI's https://doi.org/ IRI) or one line of text

    @property
    def republishes_text(self) -> bool:
        """Whether the release republishes the document's text (its licence allows it)."""
        return republishes_text(self.licence)

    @property
    def source_is_iri(self) -> bool:
        """Whether the source is an IRI (published as a resource) rather than a line of text."""
        return self.source is not None and _IRI_RE.fullmatch(self.source) is not None


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
    metadata: Metadata = field(default_factory=Metadata)
    works: list[Work] = field(default_factory=list)

    def unaccounted(self) -> list[Segment]:
        """Segments that neither yield a fact nor are excluded (a reference entry yields its work)."""
        covered = {f.evidence.segment.index for f in self.facts}
        covered |= {e.segment.index for e in self.exclusions}
        covered |= {w.segment.index for w in self.works}
        return [s for s in self.document.segments if s.index not in covered]


class _Resolver:
    def __init__(self, path: Path, document: Document, ontology: Ontology):
        self.r = Reader(path)
        self.path = path
        self.doc = document
        self.ont = ontology
        self.local_names = sorted(t.local_name for t in ontology.terms.values() if t.iri.startswith(BASE))
        self.seen_ids: dict[str, int] = {}
        self.works: dict[int, str] = {}  # reference number -> work IRI
        self.studies: dict[str, str] = {}  # study id -> its IRI
        self.studies_written: set[str] = set()  # every study id as written, read or not
        self.unread_products: set[str] = set()  # ids of studies whose product is in error
        self.study_products: dict[str, str | None] = {}  # study id -> its named product
        self.registries: dict[str, tuple[str, int]] = {}  # registry number -> (study id, line)
        self.preliminary = False  # the document's figures are preliminary (a conference report)
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
    def term(self, node: YNode, what: str, kinds: tuple[str, ...], new: NewTerm | None = None) -> str:
        """The IRI of the term ``node`` names; ``new`` says how to declare it if it is not declared."""
        name = self.r.text(node, what)
        local = name[len("carnk:") :] if name.startswith("carnk:") else name
        iri = local if local.startswith(BASE) else BASE + local
        term = self.ont.terms.get(iri)
        if term is None:
            raise self.r.error(node, f"{what} {name!r} is not declared in the ontology", self._undeclared(local, new))
        if term.kind not in kinds:
            raise self.r.error(node, f"{what} {name!r} is a {term.kind}, expected a {' or '.join(kinds)}")
        return iri

    def _undeclared(self, local: str, new: NewTerm | None) -> str:
        """A close spelling of a declared term, if any, and how to declare the name."""
        close = did_you_mean(local, self.local_names)
        if not _LOCAL_NAME_RE.fullmatch(local):
            how = "write the term's local name as ontology/carnk.ttl declares it (letters, digits, '_' and '-')"
        elif new is None:
            how = DECLARE_PROPERTY
        else:
            how = new.hint(local)
        return f"{close} Otherwise {how}" if close else how

    def is_a(self, iri: str, expected: str) -> bool:
        """Whether a class is a subclass of ``expected``, or an individual is one of its members."""
        term = self.ont.terms[iri]
        if term.kind == "individual":
            return any(self.ont.is_subclass(t, expected) for t in term.types)
        return self.ont.is_subclass(iri, expected)

    def check_class_in(self, iri: str, expected: str | None, line: int | YNode, what: str, prop: str) -> None:
        if expected is None or self.is_a(iri, expected):
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
            raise self.r.error(node, f"quote not found verbatim in {self.doc.path.name}: {quote!r}", self._near(quote))
        if len(starts) > 1:
            lines = ", ".join(str(self.doc.line_of(s)) for s in starts)
            raise self.r.error(
                node,
                f"quote occurs {len(starts)} times in {self.doc.path.name} (lines {lines}): {quote!r}",
                "extend the quote with neighbouring words until it is unique",
            )
        marker = MARKER_RE.search(quote)
        if marker:
            raise self.r.error(
                node,
                f"quote includes the citation marker {marker.group(0)}: {quote!r}",
                "end the quote before the marker; the build links the sentence's statements to the works it cites",
            )
        start = starts[0]
        end = start + len(quote)
        segment = self.doc.segment_at(start, end)
        if segment is None:
            raise self.r.error(
                node,
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
            raise self.r.error(node, f"id {value!r} must use lowercase letters, digits and '-'", _ID_HINT)
        if value in self.seen_ids:
            raise self.r.error(node, f"duplicate id {value!r} (first used on line {self.seen_ids[value]})")
        self.seen_ids[value] = node.line
        return value

    def fact_iri(self, fact_id: str) -> str:
        return f"{KG}fact/{self.doc.doc_id}/{fact_id}"

    def cites(self, evidence: Evidence) -> tuple[str, ...]:
        """The works cited by the markers of the evidence's sentence (those its reference list has)."""
        return tuple(self.works[n] for n in markers_in(evidence.segment.text) if n in self.works)

    # -- numbers -------------------------------------------------------------
    def number(self, node: YNode, what: str) -> Decimal:
        """A decimal number as a curator writes it: 48.6, 1 × 10^5, 9e8."""
        if not isinstance(node, YScalar):
            raise self.r.error(node, f"{what} must be a single number, not a list or mapping")
        text = node.value
        value = number_value(text) if node.plain and not _LEADING_ZERO_RE.match(text.strip()) else None
        if value is None or value < 0:
            raise self.r.error(
                node,
                f"{what} must be a non-negative number written unquoted and without leading zeros "
                f"(48.6, 1 × 10^5), got {text!r}",
            )
        # published as an xsd:decimal: judged as every input's typed literals are (digits a store can hold)
        problem = literal_problem(decimal_form(value), XSD + "decimal")
        if problem is not None:
            raise self.r.error(node, f"{problem} ({what})", "round the number to the digits the quote states")
        return value

    def quantity(self, node: YNode, section: str, what: str, quotes: list[str] | None) -> Quantity:
        """``{value, unit, bound}``: a number the quotes state, with a unit of its kind and an optional bound.

        ``quotes`` is None when the evidence could not be read (its own error says why): the
        number is then not compared with it.
        """
        p = _Problems()
        m = _mapping(self.r, node, section, p, what)
        value = unit = bound = None
        if "value" in m.items:
            with p.check():
                value = self.number(m.items["value"][1], f"{what} value")
                if quotes is not None:
                    _stated(self.r, m.items["value"][1], f"{what} value", value, quotes)
        if "unit" in m.items:
            units = FACTS_SCHEMA[section].key("unit").values
            assert units is not None
            choices = {word: _local(iri) for word, iri in self.ont.values(units).items()}
            with p.check():
                unit = self.r.choice(m.items["unit"][1], f"{what} unit", choices)
        if "bound" in m.items:
            with p.check():
                bound = self.r.choice(m.items["bound"][1], "bound", self.choices["bound"])
        p.raise_any()
        assert value is not None and unit is not None
        return Quantity(value, _expand(unit), _expand(bound) if bound else None)


def _valid_iri(text: str) -> bool:
    """Whether an RDF store takes ``text`` as an IRI (RFC 3987: one '#', a well-formed host, ...)."""
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _local(iri: str) -> str:
    return iri[len(BASE) :] if iri.startswith(BASE) else iri


def _expand(name: str) -> str:
    """The IRI of a value :func:`_local` shortened (units are other vocabularies' IRIs)."""
    return name if ":" in name else BASE + name


def _metadata(res: _Resolver, node: YNode) -> Metadata:
    r = res.r
    p = _Problems()
    m = _mapping(r, node, "metadata", p)
    title = kind = source = None
    licence = UNKNOWN
    if "source" in m.items:
        with p.check():
            source = _source(r, m.items["source"][1])
    if "title" in m.items:
        with p.check():
            title = r.text(m.items["title"][1], "title")
    if "kind" in m.items:
        with p.check():
            kind = r.choice(m.items["kind"][1], "kind", res.choices["kind"])
    if "licence" in m.items:
        with p.check():
            licence = _licence(r, m.items["licence"][1])
    p.raise_any()
    return Metadata(title, kind, licence, source)


#: An http(s) IRI as the facts file writes one (an RDF store must also take it: :func:`_valid_iri`).
_IRI_RE = re.compile(r"https?://[^\s<>\"{}|\\^`]+")
#: A DOI as Crossref and DataCite mint them: ``10.`` a registrant code, ``/`` and a suffix.
_DOI_RE = re.compile(r"doi:(10\.\d{4,9}/\S+)", re.IGNORECASE)


def _licence(r: Reader, node: YNode) -> str:
    """A licence's IRI (an http(s) IRI an RDF store takes), or ``unknown``."""
    licence = r.text(node, "licence")
    if licence == UNKNOWN:
        return licence
    if not _IRI_RE.fullmatch(licence) or not _valid_iri(licence):
        raise r.error(
            node,
            f"licence must be the licence's IRI or {UNKNOWN!r}, got {licence!r}",
            f"for example https://creativecommons.org/licenses/by/4.0/, or {UNKNOWN} where nothing states it",
        )
    return licence


def _source(r: Reader, node: YNode) -> str:
    """The document's origin: an http(s) IRI, a DOI as its https://doi.org/ IRI, or one line of text."""
    source = r.text(node, "source")
    if "\n" in source.strip():
        raise r.error(node, "source must be one line", "write the URL, the DOI or one line of text")
    if source.lower().startswith(("http:", "https:")):
        if not _IRI_RE.fullmatch(source) or not _valid_iri(source):
            raise r.error(
                node,
                f"source looks like a URL but is not a valid IRI: {source!r}",
                "write the URL as the browser shows it",
            )
        return source
    if source.lower().startswith("doi:"):
        doi = _DOI_RE.fullmatch(source)
        if doi is None or not _valid_iri("https://doi.org/" + doi.group(1)):
            raise r.error(
                node, f"source is not a DOI: {source!r}", "write doi:10.NNNN/SUFFIX, e.g. doi:10.1056/NEJMoa1910607"
            )
        return "https://doi.org/" + doi.group(1)
    return source.strip()


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


def load_facts(
    path: Path,
    documents: dict[str, Document],
    ontology: Ontology,
    *,
    display_path: Path | None = None,
    require_coverage: bool = True,
) -> FactSet:
    """Read one facts file and resolve it; see the module docstring for what is checked.

    Every error of the file is reported (in line order), not only the first: each fact, study,
    arm, outcome and adverse event is checked key by key.

    ``require_coverage=False`` accepts segments that neither yield a fact nor are excluded (a file
    being curated, as ``carnk-ld suggest`` reads it); everything else is checked as always.
    """
    shown = display_path or path
    root = load_yaml(path, display_path=shown)
    reader = Reader(shown)
    top_problems = _Problems()
    top = _mapping(reader, root, "file", top_problems)
    if "document" not in top.items or "sha256" not in top.items:  # nothing resolves without the document
        top_problems.raise_any()
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
    factset = FactSet(shown, document, works=works_of(document))
    res.works = {w.number: w.iri for w in factset.works if w.number is not None}
    problems = top_problems
    if "metadata" in top.items:
        line, node = top.items["metadata"]
        with problems.check():
            if reader.empty(node):
                raise reader.error(
                    line,
                    "metadata is empty; it needs the document's source and licence",
                    "write source: (URL, doi:… or one line of text) and licence: (an IRI, or unknown)",
                )
            factset.metadata = _metadata(res, node)
    res.preliminary = factset.metadata.kind == _local(CONFERENCE_REPORT)

    def each(key: str, handle: Callable[[YNode], None]) -> None:
        """Resolve every item of a section, collecting errors so curators see them all at once."""
        if key not in top.items or reader.empty(top.items[key][1]):
            return  # a section left empty (all its items still commented out) has no items
        items: list[YNode] = []
        with problems.check():
            items = reader.sequence(top.items[key][1], key).items
        for item in items:
            with problems.check():
                handle(item)

    # studies first: a fact may name the study whose finding it is
    each("studies", lambda item: _study(res, item, factset))
    unresolved: list[int] = []

    def fact(item: YNode) -> None:
        resolved = _relation_fact(res, item)
        if resolved is None:
            unresolved.append(item.line)
        else:
            factset.facts.append(resolved)

    each("facts", fact)
    excluded_at: dict[int, int] = {}

    def exclusion(item: YNode) -> None:
        p = _Problems()
        m = _mapping(reader, item, "excluded", p)
        segment = reason = note = None
        if "quote" in m.items:
            with p.check():
                segment = res.evidence(m.items["quote"][1]).segment
                if segment.index in excluded_at:
                    raise reader.error(
                        m.line, f"segment {segment.index} is already excluded on line {excluded_at[segment.index]}"
                    )
                excluded_at[segment.index] = m.line
        if "reason" in m.items:
            with p.check():
                reason = reader.choice(m.items["reason"][1], "reason", res.choices["reason"])
        if "note" in m.items:
            with p.check():
                note = reader.text(m.items["note"][1], "note")
        p.raise_any()
        assert segment is not None and reason is not None
        factset.exclusions.append(Exclusion(segment, reason, note, m.line))

    each("excluded", exclusion)
    if unresolved and not problems.errors:  # never so: a fact is left unresolved only beside its study's error
        problems.errors.append(reader.error(unresolved[0], "the fact could not be resolved"))
    problems.raise_any()
    _check_coverage(factset, require_coverage)
    return factset


def _suggest(value: str, options: list[str]) -> str | None:
    return did_you_mean(value, options, CLOSED_SET_RATIO)


def _relation_fact(res: _Resolver, node: YNode) -> Fact | None:
    r = res.r
    p = _Problems()
    m = _mapping(r, node, "facts", p)
    items = m.items
    fact_id = evidence = study = subject = obj = predicate = None
    if "id" in items:
        with p.check():
            fact_id = res.fact_id(items["id"][1])
    if "quote" in items:
        with p.check():
            evidence = res.evidence(items["quote"][1])
    pred_node = items["predicate"][1] if "predicate" in items else None
    is_a = isinstance(pred_node, YScalar) and pred_node.value == "is_a"
    # a study that is named but could not be read has its own errors: the fact does not repeat them
    study_id = None
    if "study" in items:
        with p.check():
            study_id = r.text(items["study"][1], "study")
            if study_id in res.studies:
                study = res.studies[study_id]
            elif study_id not in res.studies_written:
                raise r.error(
                    items["study"][1],
                    f"study {study_id!r} is not a study of this file",
                    _suggest(study_id, list(res.studies)) or "declare it under 'studies:'",
                )
    prop = None
    if pred_node is not None and not is_a:
        with p.check():
            predicate = res.term(pred_node, "predicate", _term_rule("facts", "predicate").kinds)
            prop = res.ont.terms[predicate]
    if "object" in items:
        with p.check():
            new = NewTerm("--parent", prop.range if prop else None)
            obj = res.term(items["object"][1], "object", _term_rule("facts", "object").kinds, new)
    if "subject" in items:
        if "study" in items:  # a study's finding is about its product, a named individual
            new = NewTerm("--type", PRODUCT)
        else:  # the parent of an is_a fact's new subject is its object
            new = NewTerm("--parent", obj if is_a else prop.domain if prop else None)
        with p.check():
            subject = res.term(items["subject"][1], "subject", _term_rule("facts", "subject").kinds, new)
        if subject is not None and study is not None and study_id is not None:
            with p.check():
                _study_subject(res, items, study_id, subject)
    elif study is not None:
        subject = study
    elif "study" not in items:  # a study in error has its own error: the subject it stands for is no news
        p.errors.append(
            r.error(
                m.line,
                "a fact is missing the required key 'subject'",
                "name the subject, or the study whose finding it is",
            )
        )
    polarity = modality = frequency = note = compared_to = None
    with p.check():
        polarity = (
            r.choice(items["polarity"][1], "polarity", res.choices["polarity"])
            if "polarity" in items
            else _default("facts", "polarity")
        )
    with p.check():
        modality = (
            r.choice(items["modality"][1], "modality", res.choices["modality"])
            if "modality" in items
            else _default("facts", "modality")
        )
    if "frequency" in items:
        with p.check():
            frequency = r.choice(items["frequency"][1], "frequency", res.choices["frequency"])
    if "note" in items:
        with p.check():
            note = r.text(items["note"][1], "note")
    if "compared_to" in items:
        rule = _term_rule("facts", "compared_to")
        assert rule.prop is not None, "compared_to qualifies the statement with a property"
        expected = res.ont.terms[rule.prop].range
        with p.check():
            compared_to = res.term(items["compared_to"][1], "compared_to", rule.kinds, NewTerm("--parent", expected))
            res.check_class_in(compared_to, expected, items["compared_to"][1], "compared_to", rule.prop)
    if is_a:
        assert pred_node is not None
        predicate = IS_A
        if subject is not None and obj is not None:
            with p.check():
                if (
                    subject not in res.ont.terms
                    or res.ont.terms[subject].kind != "class"
                    or res.ont.terms[obj].kind != "class"
                ):
                    raise r.error(
                        pred_node.line, "an is_a fact relates two classes", "use a predicate for a named individual"
                    )
                # A firm is_a claim is evidence for what the ontology states or entails; a negated or
                # merely possible one is a claim only, and never becomes an axiom.
                if polarity == "Affirmed" and modality != "Possible" and not res.ont.is_subclass(subject, obj):
                    raise r.error(
                        pred_node.line,
                        f"the ontology does not say {_local(subject)} is a subclass of {_local(obj)}",
                        "an is_a fact is evidence for an ontology axiom: add the rdfs:subClassOf axiom (or a "
                        "logical definition that entails it) to ontology/carnk.ttl",
                    )
    elif predicate is not None and prop is not None:
        if subject is not None and subject == study:
            with p.check():
                res.check_class_in(BASE + "ClinicalStudy", prop.domain, items["predicate"][0], "the study", predicate)
        elif subject is not None:
            with p.check():
                res.check_class_in(subject, prop.domain, items["subject"][1], "subject", predicate)
        if obj is not None:
            with p.check():
                res.check_class_in(obj, prop.range, items["object"][1], "object", predicate)
    p.raise_any()
    if subject is None:  # the fact names a study whose id is in error: that error is the one to fix
        return None
    assert fact_id is not None and evidence is not None and obj is not None
    assert predicate is not None and polarity is not None and modality is not None
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
        res.cites(evidence),
        study,
    )


def _study_subject(res: _Resolver, items: dict[str, tuple[int, YNode]], study_id: str, subject: str) -> None:
    """Refuse a subject of a study's finding that is neither the study nor its product."""
    line = items["subject"][1]
    if res.ont.terms[subject].kind == "class":
        raise res.r.error(
            line,
            f"a finding of study {study_id!r} is about the study or its product, not the class {_local(subject)}",
            "leave out the subject (the study is the subject) or name the product; "
            "class-level claims come from general statements, not from one study",
        )
    if study_id in res.unread_products:  # the study's product is wrong, and its own error says so
        return
    if study_id in res.study_products and subject != res.study_products[study_id]:
        product = res.study_products.get(study_id)
        raise res.r.error(
            line,
            f"a finding of study {study_id!r} is about the study or its product "
            f"({_local(product) if product else 'the study names none'}), not {_local(subject)}",
            "leave out the subject, or give the study its product",
        )


class _StudyReader:
    """Resolves one study: its report node, arms, measurements and the statements that carry their evidence.

    Every key is checked even when another is wrong, so a curator sees all of a study's errors in
    one run; a check that needs a value in error (a quote that was not found, an id that is not
    valid) is skipped, since that value's own error already says what to fix.
    """

    def __init__(self, res: _Resolver, node: YNode, factset: FactSet):
        self.res = res
        self.r = res.r
        self.factset = factset
        self.p = _Problems()
        self.m = _mapping(self.r, node, "studies", self.p)
        self.items = self.m.items
        self.study_id: str | None = None
        self.iri = ""
        if "id" in self.items:
            written = self.items["id"][1]
            if isinstance(written, YScalar):
                res.studies_written.add(written.value)
            with self.p.check():
                self.study_id = res.fact_id(written)
                self.iri = f"{KG}study/{res.doc.doc_id}/{self.study_id}"
        self.evidence: Evidence | None = None
        if "quote" in self.items:
            with self.p.check():
                self.evidence = res.evidence(self.items["quote"][1])
        self.quotes = [self.evidence.quote] if self.evidence else []
        #: Whether every quote of the study was found: a number is checked against them only then.
        self.quotes_complete = self.evidence is not None
        self.arms: dict[str, str] = {}  # arm id -> IRI, for outcomes about one arm
        self.arms_written: set[str] = set()  # every arm id as written, read or not
        self.local_ids: dict[tuple[str, str], int] = {}  # (kind, id) -> line, of arms, outcomes and events
        self.patients: int | None = None
        self.evaluable: int | None = None

    def statement(
        self,
        suffix: str,
        predicate: str,
        obj: str,
        ev: Evidence | None,
        line: int,
        polarity: str = "Affirmed",
        subject: str | None = None,
    ) -> None:
        """Record a statement of the study (nothing while its id or evidence is in error: the study fails anyway)."""
        res = self.res
        if self.study_id is None or ev is None:
            return
        fact_id = f"{self.study_id}-{suffix}"
        if fact_id in res.seen_ids:
            raise self.r.error(
                line, f"generated fact id {fact_id!r} collides with the fact on line {res.seen_ids[fact_id]}"
            )
        res.seen_ids[fact_id] = line
        self.factset.facts.append(
            Fact(
                res.fact_iri(fact_id),
                fact_id,
                subject or self.iri,
                predicate,
                obj,
                polarity,
                "Asserted",
                None,
                None,
                None,
                ev,
                line,
                is_plain(predicate, polarity, "Asserted", None, res.low_frequencies),
                res.cites(ev),
                self.iri,
            )
        )

    def typed_term(self, node: YNode, section: str, key: str, what: str | None = None) -> str:
        """The term a key names, checked against the constraint :data:`FACTS_SCHEMA` gives it."""
        rule = _term_rule(section, key)
        assert rule.prop is not None, f"{section}.{key} names no constrained term"
        # a property without a declared range constrains nothing, as for compared_to
        expected = rule.within or self.res.ont.terms[rule.prop].range
        new = NewTerm("--type" if rule.kinds == ("individual",) else "--parent", expected)
        iri = self.res.term(node, what or key, rule.kinds, new)
        self.res.check_class_in(iri, expected, node, what or key, rule.prop)
        return iri

    def term_of(self, key: str) -> str:
        return self.typed_term(self.items[key][1], "studies", key)

    def read(self) -> Study:
        r, res, items, p = self.r, self.res, self.items, self.p
        if self.study_id is not None:
            res.studies[self.study_id] = self.iri
        label = patients = evaluable = phase = product = None
        if "label" in items:
            with p.check():
                label = r.text(items["label"][1], "label")
        if "patients" in items:
            with p.check():
                patients = r.integer(items["patients"][1], "patients")
        if "evaluable" in items:
            with p.check():
                evaluable = r.integer(items["evaluable"][1], "evaluable")
        if patients is not None and evaluable is not None and evaluable > patients:
            p.errors.append(r.error(items["evaluable"][1], f"evaluable ({evaluable}) exceeds patients ({patients})"))
            evaluable = None
        self.patients, self.evaluable = patients, evaluable
        registry, named = None, False
        if self.evidence is not None and self.study_id is not None:  # the study's sentence may name its trial
            with p.check():
                registry, named = self.registry()
        if "phase" in items:
            with p.check():
                phase = _expand(r.choice(items["phase"][1], "phase", res.choices["phase"]))
        preliminary = res.preliminary
        if "preliminary" in items:
            words = FACTS_SCHEMA["studies"].key("preliminary").words
            with p.check():
                preliminary = r.choice(items["preliminary"][1], "preliminary", {w: w for w in words}) == "true"
        if "intervention" in items:
            with p.check():
                intervention = self.term_of("intervention")
                self.statement(
                    "intervention", BASE + "studiedIntervention", intervention, self.evidence, items["intervention"][0]
                )
        if "product" in items:
            with p.check():
                product = self.term_of("product")
            if product is None and self.study_id is not None:
                res.unread_products.add(self.study_id)
        if self.study_id is not None:
            res.study_products[self.study_id] = product
        if "cell_source" in items:
            with p.check():
                source = self.term_of("cell_source")
                self.statement("cell-source", BASE + "cellSource", source, self.evidence, items["cell_source"][0])
        population_ev = self.evidence
        if "population_quote" in items:
            population_ev = None
            with p.check():
                population_ev = res.evidence(items["population_quote"][1])
            if population_ev is None:
                self.quotes_complete = False
        if "population" in items:
            with p.check():
                population = self.term_of("population")
                self.statement(
                    "population", BASE + "studyPopulation", population, population_ev, items["population"][0]
                )
        self.quotes = list(dict.fromkeys(ev.quote for ev in (self.evidence, population_ev) if ev is not None))
        arms = [arm for arm in self.read_each("arms", self.arm) if arm is not None]
        outcomes = [o for o in self.read_each("outcomes", self.outcome) if o is not None]
        events = [e for e in self.read_each("adverse_events", self.adverse_event) if e is not None]
        if self.quotes_complete:  # else a number might be stated in the quote that is in error
            if evaluable is not None:
                with p.check():
                    _stated(r, items["evaluable"][1], "evaluable", evaluable, self.quotes)
            # the number of patients may be stated with the study, its population or an outcome ("8 of 11")
            if patients is not None:
                with p.check():
                    _stated(r, items["patients"][1], "patients", patients, self.quotes)
        for outcome in outcomes:
            limit = evaluable if outcome.population == BASE + "EvaluablePatients" else patients
            if outcome.denominator is not None:
                limit = outcome.denominator
            if outcome.numerator is not None and limit is not None and outcome.numerator > limit:
                p.errors.append(
                    r.error(
                        outcome.line,
                        f"outcome {outcome.outcome_id!r} counts {outcome.numerator} patients, more than {limit}",
                        "check both numbers against the document",
                    )
                )
        p.raise_any()
        assert self.study_id is not None and label is not None
        return Study(
            self.iri,
            self.study_id,
            label,
            patients,
            tuple(outcomes),
            self.m.line,
            registry,
            named,
            phase,
            preliminary,
            product,
            evaluable,
            tuple(arms),
            tuple(events),
        )

    def read_each(self, key: str, read: Callable[[YNode], T]) -> list[T | None]:
        """Each item of a list of the study read by ``read``; an item in error is None (its errors are kept)."""
        if key not in self.items:
            return []
        nodes: list[YNode] = []
        with self.p.check():
            nodes = list(self.r.sequence(self.items[key][1], key).items)
        found: list[T | None] = []
        for node in nodes:
            value = None
            with self.p.check():
                value = read(node)
            found.append(value)
        return found

    def registry(self) -> tuple[str | None, bool]:
        """The trial's registry number; whether the document gives it, or the curator identified the trial."""
        items, r = self.items, self.r
        assert self.evidence is not None and self.study_id is not None
        if "registry" not in items:
            if "registry_note" in items:
                raise r.error(items["registry_note"][0], "registry_note without a registry number")
            given = NCT_RE.search(self.evidence.segment.text)
            if given:  # a study is identified by the registry number its document gives
                raise r.error(
                    items["quote"][0],
                    f"the study's sentence names the trial {given.group(0)} but the study gives no registry",
                    f"add 'registry: {given.group(0)}', so that every document's report of it joins",
                )
            return None, False
        node = items["registry"][1]
        number = r.text(node, "registry")
        if not NCT_RE.fullmatch(number):
            raise r.error(node, f"registry must be a ClinicalTrials.gov number (NCT and 8 digits), got {number!r}")
        given = NCT_RE.search(self.evidence.segment.text)
        if given and given.group(0) != number:
            raise r.error(node, f"the study's sentence names the trial {given.group(0)}, not {number}")
        other = self.res.registries.setdefault(number, (self.study_id, node.line))
        if other[0] != self.study_id:
            raise r.error(
                node,
                f"{number} is already the trial of study {other[0]!r} (line {other[1]})",
                "one report per trial and document: describe its cohorts as arms or outcomes of that study",
            )
        named = number in self.res.doc.text
        if not named and "registry_note" not in items:
            raise r.error(
                node,
                f"{number} does not occur in {self.res.doc.path.name}",
                "if you identified the trial from what the document says, explain how in 'registry_note'",
            )
        if named and "registry_note" in items:
            raise r.error(
                items["registry_note"][0], f"the document gives {number}; registry_note is for trials it does not name"
            )
        return number, named

    def local_id(self, node: YNode, what: str) -> str:
        value = self.r.text(node, what)
        if not FACT_ID_RE.fullmatch(value):
            raise self.r.error(node, f"{what} {value!r} must use lowercase letters, digits and '-'", _ID_HINT)
        first = self.local_ids.setdefault((what, value), node.line)
        if first != node.line:
            raise self.r.error(node, f"duplicate {what} {value!r} in study {self.study_id!r} (first on line {first})")
        return value

    def arm(self, node: YNode) -> Arm:
        r, res = self.r, self.res
        p = _Problems()
        m = _mapping(r, node, "arms", p)
        items = m.items
        arm_id = ev = product = partner = route = infusions = None
        if "id" in items:
            if isinstance(items["id"][1], YScalar):
                self.arms_written.add(items["id"][1].value)
            with p.check():
                arm_id = self.local_id(items["id"][1], "arm id")
        iri = f"{self.iri}/arm/{arm_id}"
        if arm_id is not None:
            self.arms[arm_id] = iri
        if "quote" in items:
            with p.check():
                ev = res.evidence(items["quote"][1])
        with p.check():
            self.statement(f"arm-{arm_id}", BASE + "hasArm", iri, ev if arm_id else None, m.line)
        if "product" in items:
            with p.check():
                product = self.typed_term(items["product"][1], "arms", "product")
        if "combined_with" in items:
            with p.check():
                partner = self.typed_term(items["combined_with"][1], "arms", "combined_with")
                self.statement(
                    f"arm-{arm_id}-combined-with",
                    BASE + "combinedWith",
                    partner,
                    ev if arm_id else None,
                    items["combined_with"][0],
                    subject=iri,
                )
        if "route" in items:
            with p.check():
                route = self.typed_term(items["route"][1], "arms", "route")
                self.statement(
                    f"arm-{arm_id}-route",
                    BASE + "viaRoute",
                    route,
                    ev if arm_id else None,
                    items["route"][0],
                    subject=iri,
                )
        dose_ev = ev
        if "dose_quote" in items:
            dose_ev = None
            with p.check():
                dose_ev = res.evidence(items["dose_quote"][1])
            if "doses" not in items and "infusions" not in items:
                p.errors.append(r.error(items["dose_quote"][0], "dose_quote without doses or infusions"))
        if "infusions" in items:
            with p.check():
                infusions = r.integer(items["infusions"][1], "infusions")
                if infusions == 0:
                    raise r.error(items["infusions"][1], "infusions must be at least 1")
                if dose_ev is not None:
                    _stated(r, items["infusions"][1], "infusions", infusions, [dose_ev.quote])
        doses: list[Quantity] = []
        if "doses" in items:
            nodes: list[YNode] = []
            with p.check():
                nodes = list(r.sequence(items["doses"][1], "doses").items)
            for dose in nodes:
                with p.check():
                    doses.append(res.quantity(dose, "dose", "dose", [dose_ev.quote] if dose_ev else None))
        if dose_ev is not None and dose_ev is not ev:  # the sentence that states the doses is evidence of them
            for number in range(1, len(doses) + 1):
                with p.check():
                    self.statement(
                        f"arm-{arm_id}-dose-{number}",
                        BASE + "hasDoseLevel",
                        f"{iri}/dose/{number}",
                        dose_ev if arm_id else None,
                        items["dose_quote"][0],
                        subject=iri,
                    )
        p.raise_any()
        return Arm(iri, product, partner, route, infusions, tuple(doses), m.line)

    def outcome(self, node: YNode) -> Outcome:
        r, res = self.r, self.res
        p = _Problems()
        m = _mapping(r, node, "outcomes", p)
        items = m.items
        keys_known = not p.errors  # else a misspelt key ('counts') may be the missing count
        oid = otype = ev = count = of = population = percent = time = subgroup = arm = None
        if "id" in items:
            with p.check():
                oid = self.local_id(items["id"][1], "outcome id")
        if "type" in items:
            with p.check():
                otype = self.typed_term(items["type"][1], "outcomes", "type", "outcome type")
        if "quote" in items:
            with p.check():
                ev = res.evidence(items["quote"][1])
        iri = f"{self.iri}/outcome/{oid}"
        with p.check():
            self.statement(f"outcome-{oid}", BASE + "hasOutcome", iri, ev if oid else None, m.line)
        if "count" in items:
            with p.check():
                count = r.integer(items["count"][1], "count")
                if ev is not None:
                    _stated(r, items["count"][1], "count", count, [ev.quote])
        if "among" in items:
            with p.check():
                population = _expand(r.choice(items["among"][1], "among", res.choices["among"]))
        if "of" in items:
            with p.check():
                of = r.integer(items["of"][1], "of")
                if of == 0:
                    raise r.error(items["of"][1], "of must be at least 1: a rate over no patients is no measure")
                if ev is not None and self.quotes_complete:
                    _stated(r, items["of"][1], "of", of, [ev.quote, *self.quotes])
                evaluable = population == BASE + "EvaluablePatients" and self.evaluable is not None
                limit, name = (self.evaluable, "evaluable") if evaluable else (self.patients, "patients")
                if limit is not None and of > limit:
                    raise r.error(items["of"][1], f"of ({of}) exceeds {name} ({limit})")
        if "percent" in items:
            with p.check():
                percent = res.number(items["percent"][1], "percent")
                line = items["percent"][1]
                if percent > 100:
                    raise r.error(line, f"percent {_plain(percent)} is over 100")
                if ev is not None:
                    _stated(r, line, "percent", percent, [ev.quote])
                if count is not None and of is not None and abs(Decimal(100 * count) / of - percent) >= 1:
                    raise r.error(
                        line,
                        f"percent {_plain(percent)} does not match {count} of {of} "
                        f"({_plain(round(Decimal(100 * count) / of, 1))}%)",
                        "documents round a rate to the nearest percent; check the three numbers against the quote",
                    )
        if "at" in items:
            with p.check():
                time = res.quantity(items["at"][1], "time", "at", [ev.quote] if ev else None)
        if "subgroup" in items:
            with p.check():
                subgroup = self.typed_term(items["subgroup"][1], "outcomes", "subgroup")
        if "arm" in items:
            with p.check():
                arm_id = r.text(items["arm"][1], "arm")
                if arm_id in self.arms:
                    arm = self.arms[arm_id]
                elif arm_id not in self.arms_written:  # an arm in error has its own errors
                    raise r.error(
                        items["arm"][1],
                        f"arm {arm_id!r} is not an arm of study {self.study_id!r}",
                        _suggest(arm_id, list(self.arms)) or "declare it under the study's 'arms:'",
                    )
        if ev is not None:
            self.quotes.append(ev.quote)  # "8 of 11" states the study's patients too
        else:
            self.quotes_complete = False
        if keys_known and not {"count", "percent", "at"} & items.keys():
            p.errors.append(
                r.error(
                    m.line,
                    f"outcome {oid!r} states no count, percent or time point",
                    "give what the quote states: count (and of), percent, or at",
                )
            )
        p.raise_any()
        assert oid is not None and otype is not None and ev is not None
        return Outcome(iri, oid, otype, count, of, percent, population, time, ev.quote, m.line, subgroup, arm)

    def adverse_event(self, node: YNode) -> AdverseEventObservation:
        r, res = self.r, self.res
        p = _Problems()
        m = _mapping(r, node, "adverse_events", p)
        items = m.items
        aid = event = ev = count = percent = None
        if "id" in items:
            with p.check():
                aid = self.local_id(items["id"][1], "adverse event id")
        if "type" in items:
            with p.check():
                event = self.typed_term(items["type"][1], "adverse_events", "type", "adverse event type")
        if "quote" in items:
            with p.check():
                ev = res.evidence(items["quote"][1])
        iri = f"{self.iri}/adverse-event/{aid}"
        if "count" in items:
            with p.check():
                count = r.integer(items["count"][1], "count")
                if self.patients is not None and count > self.patients:
                    raise r.error(
                        items["count"][1],
                        f"adverse event {aid!r} counts {count} patients, more than {self.patients}",
                    )
        if "percent" in items:
            with p.check():
                percent = res.number(items["percent"][1], "percent")
                if percent > 100:
                    raise r.error(items["percent"][1], f"percent {_plain(percent)} is over 100")
                if ev is not None:
                    _stated(r, items["percent"][1], "percent", percent, [ev.quote])
        grades: dict[str, int] = {}
        grades_read = True
        for key in ("grade", "min_grade"):
            if key in items:
                grades_read = False
                with p.check():
                    grade = r.integer(items[key][1], key)
                    if not 1 <= grade <= 5:
                        raise r.error(items[key][1], f"{key} must be a grade from 1 to 5, got {grade}")
                    if ev is not None:
                        _stated(r, items[key][1], key, grade, [ev.quote])
                    grades[key] = grade
                    grades_read = True
        if count is not None and ev is not None:
            count_line = items["count"][1]
            if count > 0:
                with p.check():
                    _stated(r, count_line, "count", count, [ev.quote])
            elif grades_read and not _denies(ev.quote, set(grades.values())):
                p.errors.append(
                    r.error(
                        count_line,
                        f'count 0 is not stated in its quote: "{ev.quote}"',
                        "a count of zero needs a quote that denies the event ('no', 'not associated with') and "
                        "states no other count: quote only the words about this event",
                    )
                )
        if "grade" in items and "min_grade" in items:
            p.errors.append(
                r.error(m.line, "give either grade (the grade observed) or min_grade ('grade 3 or higher'), not both")
            )
        ok = aid is not None and event is not None and count is not None
        with p.check():
            self.statement(f"adverse-event-{aid}", BASE + "hasAdverseEventObservation", iri, ev if ok else None, m.line)
        if ok:
            assert event is not None
            # "No neurotoxicity was observed": a count of zero, and the claim kept as the document's negation
            with p.check():
                self.statement(
                    f"no-{aid}" if count == 0 else f"observed-{aid}",
                    BASE + "observedAdverseEvent",
                    event,
                    ev,
                    items["count"][0],
                    "Negated" if count == 0 else "Affirmed",
                )
        p.raise_any()
        assert event is not None and count is not None
        return AdverseEventObservation(iri, event, count, percent, grades.get("grade"), grades.get("min_grade"), m.line)


def _study(res: _Resolver, node: YNode, factset: FactSet) -> None:
    factset.studies.append(_StudyReader(res, node, factset).read())


def _stated(r: Reader, line: int | YNode, what: str, number: int | Decimal, quotes: list[str]) -> None:
    """Refuse a number that none of its quotes states (digits, words, percentages, 8 × 10^7)."""
    if not any(states(quote, number) for quote in quotes):
        shown = " / ".join(f'"{quote}"' for quote in quotes)
        raise r.error(
            line,
            f"{what} {_plain(number)} is not stated in "
            f"{'its quote' if len(quotes) == 1 else 'any of its quotes'}: {shown}",
            "every number of a fact must occur in its evidence (as digits, words such as 'eleven', a "
            "percentage or 8 × 10^7): check the number, or quote the words that state it",
        )


def _denies(quote: str, grades: set[int]) -> bool:
    """Whether a quote states a count of zero: it denies the event ("no", "not associated with") and
    states no other number than the grade it names ("no grade 3 or higher ..."), so that "CRS in two
    patients and no GvHD" does not state that no patient had CRS."""
    if not NEGATION_RE.search(quote):
        return False
    return not (numbers_in(quote) - {Decimal(0)} - {Decimal(g) for g in grades})


def _plain(number: int | Decimal) -> str:
    """A number as a reader writes it: 100000 rather than 1E+5, 48.6, 160 rather than 1.6E+2."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_coverage(factset: FactSet, require_coverage: bool = True) -> None:
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
    for segment in factset.unaccounted() if require_coverage else []:
        errors.append(
            InputError(
                Location(factset.document.shown, segment.line),
                f"segment {segment.index} yields no fact and is not excluded: {segment.text!r}",
                f"add a fact quoting it to {factset.path}, or list it under 'excluded:' with a reason",
            )
        )
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
