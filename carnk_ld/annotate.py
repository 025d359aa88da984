"""Concept mentions and negation/hedging cues in documents (``carnk-ld annotate``).

Mentions are found with spaCy: a blank English pipeline (``spacy.blank("en")``, the tokenizer
only; no model is loaded or downloaded) and its ``PhraseMatcher``, over a lexicon of the
ontology's labels, synonyms and the labels of exactly or closely mapped external terms
(:class:`Lexicon`). Each entry also matches its hyphen/space variants ("CAR-NK" and "CAR NK")
and its plural or singular; entries written as acronyms ("UCB", "CAR-T") match only as written,
all others in any case. Where matches overlap, the longest wins (``spacy.util.filter_spans``).

Cues follow the ConText algorithm (Harkema et al. 2009, the generalisation of NegEx): a trigger
phrase has a direction (forward, backward or bidirectional) and qualifies the mentions in its
scope, which ends at a termination term ("but", "however", ...), at the end of a clause (``;``,
``:``) or of the segment, or after :data:`WINDOW` tokens; pseudo-triggers ("no longer", "not
only") contain a cue word but are not cues. medspaCy and negspaCy, which implement ConText for
spaCy, are not available in this project's package index, so the algorithm is implemented here,
over spaCy tokens, with a ``PhraseMatcher`` for the cue phrases. The rules are data:
``carnk_ld/cues.tsv`` (package data, because they are part of the algorithm that the suite's
cases pin, not knowledge of one corpus).

Cue kinds: ``negation`` (the document denies what is in scope: polarity negated), ``hedge`` (it
says it may hold: modality possible), ``frequency`` (how often it holds: a frequency word of the
facts format), ``preliminary`` (the finding is called preliminary).

Annotations are never facts and never part of the release: they are written only where
``carnk-ld annotate --output`` says, as W3C Web Annotations (``oa:Annotation``, motivated by
``oa:identifying``, the body the ontology term, the target an ``oa:SpecificResource`` on the
document with a ``oa:TextQuoteSelector`` and a ``oa:TextPositionSelector``) in the named graph
:data:`GRAPH_ANNOTATIONS`. A cue is a resource of its own (an ``oa:SpecificResource`` with the
same selectors), linked from each annotation in its scope by ``carnk:negatedBy``,
``carnk:hedgedBy``, ``carnk:frequencyStatedBy`` or ``carnk:markedPreliminaryBy``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyoxigraph as ox

from carnk_ld.constants import BASE, KG, PREFIXES
from carnk_ld.documents import Document, Segment
from carnk_ld.errors import InputError, InputErrors, ValidationFailed
from carnk_ld.vocab import CARNK, DCTERMS, OA, RDF, XSD

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from carnk_ld.mappings import MappingSet
    from carnk_ld.ontology import Ontology
    from carnk_ld.validate import ShapesGraph

#: The named graph annotations are written to; never part of the release.
GRAPH_ANNOTATIONS = KG + "graph/annotations"
CUE_KINDS = ("negation", "hedge", "frequency", "preliminary")
DIRECTIONS = ("forward", "backward", "bidirectional")
#: A cue's scope ends this many tokens after (or before) it, as NegEx's window does: far enough for
#: "no development of CRS or GvHD", near enough that one "not" does not deny a whole long sentence.
WINDOW = 8
#: Tokens that end a clause, and so a cue's scope, besides the termination terms of the rules.
_CLAUSE_ENDS = frozenset({";", ":", ".", "!", "?"})
#: Which lexicon entry matched, best first: an ambiguous span keeps only the terms whose entry ranks best.
MATCHED = ("label", "synonym", "abbreviation", "external label")
#: The properties whose values are synonyms of a term. Related, broad and narrow synonyms name
#: other concepts, so they are not mentions of the term.
SYNONYM_PROPERTIES = (
    PREFIXES["oboInOwl"] + "hasExactSynonym",
    PREFIXES["skos"] + "altLabel",
)
#: The link from a mention's annotation to a cue of each kind (declared in ontology/carnk.ttl).
CUE_PROPERTIES = {
    "negation": CARNK.negatedBy,
    "hedge": CARNK.hedgedBy,
    "frequency": CARNK.frequencyStatedBy,
    "preliminary": CARNK.markedPreliminaryBy,
}
_PREFIX_CHARS = 32  # as the facts' evidence selectors
_ACRONYM_RE = re.compile(r"[A-Z0-9][A-Z0-9-]*[A-Z][A-Z0-9-]*s?")


@dataclass(frozen=True)
class Cue:
    """A ConText trigger phrase found in a document."""

    start: int  # character offsets in the document text
    end: int
    text: str
    kind: str  # one of CUE_KINDS
    direction: str  # one of DIRECTIONS
    value: str | None = None  # the facts-file key=word it suggests (polarity=negated), if any


@dataclass(frozen=True)
class Mention:
    """A span of a segment that names an ontology term."""

    segment: int  # the segment's number as carnk_ld.documents numbers it
    start: int  # character offsets in the document text (document.text[start:end] == text)
    end: int
    text: str
    term: str  # the ontology term's IRI
    matched: str  # "label" | "synonym" | "abbreviation" | "external label" (which lexicon entry)
    cues: tuple[Cue, ...]  # the cues whose scope covers the mention


@dataclass(frozen=True)
class CueRule:
    """One row of ``carnk_ld/cues.tsv``."""

    phrase: str
    kind: str  # a cue kind, "pseudo" or "termination"
    direction: str
    value: str | None


@dataclass(frozen=True)
class Entry:
    """A surface form of a term: the text a mention must match, and where it comes from."""

    text: str
    term: str
    matched: str  # one of MATCHED


@functools.cache
def _nlp() -> Language:
    import spacy  # imported on first use: it takes a second, and only annotate and suggest need it
    from spacy.util import compile_infix_regex

    nlp = spacy.blank("en")
    # Citation markers are glued to the word they follow ("neurotoxicity[1]", "cells.[1][2]"); spaCy's
    # English rules keep them in the word, which would hide the word from every pattern.
    infixes = [*(nlp.Defaults.infixes or ()), r"[\[\]]", r"\.(?=\[)"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer  # type: ignore[union-attr]
    return nlp


@functools.cache
def cue_rules() -> tuple[CueRule, ...]:
    """The cue rules of ``carnk_ld/cues.tsv``, in file order."""
    text = resources.files("carnk_ld").joinpath("cues.tsv").read_text(encoding="utf-8")
    rules = []
    lines = [line for line in text.split("\n") if line and not line.startswith("#")]
    assert lines[0].split("\t") == ["phrase", "kind", "direction", "value"], "cues.tsv: unexpected header"
    for line in lines[1:]:
        phrase, kind, direction, value = line.split("\t")
        assert kind in (*CUE_KINDS, "pseudo", "termination"), f"cues.tsv: unknown kind {kind!r}"
        assert direction in DIRECTIONS, f"cues.tsv: unknown direction {direction!r}"
        rules.append(CueRule(phrase, kind, direction, value or None))
    return tuple(rules)


@functools.cache
def _cue_matcher() -> tuple[object, dict[int, CueRule]]:
    from spacy.matcher import PhraseMatcher

    nlp = _nlp()
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    by_key: dict[int, CueRule] = {}
    for index, rule in enumerate(cue_rules()):
        key = f"cue-{index}"
        matcher.add(key, [nlp.make_doc(rule.phrase)])
        by_key[nlp.vocab.strings[key]] = rule
    return matcher, by_key


def variants(text: str) -> set[str]:
    """The forms an entry matches besides itself: hyphen/space variants, and the plural or singular.

    >>> sorted(variants("NK-cell"))
    ['NK cell', 'NK cells', 'NK-cell', 'NK-cells']
    >>> len(variants("CAR-NK cell therapy"))  # 2^3 hyphen/space choices, each singular and plural
    16
    """
    parts = re.split(r"(?<=\w)([ -])(?=\w)", text)
    words, separators = parts[0::2], parts[1::2]
    if len(separators) <= 4:
        choices = list(itertools.product(" -", repeat=len(separators)))
    else:  # 2^n grows fast; long entries keep their own form and the all-space and all-hyphen ones
        choices = [tuple(separators), (" ",) * len(separators), ("-",) * len(separators)]
    forms = set()
    for chosen in choices:
        form = words[0] + "".join(sep + word for sep, word in zip(chosen, words[1:], strict=True))
        forms.add(form)
        forms.add(_other_number(form))
    forms.discard("")
    return forms


def _other_number(form: str) -> str:
    """The plural of a singular last word, or the singular of a plural one (English rules of thumb)."""
    head, last = form.rsplit(" ", 1) if " " in form else ("", form)
    sep = " " if head else ""
    if not last or not last[-1].isalpha():
        return form
    lower = last.lower()
    if lower.endswith("ies") and len(last) > 4:
        other = last[:-3] + "y"
    elif lower.endswith(("sses", "xes", "ches", "shes")):
        other = last[:-2]
    elif lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        other = last[:-1]
    elif lower.endswith("y") and len(last) > 2 and lower[-2] not in "aeiou":
        other = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "ch", "sh")):
        other = last + "es"
    else:
        other = last + "s"
    return head + sep + other


def is_acronym(text: str) -> bool:
    """Whether an entry is written as an acronym (no lowercase letter but a final plural s): matched as written.

    >>> [is_acronym(t) for t in ("UCB", "CAR-T", "CARs", "GvHD", "NK cell")]
    [True, True, True, False, False]
    """
    return bool(_ACRONYM_RE.fullmatch(text))


class Lexicon:
    """The surface forms of the ontology's classes and individuals, compiled into spaCy matchers.

    Built once per ontology and mapping set and reused for every document. Mention targets are
    the carnk: classes and individuals, except the controlled values of the facts format (the
    individuals with a ``skos:notation``, such as ``carnk:Usually``), which are words of the
    format, not concepts a document mentions. Properties are never targets.
    """

    def __init__(self, entries: Iterable[Entry], labels: dict[str, str]):
        from spacy.matcher import PhraseMatcher

        nlp = _nlp()
        self.entries = tuple(sorted(set(entries), key=lambda e: (e.term, MATCHED.index(e.matched), e.text)))
        self.labels = dict(labels)
        self._exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._folded = PhraseMatcher(nlp.vocab, attr="LOWER")
        # key -> term -> the best rank of the entries of that term the key's pattern stands for
        targets: dict[str, dict[str, int]] = defaultdict(dict)
        for entry in self.entries:
            rank = MATCHED.index(entry.matched)
            acronym = is_acronym(entry.text)
            for form in variants(entry.text) if not acronym else {entry.text, entry.text + "s"}:
                key = ("A|" + form) if acronym else ("L|" + form.lower())
                known = targets[key].get(entry.term)
                if known is None or rank < known:
                    targets[key][entry.term] = rank
        self._targets: dict[int, dict[str, int]] = {}
        for key in sorted(targets):
            pattern = nlp.make_doc(key[2:])
            (self._exact if key.startswith("A|") else self._folded).add(key, [pattern])
            self._targets[nlp.vocab.strings[key]] = targets[key]

    @classmethod
    def of(cls, ontology: Ontology, mappings: MappingSet | None) -> Lexicon:
        """The lexicon of an ontology (labels, synonyms) and of its mappings' external labels."""
        targets = {
            iri: term
            for iri, term in ontology.terms.items()
            if iri.startswith(BASE) and term.kind in ("class", "individual") and not term.notations
        }
        entries: list[Entry] = []
        labels: dict[str, str] = {}
        for iri, term in targets.items():
            if term.label:
                labels[iri] = term.label
                entries.append(Entry(term.label, iri, "label"))
        synonym_properties = {ox.NamedNode(p) for p in SYNONYM_PROPERTIES}
        for t in ontology.triples:
            if (
                t.predicate in synonym_properties
                and isinstance(t.subject, ox.NamedNode)
                and t.subject.value in targets
                and isinstance(t.object, ox.Literal)
                and t.object.language in (None, "en")
            ):
                text = t.object.value
                entries.append(Entry(text, t.subject.value, "abbreviation" if is_acronym(text) else "synonym"))
        if mappings is not None:
            for m in mappings.mappings:
                close = m.predicate in ("skos:exactMatch", "skos:closeMatch")
                if close and not m.no_term and m.subject in targets and m.object_label.strip():
                    entries.append(Entry(m.object_label.strip(), m.subject, "external label"))
        return cls((e for e in entries if len(e.text.strip()) > 1), labels)

    def label(self, term: str) -> str:
        """The term's label, or its IRI when it has none."""
        return self.labels.get(term, term)

    def matches(self, doc: Doc) -> list[tuple[int, int, dict[str, int]]]:
        """Longest non-overlapping matches in a tokenised text: (start token, end token, term -> rank)."""
        from spacy.tokens import Span
        from spacy.util import filter_spans

        found: dict[tuple[int, int], dict[str, int]] = {}
        for matcher in (self._exact, self._folded):
            for key, start, end in matcher(doc):
                terms = found.setdefault((start, end), {})
                for term, rank in self._targets[key].items():
                    if term not in terms or rank < terms[term]:
                        terms[term] = rank
        kept = filter_spans([Span(doc, start, end) for start, end in sorted(found)])
        return [(span.start, span.end, found[(span.start, span.end)]) for span in sorted(kept, key=lambda s: s.start)]


