"""Draft facts for the segments a facts file does not yet account for (``carnk-ld suggest``).

A suggestion relates two mentions of one segment (:mod:`carnk_ld.annotate`), the first as subject
and the second as object, by the predicate that fits them best:

- the predicate's ``schema:domainIncludes`` must hold the subject and its ``schema:rangeIncludes``
  the object, as the facts reader checks (a class or a subclass of it, or a named individual of
  it); ``is_a`` fits two classes the ontology already says are subclass and superclass, when the
  text between them says so ("is a", "form of");
- among those, a predicate whose label or synonym is written between the two mentions ("carries
  a risk of" for ``hasToxicityRisk``) ranks first, then the one with the narrowest domain and
  range (a predicate for any thing fits every pair, and suggests nothing unless its words are
  there); each mention between the two lowers the rank, and each object gets one suggestion;
- polarity, modality and frequency come from the cues (negation, hedge, frequency) whose scope
  covers the object ("do not cause GvHD"); a preliminary cue becomes a note.

The quote is the smallest span of the segment holding both mentions, the words between them and
those cues, copied exactly; where that text occurs more than once in the document it grows a word
at a time on each side until it is unique (the facts reader's rule), and a quote that would
include a citation marker is not suggested. Relation facts carry no numbers, so no number enters
a suggestion that its quote does not state.

The suggestions are drafts, written as commented YAML blocks in the facts format that the curator
accepts by uncommenting (:func:`render`); they are never read by the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.annotate import Cue, Lexicon, Mention, annotate
from carnk_ld.citations import MARKER_RE
from carnk_ld.constants import BASE, PREFIXES
from carnk_ld.documents import Document, Segment
from carnk_ld.facts import FACTS_SCHEMA, IS_A
from carnk_ld.ontology import OWL_THING, Ontology
from carnk_ld.yamlreader import yaml_string

#: At most this many suggestions per segment: a sentence rarely states more claims, and a long
#: list of weak drafts costs the curator more than it saves.
PER_SEGMENT = 3
_IS_A_WORDS = ("is a", "is an", "are a", "are an", "form of", "type of", "kind of", "subset of", "class of")
_SYNONYM = ox.NamedNode(PREFIXES["oboInOwl"] + "hasExactSynonym")


@dataclass(frozen=True)
class Suggestion:
    """A drafted fact: the facts-file keys, with the segment and cues it was drafted from."""

    segment: Segment
    fact_id: str
    quote: str
    subject: str  # IRI
    predicate: str  # IRI of an annotation property, or carnk_ld.facts.IS_A
    object: str  # IRI
    polarity: str | None  # facts-file words (skos:notation); None where the default applies
    modality: str | None
    frequency: str | None
    note: str | None
    cues: tuple[Cue, ...]
    score: float


@dataclass(frozen=True)
class _Predicate:
    iri: str
    domain: str
    range: str
    words: tuple[str, ...]  # its label and synonyms, lower case


def fact_predicates(ontology: Ontology) -> list[_Predicate]:
    """The predicates a drafted fact may use: the carnk: annotation properties with a domain and a range.

    The properties that the facts format writes as keys of a study, an arm or an outcome (and
    ``comparedTo``) are left out: a relation fact does not use them.
    """
    keyed = {
        key.term.prop
        for section in FACTS_SCHEMA.values()
        for key in section.keys
        if key.term is not None and key.term.prop is not None
    }
    synonyms: dict[str, list[str]] = {}
    for t in ontology.triples:
        if t.predicate == _SYNONYM and isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.Literal):
            synonyms.setdefault(t.subject.value, []).append(t.object.value.lower())
    found = []
    for iri, term in sorted(ontology.terms.items()):
        if term.kind != "annotation property" or not iri.startswith(BASE) or iri in keyed:
            continue
        if term.domain is None or term.range is None:
            continue
        words = tuple(sorted({*(synonyms.get(iri, [])), *([term.label.lower()] if term.label else [])}))
        found.append(_Predicate(iri, term.domain, term.range, words))
    return found


def _within(ontology: Ontology, iri: str, expected: str) -> bool:
    """The facts reader's test: a class within ``expected``, or a named individual of it."""
    term = ontology.terms.get(iri)
    if term is None:
        return False
    if term.kind == "individual":
        return any(ontology.is_subclass(t, expected) for t in term.types)
    return ontology.is_subclass(iri, expected)