@dataclass(frozen=True)
class _Scoped:
    cue: Cue
    first: int  # tokens of the scope, [first, last), the cue's own included
    last: int
    cue_first: int  # the cue's tokens
    cue_last: int

    def covers(self, first: int, last: int) -> bool:
        """Whether the scope reaches tokens [first, last) of a mention that is not the cue's own words."""
        own = self.cue_first <= first and last <= self.cue_last
        return first < self.last and self.first < last and not own


def _segment_cues(segment: Segment, doc: Doc) -> list[_Scoped]:
    """The cues of one tokenised segment with the tokens their scopes cover (ConText)."""
    from spacy.tokens import Span
    from spacy.util import filter_spans

    matcher, rules = _cue_matcher()
    spans = [Span(doc, start, end, label=key) for key, start, end in matcher(doc)]  # type: ignore[operator]
    kept = sorted(filter_spans(spans), key=lambda s: s.start)  # longest wins: pseudo-triggers hide their cue word
    stops = {i for i, token in enumerate(doc) if token.text in _CLAUSE_ENDS}
    for span in kept:
        if rules[span.label].kind == "termination":
            stops.update(range(span.start, span.end))
    scoped = []
    for span in kept:
        rule = rules[span.label]
        if rule.kind not in CUE_KINDS:
            continue
        first, last = span.start, span.end
        if rule.direction in ("forward", "bidirectional"):
            last = span.end
            while last < len(doc) and last < span.end + WINDOW and last not in stops:
                last += 1
        if rule.direction in ("backward", "bidirectional"):
            first = span.start
            while first > 0 and first > span.start - WINDOW and (first - 1) not in stops:
                first -= 1
        start = segment.start + doc[span.start].idx
        end = segment.start + doc[span.end - 1].idx + len(doc[span.end - 1].text)
        cue = Cue(start, end, segment.text[start - segment.start : end - segment.start], rule.kind, rule.direction,
                  rule.value)  # fmt: skip
        scoped.append(_Scoped(cue, first, last, span.start, span.end))
    return scoped


def _segment_mentions(segment: Segment, doc: Doc, lexicon: Lexicon, scoped: list[_Scoped]) -> list[Mention]:
    mentions = []
    for first, last, terms in lexicon.matches(doc):
        best = min(terms.values())
        start = segment.start + doc[first].idx
        end = segment.start + doc[last - 1].idx + len(doc[last - 1].text)
        text = segment.text[start - segment.start : end - segment.start]
        cues = tuple(sorted((s.cue for s in scoped if s.covers(first, last)), key=_cue_order))
        for term in sorted(t for t, rank in terms.items() if rank == best):  # the documented rule for ambiguity
            mentions.append(Mention(segment.index, start, end, text, term, MATCHED[best], cues))
    return mentions


def _cue_order(cue: Cue) -> tuple[int, int, str]:
    return (cue.start, cue.end, cue.kind)


def _analyse(document: Document, lexicon: Lexicon | None) -> tuple[list[Mention], list[Cue]]:
    nlp = _nlp()
    mentions: list[Mention] = []
    cues: list[Cue] = []
    for segment in document.segments:
        doc = nlp.make_doc(segment.text)
        scoped = _segment_cues(segment, doc)
        cues.extend(s.cue for s in scoped)
        if lexicon is not None:
            mentions.extend(_segment_mentions(segment, doc, lexicon, scoped))
    mentions.sort(key=lambda m: (m.start, m.end, m.term))
    cues.sort(key=_cue_order)
    return mentions, cues