def _narrowness(ontology: Ontology, cls: str) -> int:
    return 0 if cls == OWL_THING else len(ontology.ancestors(cls))


def _says(between: str, words: Iterable[str]) -> bool:
    """Whether the text between two mentions writes one of a predicate's words (an -s or -es form too)."""
    text = " " + re.sub(r"\W+", " ", between.lower()) + " "
    for word in words:
        stem = re.sub(r"\W+", " ", word).strip()
        if not stem:
            continue
        forms = {stem, stem.removesuffix("s"), stem.removesuffix("es"), stem + "s"}
        if any(f" {form} " in text for form in forms if form):
            return True
    return False


def _best(
    ontology: Ontology, predicates: list[_Predicate], subject: str, obj: str, between: str
) -> tuple[str, float] | None:
    """The predicate that fits (subject, object) best with its score, or None when none fits well enough."""
    best: tuple[float, str] | None = None
    s_term, o_term = ontology.terms.get(subject), ontology.terms.get(obj)
    if s_term is None or o_term is None:
        return None
    if s_term.kind == "class" and o_term.kind == "class" and subject != obj and ontology.is_subclass(subject, obj):
        if _says(between, _IS_A_WORDS):  # a subclass axiom alone fits every "NK cells ... cells"
            best = (8.0, IS_A)
    for p in predicates:
        if not (_within(ontology, subject, p.domain) and _within(ontology, obj, p.range)):
            continue
        says = _says(between, p.words)
        narrow = _narrowness(ontology, p.domain) + _narrowness(ontology, p.range)
        if not says and (p.domain == OWL_THING or p.range == OWL_THING):
            continue  # fits every pair: only its own words make it a suggestion
        score = (5.0 if says else 0.0) + min(narrow, 8) * 0.25
        if best is None or score > best[0] or (score == best[0] and p.iri < best[1]):
            best = (score, p.iri)
    return (best[1], best[0]) if best else None