def annotate(document: Document, lexicon: Lexicon) -> list[Mention]:
    """Every mention of an ontology term in the document's segments, sorted by (start, end, term).

    A span that names several terms with entries of the same rank (:data:`MATCHED`) is one
    mention of each; a better-ranked entry (a label over a synonym) hides the others.
    """
    return _analyse(document, lexicon)[0]


def cues_in(document: Document) -> list[Cue]:
    """Every negation, hedge, frequency and preliminary cue of the document, sorted by offsets."""
    return _analyse(document, None)[1]


# -- RDF ---------------------------------------------------------------------------------------


def annotation_iri(document: Document, mention: Mention) -> str:
    """``kg:annotation/<doc>/<start>-<end>/<TermLocalName>``: content-based, so the same inputs give the same IRI."""
    local = mention.term[len(BASE) :] if mention.term.startswith(BASE) else re.sub(r"\W", "_", mention.term)
    return f"{KG}annotation/{document.doc_id}/{mention.start}-{mention.end}/{local}"


def cue_iri(document: Document, cue: Cue) -> str:
    """``kg:annotation/<doc>/cue/<start>-<end>``."""
    return f"{KG}annotation/{document.doc_id}/cue/{cue.start}-{cue.end}"


def _target(node: ox.NamedNode, document: Document, start: int, end: int, out: list[ox.Triple]) -> None:
    """An ``oa:SpecificResource`` on the document with a quote and a position selector (``…/quote``, ``…/position``)."""
    quote = ox.NamedNode(node.value + "/quote")
    position = ox.NamedNode(node.value + "/position")
    text = document.text
    out.append(ox.Triple(node, RDF.type, OA.SpecificResource))
    out.append(ox.Triple(node, OA.hasSource, ox.NamedNode(document.iri)))
    out.append(ox.Triple(node, OA.hasSelector, quote))
    out.append(ox.Triple(node, OA.hasSelector, position))
    out.append(ox.Triple(quote, RDF.type, OA.TextQuoteSelector))
    out.append(ox.Triple(quote, OA.exact, ox.Literal(text[start:end])))
    prefix, suffix = text[max(0, start - _PREFIX_CHARS) : start], text[end : end + _PREFIX_CHARS]
    if prefix:
        out.append(ox.Triple(quote, OA.prefix, ox.Literal(prefix)))
    if suffix:
        out.append(ox.Triple(quote, OA.suffix, ox.Literal(suffix)))
    out.append(ox.Triple(position, RDF.type, OA.TextPositionSelector))
    out.append(ox.Triple(position, OA.start, ox.Literal(str(start), datatype=XSD.nonNegativeInteger)))
    out.append(ox.Triple(position, OA.end, ox.Literal(str(end), datatype=XSD.nonNegativeInteger)))


def annotation_triples(document: Document, mentions: Iterable[Mention]) -> list[ox.Triple]:
    """The Web Annotations of a document's mentions, with their cues (no blank nodes)."""
    out: list[ox.Triple] = []
    cues: dict[str, Cue] = {}
    for mention in mentions:
        node = ox.NamedNode(annotation_iri(document, mention))
        out.append(ox.Triple(node, RDF.type, OA.Annotation))
        out.append(ox.Triple(node, OA.motivatedBy, OA.identifying))
        out.append(ox.Triple(node, OA.hasBody, ox.NamedNode(mention.term)))
        target = ox.NamedNode(node.value + "/target")
        out.append(ox.Triple(node, OA.hasTarget, target))
        _target(target, document, mention.start, mention.end, out)
        for cue in mention.cues:
            iri = cue_iri(document, cue)
            cues[iri] = cue
            out.append(ox.Triple(node, CUE_PROPERTIES[cue.kind], ox.NamedNode(iri)))
    for iri, cue in sorted(cues.items()):
        _target(ox.NamedNode(iri), document, cue.start, cue.end, out)
    return out


def document_context(document: Document) -> list[ox.Triple]:
    """What the release says about a document that the shapes read (its type, title, checksum, length).

    Annotations are validated with it, as the release's evidence is, but it is not written with them.
    """
    node = ox.NamedNode(document.iri)
    return [
        ox.Triple(node, RDF.type, CARNK.Document),
        ox.Triple(node, DCTERMS.title, ox.Literal(document.path.name)),
        ox.Triple(node, CARNK.sha256, ox.Literal(document.sha256)),
        ox.Triple(node, CARNK.characterCount, ox.Literal(str(len(document.text)), datatype=XSD.nonNegativeInteger)),
    ]