def _slug(iri: str) -> str:
    local = iri[len(BASE) :] if iri.startswith(BASE) else iri.rsplit("/", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", local)
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-") or "fact"


def _unique_quote(document: Document, segment: Segment, start: int, end: int) -> str | None:
    """The smallest quote around [start, end) within the segment that occurs once in the document."""
    text = document.text
    grow_left = True
    while True:
        quote = text[start:end]
        if text.count(quote) == 1:
            return quote
        if start <= segment.start and end >= segment.end:
            return None
        if (grow_left and start > segment.start) or end >= segment.end:
            start = _word_before(text, segment.start, start)
        else:
            end = _word_after(text, end, segment.end)
        grow_left = not grow_left


def _word_before(text: str, floor: int, start: int) -> int:
    i = start
    while i > floor and text[i - 1].isspace():
        i -= 1
    while i > floor and not text[i - 1].isspace():
        i -= 1
    return i


def _word_after(text: str, end: int, ceiling: int) -> int:
    i = end
    while i < ceiling and text[i].isspace():
        i += 1
    while i < ceiling and not text[i].isspace():
        i += 1
    return i


def qualifiers(cues: Iterable[Cue]) -> tuple[str | None, str | None, str | None, str | None]:
    """polarity, modality, frequency and note from cues (the first cue of each kind in text order)."""
    values: dict[str, str] = {}
    preliminary = None
    for cue in sorted(cues, key=lambda c: (c.start, c.end)):
        if cue.kind == "preliminary":
            preliminary = preliminary or cue.text
        elif cue.value:
            key, word = cue.value.split("=", 1)
            values.setdefault(key, word)
    note = f"the document calls this {preliminary!r}; check whether it is a preliminary result" if preliminary else None
    return values.get("polarity"), values.get("modality"), values.get("frequency"), note


def suggest(
    document: Document,
    lexicon: Lexicon,
    ontology: Ontology,
    covered_segments: Iterable[int],
    *,
    taken_ids: Iterable[str] = (),
) -> list[Suggestion]:
    """Drafted facts for each segment not in ``covered_segments`` (reference entries need none), in segment order.

    ``taken_ids`` are the ids the facts file already uses; drafted ids differ from them and from each other.
    """
    covered = set(covered_segments)
    predicates = fact_predicates(ontology)
    mentions = annotate(document, lexicon)
    by_segment: dict[int, list[Mention]] = {}
    for m in mentions:
        by_segment.setdefault(m.segment, []).append(m)
    taken = set(taken_ids)
    out: list[Suggestion] = []
    for segment in document.segments:
        if segment.index in covered or segment.kind == "reference":
            continue
        drafts = _segment_drafts(document, segment, by_segment.get(segment.index, []), ontology, predicates)
        for draft in drafts:
            fact_id = base = draft.fact_id
            n = 2
            while fact_id in taken:
                fact_id = f"{base}-{n}"
                n += 1
            taken.add(fact_id)
            out.append(draft if fact_id == draft.fact_id else _with_id(draft, fact_id))
    return out


def _with_id(s: Suggestion, fact_id: str) -> Suggestion:
    return Suggestion(s.segment, fact_id, s.quote, s.subject, s.predicate, s.object, s.polarity, s.modality,
                      s.frequency, s.note, s.cues, s.score)  # fmt: skip


def _segment_drafts(
    document: Document, segment: Segment, mentions: list[Mention], ontology: Ontology, predicates: list[_Predicate]
) -> list[Suggestion]:
    text = document.text
    spans: dict[tuple[int, int], list[Mention]] = {}
    for m in mentions:
        spans.setdefault((m.start, m.end), []).append(m)
    ordered = sorted(spans)
    candidates: list[Suggestion] = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            between = text[first[1] : second[0]]
            options = []
            for a in spans[first]:
                for b in spans[second]:
                    if a.term == b.term:
                        continue
                    fit = _best(ontology, predicates, a.term, b.term, between)
                    if fit:
                        options.append((fit[1], a, b, fit[0]))
            if not options:
                continue
            score, a, b, predicate = max(options, key=lambda o: (o[0], o[1].term, o[2].term))
            # nearer pairs first: each mention between them makes the pair less likely a claim of its own
            score -= 2.0 * sum(1 for span in ordered if first[1] <= span[0] and span[1] <= second[0])
            # the cues that qualify the claim are those whose scope reaches its object ("do not cause GvHD")
            cues = set(b.cues)
            start = min([first[0], *(c.start for c in cues)])
            end = max([second[1], *(c.end for c in cues)])
            start, end = max(start, segment.start), min(end, segment.end)
            quote = _unique_quote(document, segment, start, end)
            if quote is None or MARKER_RE.search(quote):
                continue
            polarity, modality, frequency, note = qualifiers(cues)
            fact_id = f"{_slug(a.term)}-{_slug(b.term)}" + ("-not" if polarity == "negated" else "")
            ordered_cues = tuple(sorted(cues, key=lambda c: (c.start, c.end)))
            suggestion = Suggestion(
                segment, fact_id, quote, a.term, predicate, b.term, polarity, modality, frequency, note, ordered_cues,
                score,
            )
            candidates.append(suggestion)
    candidates.sort(key=lambda s: (-s.score, s.quote, s.subject, s.object))
    chosen: list[Suggestion] = []
    for candidate in candidates:
        if len(chosen) == PER_SEGMENT:
            break
        if any(c.object == candidate.object for c in chosen):
            continue  # one claim per object: the best-placed subject
        chosen.append(candidate)
    return sorted(chosen, key=lambda s: (text.find(s.quote), s.fact_id))


def _local(iri: str) -> str:
    if iri == IS_A:
        return "is_a"
    return iri[len(BASE) :] if iri.startswith(BASE) else iri


def render(suggestions: Iterable[Suggestion], segments: Iterable[Segment] = (), *, indent: str = "") -> str:
    """Commented YAML blocks in the facts format, under a ``# segment N: <text>`` line per segment.

    Uncommenting a block (removing ``# `` from the start of each of its lines) under ``facts:``
    gives a fact the reader accepts. ``indent`` is the indentation of the list items under
    ``facts:`` in the file the blocks go into (YAML needs every item of a list at one indentation).
    ``segments`` without a suggestion get their line too, with ``# (no suggestion)``, so the
    output lists every segment still to curate.
    """
    by_segment: dict[int, list[Suggestion]] = {}
    known: dict[int, Segment] = {s.index: s for s in segments}
    for s in suggestions:
        by_segment.setdefault(s.segment.index, []).append(s)
        known.setdefault(s.segment.index, s.segment)
    lines: list[str] = []
    for index in sorted(known):
        segment = known[index]
        lines.append(f"# segment {index}: {' '.join(segment.text.split())}")
        drafts = by_segment.get(index, [])
        if not drafts:
            lines.append("# (no suggestion)")
        lines += blocks(drafts, indent=indent)
        lines.append("")
    return "\n".join(lines)


def blocks(suggestions: Iterable[Suggestion], *, indent: str = "") -> list[str]:
    """The commented lines of each suggestion in the facts format (``# <indent>- id: ...``), in order."""
    lines: list[str] = []
    for s in suggestions:
        lines.append(f"# {indent}- id: {s.fact_id}")
        lines.append(f"# {indent}  quote: {yaml_string(s.quote)}")
        lines.append(f"# {indent}  subject: {_local(s.subject)}")
        lines.append(f"# {indent}  predicate: {_local(s.predicate)}")
        lines.append(f"# {indent}  object: {_local(s.object)}")
        for key, value in (("polarity", s.polarity), ("modality", s.modality), ("frequency", s.frequency)):
            if value:
                lines.append(f"# {indent}  {key}: {value}")
        if s.note:
            lines.append(f"# {indent}  note: {yaml_string(s.note)}")
    return lines


# -- the command ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drafted:
    """What ``carnk-ld suggest`` found for one document."""

    document: Document
    ontology: Ontology
    facts_file: Path  # facts/<doc>.yaml under the root (it may not exist)
    shown: Path  # that path as the corpus names it
    exists: bool
    uncovered: tuple[Segment, ...]  # segments no fact or exclusion accounts for (reference entries aside)
    suggestions: list[Suggestion]


def draft_for(root: Path, path: Path) -> Drafted:
    """Suggestions for the document ``path`` (``documents/X.txt``) of the corpus at ``root``.

    The facts file, where it exists, is read as the build reads it, except that segments it does
    not yet account for are allowed: those are the ones drafted for.
    """
    from carnk_ld.annotate import corpus_documents
    from carnk_ld.constants import FACTS_DIR
    from carnk_ld.documents import read_document
    from carnk_ld.facts import load_facts
    from carnk_ld.mappings import load_corpus_mappings
    from carnk_ld.ontology import load_corpus_ontology
    from carnk_ld.reason import classify

    ((file, shown),) = corpus_documents(root, [path])
    ontology = classify(load_corpus_ontology(root))
    mapping_set = load_corpus_mappings(root, ontology)
    document = read_document(file, display_path=shown)
    facts_file = root / FACTS_DIR / f"{document.doc_id}.yaml"
    facts_shown = Path(FACTS_DIR) / facts_file.name
    exists = facts_file.exists() or facts_file.is_symlink()
    taken: set[str] = set()
    if exists:
        factset = load_facts(
            facts_file, {file.name: document}, ontology, display_path=facts_shown, require_coverage=False
        )
        uncovered = tuple(s for s in factset.unaccounted() if s.kind != "reference")
        taken = {f.fact_id for f in factset.facts} | {s.study_id for s in factset.studies}
    else:
        uncovered = tuple(s for s in document.segments if s.kind != "reference")
    lexicon = Lexicon.of(ontology, mapping_set)
    covered = {s.index for s in document.segments} - {s.index for s in uncovered}
    suggestions = suggest(document, lexicon, ontology, covered, taken_ids=taken)
    return Drafted(document, ontology, facts_file, facts_shown, exists, uncovered, suggestions)


HEADER = (
    "# Suggested facts (carnk-ld suggest), drafted from concept mentions and cues for the segments\n"
    "# that no fact or exclusion accounts for yet. Accept a suggestion by uncommenting its block under\n"
    "# facts: (remove the leading '# '), after checking every key against the text.\n"
)


def appended_text(existing: bytes, drafted: Drafted) -> bytes:
    """What ``suggest --write`` adds at the end of the facts file: the header and the blocks.

    The file's bytes stay as they are; a missing final line break is added first. When the file's
    last top-level key is not ``facts:``, a note says the blocks belong there, since YAML would read
    an uncommented block as part of the section above it. The blocks are indented as the file's
    items under ``facts:`` are.
    """
    text = existing.decode("utf-8", errors="replace")
    keys = re.findall(r"(?m)^([A-Za-z_][\w-]*):", text)
    lead = "" if not existing or existing.endswith(b"\n") else "\n"
    note = ""
    if not keys or keys[-1] != "facts":
        note = "# Move each accepted block under facts: (this file's last section is not facts:).\n"
    items = re.search(r"(?m)^facts:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*( *)- ", text)
    blocks = render(drafted.suggestions, drafted.uncovered, indent=items.group(1) if items else "")
    return (lead + "\n" + HEADER + note + "\n" + blocks).encode("utf-8")