def offset_problems(document: Document, mentions: Iterable[Mention]) -> list[str]:
    """What SHACL cannot check: each quote is the document's text at its position (empty when all are)."""
    problems = []
    for mention in mentions:
        spans = [(mention.start, mention.end, mention.text)] + [(c.start, c.end, c.text) for c in mention.cues]
        for start, end, text in spans:
            if not (0 <= start < end <= len(document.text)) or document.text[start:end] != text:
                problems.append(f"{document.doc_id} {start}-{end}: {text!r} is not the document's text there")
    return problems


# -- the command ---------------------------------------------------------------------------------

FORMATS = ("text", "nq", "ttl", "jsonld")
#: The first line of every annotate output but JSON-LD: how --output recognises a file it may replace.
HEADER = b"# carnk-ld annotate: "
_JSONLD_MARK = f'"@id": "{GRAPH_ANNOTATIONS}"'.encode()


@dataclass(frozen=True)
class Annotated:
    """One document with its mentions."""

    document: Document
    shown: str  # its path as the corpus names it: documents/x.txt
    mentions: list[Mention]


def corpus_documents(root: Path, wanted: Iterable[Path] = ()) -> list[tuple[Path, Path]]:
    """The documents to annotate: (file, path shown) of every document, or of those named (``documents/X.txt``).

    A named path is taken relative to the working directory or, failing that, to the corpus root; one
    that is not a document of the corpus is an input error.
    """
    from carnk_ld.constants import DOCUMENTS_DIR
    from carnk_ld.corpusfiles import corpus_files

    shown_dir = Path(DOCUMENTS_DIR)
    files = corpus_files(root / DOCUMENTS_DIR, (".txt",), shown_dir)
    by_real = {path.resolve(): path for path in files}
    wanted = list(wanted)
    if not wanted:
        return [(path, shown_dir / path.name) for path in files]
    chosen: list[tuple[Path, Path]] = []
    errors: list[InputError] = []
    for name in wanted:
        found = next((by_real[c.resolve()] for c in (name, root / name) if c.resolve() in by_real), None)
        if found is None:
            errors.append(
                InputError(
                    name,
                    "not a document of the corpus",
                    f"put the text in {DOCUMENTS_DIR}/ as NAME.txt first (NAME becomes part of its IRIs), "
                    f"then give {DOCUMENTS_DIR}/NAME.txt",
                )
            )
        elif (found, shown_dir / found.name) not in chosen:
            chosen.append((found, shown_dir / found.name))
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return sorted(chosen)


def read_corpus(root: Path, wanted: Iterable[Path] = ()) -> tuple[Ontology, Lexicon, list[Document]]:
    """The corpus's ontology, the lexicon of it and its mappings, and its documents (all, or those named).

    Every document is read before any is annotated, so that the errors of all of them are reported together.
    """
    from carnk_ld.documents import read_document
    from carnk_ld.mappings import load_corpus_mappings
    from carnk_ld.ontology import load_corpus_ontology

    ontology = load_corpus_ontology(root)
    mapping_set = load_corpus_mappings(root, ontology)
    documents: list[Document] = []
    errors: list[InputError] = []
    for path, shown in corpus_documents(root, wanted):
        try:
            documents.append(read_document(path, display_path=shown))
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return ontology, Lexicon.of(ontology, mapping_set), documents


#: Documents validated together: each batch is validated with the ontology on its own, which gives
#: the whole graph's results because no annotation, target or cue node is shared between documents
#: and the shapes read nothing across them. Batches keep the engine's indexes and the memory small
#: (one batch's triples at a time) and spread the work over worker processes.
VALIDATION_BATCH = 16


def _checked(shapes: ShapesGraph, ontology: Ontology, annotated: list[Annotated]) -> tuple[list[ox.Triple], list[str]]:
    """A batch's triples and what is wrong with them: SHACL results (of severity Violation) and offset problems."""
    from carnk_ld.validate import fast_validate

    problems = [p for item in annotated for p in offset_problems(item.document, item.mentions)]
    triples: list[ox.Triple] = []
    context: list[ox.Triple] = []
    for item in annotated:
        triples += annotation_triples(item.document, item.mentions)
        context += document_context(item.document)
    result = fast_validate(ontology.triples + context + triples, shapes)
    if not result.conforms:
        problems += [v.render() for v in result.violations if v.severity == "Violation"]
    return triples, problems


def validate_annotations(root: Path, ontology: Ontology, annotated: list[Annotated]) -> list[ox.Triple]:
    """The annotations' triples, once they conform to the corpus's shapes (and quote their documents exactly).

    Validated as the build validates the release: every shape of ``shapes/``, the fast engine, the
    ontology in the data graph (so that a body's class is known), with what the release says about
    each document (:func:`document_context`), batch by batch (:data:`VALIDATION_BATCH`). Raises
    :class:`ValidationFailed` otherwise, with the problems of every batch.
    """
    from carnk_ld.constants import SHAPES_DIR
    from carnk_ld.validate import load_shapes

    shapes = load_shapes(root / SHAPES_DIR, display_dir=Path(SHAPES_DIR))
    triples: list[ox.Triple] = []
    problems: list[str] = []
    for first in range(0, len(annotated), VALIDATION_BATCH):
        found, wrong = _checked(shapes, ontology, annotated[first : first + VALIDATION_BATCH])
        triples += found
        problems += wrong
    if problems:
        raise ValidationFailed("\n".join(problems) + "\n", len(problems))
    return triples


@dataclass(frozen=True)
class _Job:
    """What every batch of ``carnk-ld annotate`` reads (handed to forked workers, not pickled)."""

    ontology: Ontology
    lexicon: Lexicon
    shapes: ShapesGraph
    documents: list[Document]
    fmt: str


def _annotate_batch(job: _Job, index: int) -> tuple[bytes, list[str]]:
    """Batch ``index``: its rendered annotations, or the problems that keep them from being written."""
    from carnk_ld.constants import DOCUMENTS_DIR

    documents = job.documents[index * VALIDATION_BATCH : (index + 1) * VALIDATION_BATCH]
    annotated = [Annotated(d, f"{DOCUMENTS_DIR}/{d.path.name}", annotate(d, job.lexicon)) for d in documents]
    triples, problems = _checked(job.shapes, job.ontology, annotated)
    if problems:
        return b"", problems
    return _render_batch(job.fmt, annotated, triples, job.lexicon), []


def write_annotations(
    root: Path, wanted: Iterable[Path], fmt: str, sink: BinaryIO, *, jobs: int = 0
) -> tuple[int, int]:
    """Annotate the corpus (or the documents named) and write the annotations in ``fmt`` to ``sink``.

    Documents are annotated, validated and rendered in batches (over ``jobs`` worker processes,
    0: one per core, at most 4), each written once it conforms: memory holds one batch's
    triples per worker. Raises :class:`ValidationFailed` with every batch's problems when any
    batch fails; what was written to ``sink`` is then incomplete and must be discarded (the
    command writes to a temporary file). Returns the numbers of documents and of annotated bytes.
    """
    from carnk_ld.constants import SHAPES_DIR
    from carnk_ld.validate import load_shapes
    from carnk_ld.workers import Workers

    ontology, lexicon, documents = read_corpus(root, wanted)
    shapes = load_shapes(root / SHAPES_DIR, display_dir=Path(SHAPES_DIR))
    job = _Job(ontology, lexicon, shapes, documents, fmt)
    frame = _frame(fmt)
    written = sink.write(frame.head)
    problems: list[str] = []
    first = True
    batches = list(range((len(documents) + VALIDATION_BATCH - 1) // VALIDATION_BATCH))
    for chunk, wrong in Workers(jobs).imap(_annotate_batch, job, batches):
        problems += wrong
        if problems or not chunk:
            continue  # once a batch fails nothing more is written, but every batch is still checked
        written += sink.write((frame.lead if first else frame.separator) + chunk)
        first = False
    if problems:
        raise ValidationFailed("\n".join(problems) + "\n", len(problems))
    written += sink.write(frame.empty_tail if first else frame.tail)
    return len(documents), written


@dataclass(frozen=True)
class _Frame:
    """What a format writes around its batches."""

    head: bytes  # before everything
    separator: bytes = b""  # between two batches
    lead: bytes = b""  # before the first batch
    tail: bytes = b""  # after the last batch
    empty_tail: bytes = b""  # after the head, when there is no batch


def _frame(fmt: str) -> _Frame:
    from carnk_ld.serialise import jsonld_document, turtle_prefix_block

    graph = b" <" + GRAPH_ANNOTATIONS.encode() + b">\n"
    if fmt == "text":
        return _Frame(HEADER + b"concept mentions with their negation and hedging cues\n")
    if fmt == "nq":
        return _Frame(HEADER + b"W3C Web Annotations in the named graph" + graph)
    if fmt == "ttl":
        return _Frame(HEADER + b"W3C Web Annotations of the named graph" + graph + turtle_prefix_block(), b"\n")
    if fmt == "jsonld":
        empty = jsonld_document([])  # the layout of serialise.jsonld_document, with the graph's @id
        context = empty[: empty.index(b',\n "@graph": []')]
        return _Frame(context + b",\n " + _JSONLD_MARK + b',\n "@graph": [', b",\n  ", b"\n  ", b"\n ]\n}\n",
                      b"]\n}\n")  # fmt: skip
    raise ValueError(f"unknown format {fmt!r}")


def _render_batch(fmt: str, annotated: list[Annotated], triples: list[ox.Triple], lexicon: Lexicon) -> bytes:
    """One batch's annotations, to be written between the :func:`_frame` parts."""
    from carnk_ld.graph import sort_triples
    from carnk_ld.rdfio import serialize_bytes
    from carnk_ld.serialise import jsonld_nodes, sorted_nquads, turtle_prefix_block

    if fmt == "text":
        return render_text(annotated, lexicon)
    if not triples:
        return b""
    ordered = sort_triples(triples)
    if fmt == "nq":
        return sorted_nquads({GRAPH_ANNOTATIONS: ordered})
    if fmt == "ttl":
        data = serialize_bytes(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return data.removeprefix(turtle_prefix_block())
    if fmt == "jsonld":
        return ",\n  ".join(text for _, text in jsonld_nodes(ordered)).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")


def render_text(annotated: list[Annotated], lexicon: Lexicon) -> bytes:
    """One line per mention, for curators: ``documents/x.txt:LINE:COL  segment N  "surface"  ->  carnk:Term (label)``.

    Each cue in the mention's scope follows in brackets (``[negated by "no"]``).
    """
    from carnk_ld.vocab import compact_iri

    words = {"negation": "negated by", "hedge": "hedged by", "frequency": "frequency", "preliminary": "preliminary"}
    lines = []
    for item in annotated:
        text = item.document.text
        for m in item.mentions:
            line = item.document.line_of(m.start)
            column = m.start - (text.rfind("\n", 0, m.start) + 1) + 1
            cues = "".join(f'  [{words[c.kind]} "{c.text}"]' for c in m.cues)
            lines.append(
                f'{item.shown}:{line}:{column}  segment {m.segment}  "{m.text}"  ->  '
                f"{compact_iri(m.term)} ({lexicon.label(m.term)}){cues}\n"
            )
    return "".join(lines).encode("utf-8")


def is_annotations_file(path: Path) -> bool:
    """Whether ``path`` is empty or was written by ``carnk-ld annotate`` (so ``--output`` may replace it)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return not head or head.startswith(HEADER) or (head.startswith(b"{\n") and _JSONLD_MARK in head)
