"""Find ontology terms by what documents call them (``carnk-ld terms``), and list what facts files may say.

A search looks at every name a term goes by: its local name (what a curator writes in a facts
file), its ``rdfs:label``, its synonyms (``oboInOwl:has*Synonym``, ``skos:altLabel``), its
``skos:notation`` (the word a controlled value is written as) and the labels of the external
terms the mapping set links it to (SSSOM ``object_label``). Texts are compared case-, hyphen- and
plural-insensitively, and each term is ranked by its best match:

0. its label or local name is the query;
1. a synonym, notation or mapped external label is the query;
2. a name starts with the query;
3. a name holds every word of the query, or the query as a substring;
4. a name is a close spelling of the query (difflib), as a whole or in a window of as many words.

Ties go to the label before synonyms, notations and external labels, then to the closer match,
then to the local name, so the same ontology always lists the same terms in the same order.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from carnk_ld.constants import BASE, FACTS_DIR, KG, MAPPINGS_DIR, MAPPINGS_FILE, ONTOLOGY_IRI
from carnk_ld.corpusfiles import corpus_file, corpus_files
from carnk_ld.errors import InputError
from carnk_ld.facts import FACTS_SCHEMA, IS_A, FactSet, Section
from carnk_ld.guide import (
    allowed_values,
    definitions,
    describe_term,
    example_fields,
    first_examples,
    key_path,
    key_writers,
    plain_code,
    predicate_terms,
)
from carnk_ld.mappings import NO_TERM, PREDICATES, read_sssom
from carnk_ld.ontology import Ontology, Term
from carnk_ld.vocab import OBOINOWL, RDFS, SKOS, compact_iri
from carnk_ld.yamlreader import YMap, YNode, YScalar, YSeq, load_yaml

#: The annotation properties whose values name a term, with what a hit on them is called.
SYNONYMS = {
    OBOINOWL.hasExactSynonym.value: "synonym",
    OBOINOWL.hasRelatedSynonym.value: "related synonym",
    OBOINOWL.hasNarrowSynonym.value: "narrow synonym",
    OBOINOWL.hasBroadSynonym.value: "broad synonym",
    SKOS.altLabel.value: "alternative label",
    SKOS.notation.value: "notation",
}
#: Which name of a term a tie goes to: the label, the local name, synonyms and notations, then mapped labels.
_FIELD_ORDER = {"label": 0, "name": 1, "notation": 2, "external": 3}
_SYNONYM_ORDER = 2
#: The ranks of a match, best first (see the module docstring).
RANKS = ("exact", "exact", "prefix", "word", "close")
#: How alike (difflib's ratio) a close spelling must be.
CLOSE = 0.8
#: The width text is wrapped at: fixed, so that output is the same on every terminal.
WIDTH = 100
#: Unicode dashes and the other characters that join words in names ("CAR-NK", "IL_15", "CAR19/IL-15").
_JOINERS = re.compile(r"[\s\-\u2010-\u2015_/]+")
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class Name:
    """One name a term goes by: which kind of name it is (``label``, ``synonym``, ...) and its text."""

    field: str
    text: str
    #: For a mapped external label: the external term and the mapping predicate (``NCIT:C62717``, ``broadMatch``).
    source: str = ""

    @property
    def order(self) -> int:
        return _FIELD_ORDER.get(self.field, _SYNONYM_ORDER)

    def describe(self) -> str:
        """What matched, as a hit shows it: ``synonym: CAR-NK``."""
        if self.field == "external":
            return f"mapped label ({self.source}): {self.text}"
        return f"{self.field}: {self.text}"


@dataclass(frozen=True)
class Hit:
    """A term that matches a query, how well (``rank``, see :data:`RANKS`) and through which name."""

    term: Term
    rank: int
    name: Name
    score: float
    parents: tuple[str, ...]
    definition: str

    @property
    def match(self) -> str:
        """The rank in words: exact, prefix, word or close."""
        return RANKS[self.rank]


@dataclass(frozen=True)
class Index:
    """Every carnk: term of an ontology with the names it goes by, ready to search."""

    ontology: Ontology
    names: dict[str, tuple[Name, ...]]
    definitions: dict[str, str]


def build_index(ontology: Ontology, external: dict[str, list[tuple[str, str, str]]]) -> Index:
    """Index the ontology's own terms (not the release's instance data) and the mapped labels of each.

    ``external`` maps a term's IRI to its mappings' ``(object_id, predicate_id, object_label)``.
    """
    found: dict[str, list[Name]] = {}
    for iri, term in ontology.terms.items():
        if not iri.startswith(BASE) or iri.startswith(KG) or iri == ONTOLOGY_IRI:
            continue
        names = [Name("name", term.local_name)]
        if term.label:
            names.append(Name("label", term.label))
        found[iri] = names
    for t in ontology.triples:
        s, p, o = t.subject, t.predicate, t.object
        if isinstance(s, ox.NamedNode) and s.value in found and isinstance(o, ox.Literal):
            if p.value in SYNONYMS:
                found[s.value].append(Name(SYNONYMS[p.value], o.value))
            elif p == RDFS.label and o.value != ontology.terms[s.value].label:
                found[s.value].append(Name("label", o.value))  # a label in another language
    for iri, rows in external.items():
        for curie, predicate, label in rows:
            if iri in found and label:
                found[iri].append(Name("external", label, f"{curie}, {PREDICATES.get(predicate, predicate)} match"))
    return Index(ontology, {iri: tuple(dict.fromkeys(names)) for iri, names in found.items()}, definitions(ontology))


def mapped_labels(root: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Each term's mapped external terms as the mapping set writes them (read, not checked against bioregistry)."""
    path = corpus_file(root / MAPPINGS_DIR, MAPPINGS_FILE, Path(MAPPINGS_DIR))
    _, _, columns, rows = read_sssom(path, display_path=Path(MAPPINGS_DIR) / MAPPINGS_FILE)
    found: dict[str, list[tuple[str, str, str]]] = {}
    for _, cells in rows:
        row = dict(zip(columns, cells, strict=True))
        subject, obj = row["subject_id"], row["object_id"]
        if subject.startswith("carnk:") and obj != NO_TERM:
            found.setdefault(BASE + subject.removeprefix("carnk:"), []).append(
                (obj, row["predicate_id"], row.get("object_label", ""))
            )
    return found


@lru_cache(maxsize=1)
def _inflector() -> Any:
    """inflect's engine, built once (it reads its tables) and only by a search: the other commands do not need it."""
    import inflect

    return inflect.engine()


@lru_cache(maxsize=4096)
def _singular(word: str) -> str:
    """A word in the singular ("lines" -> "line"); a word inflect does not know as a plural stays as it is."""
    single = _inflector().singular_noun(word)
    return single if isinstance(single, str) and single else word


def split_name(name: str) -> str:
    """A local name as words: ``CARNKCellTherapy`` -> ``CARNK Cell Therapy`` (digits stay with the word before).

    >>> split_name("NKCellLine"), split_name("CD19PositiveBCellMalignancy"), split_name("FT516")
    ('NK Cell Line', 'CD19 Positive B Cell Malignancy', 'FT516')
    """
    return " ".join(_CAMEL_RE.findall(name)) or name


_CAMEL_RE = re.compile(r"[A-Z]+[0-9]*(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


def normalise(text: str) -> tuple[str, ...]:
    """The words of a name as compared: case-folded, split at spaces, hyphens, dashes, '_' and '/'.

    >>> normalise("CAR-NK cells"), normalise("NK_cell / lines")
    (('car', 'nk', 'cells'), ('nk', 'cell', 'lines'))
    """
    words = _JOINERS.split(_PUNCTUATION.sub(" ", text.casefold()))
    return tuple(word for word in words if word)


@dataclass(frozen=True)
class _Forms:
    """A text's words as written and in the singular, each spaced and joined ("car nk" and "carnk")."""

    words: tuple[tuple[str, ...], tuple[str, ...]]

    @classmethod
    def of(cls, words: tuple[str, ...]) -> _Forms:
        return cls((words, tuple(_singular(word) for word in words)))

    def pairs(self, other: _Forms) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The forms to compare: as written with as written, singular with singular ("has" is no plural of "ha")."""
        return [(self.words[0], other.words[0]), (self.words[1], other.words[1])]


def _compare(query: _Forms, name: Name) -> tuple[int, float] | None:
    """How a name matches the query: its rank and a score (lower is closer), or None."""
    words = normalise(split_name(name.text)) if name.field == "name" else normalise(name.text)
    if not words:
        return None
    pairs = query.pairs(_Forms.of(words))
    spaced = [(" ".join(q), " ".join(w)) for q, w in pairs]
    joined = [("".join(q), "".join(w)) for q, w in pairs]
    if any(q == w for q, w in spaced + joined):
        return (0 if name.field in ("label", "name") else 1), 0.0
    length = float(len(joined[0][1]))
    if any(w.startswith(q) for q, w in spaced + joined):
        return 2, length
    if any(set(q) <= set(w) for q, w in pairs):
        return 3, length
    if any(q in w for q, w in spaced + joined):
        return 3, length + 1000  # a substring that is no whole word comes after the whole words
    best = 0.0
    q_words, w_words = pairs[1]
    size = len(q_words)
    text = " ".join(q_words)
    windows = {" ".join(w_words[i : i + size]) for i in range(max(1, len(w_words) - size + 1))}
    candidates = [(text, window) for window in sorted(windows | {" ".join(w_words)})]
    candidates.append(("".join(q_words), "".join(w_words)))  # a compound misspelt ("cardnkcelltherapy")
    for mine, theirs in candidates:
        best = max(best, difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio())
    if best < CLOSE:
        return None
    # among equally close windows, the name that is closer as a whole comes first ("therapy" for "therapi")
    whole = difflib.SequenceMatcher(None, text, " ".join(w_words), autojunk=False).ratio()
    return 4, (1.0 - best) + (1.0 - whole) / 1000


def search(index: Index, query: str, *, limit: int | None = None) -> list[Hit]:
    """The terms that match ``query``, best first; each term once, through its best-matching name."""
    words = normalise(query)
    if not words:
        return []
    forms = _Forms.of(words)
    hits: list[tuple[tuple[int, int, float, str], Hit]] = []
    ont = index.ontology
    for iri, names in index.names.items():
        best: tuple[tuple[int, int, float, int, str], Name] | None = None
        for name in names:
            found = _compare(forms, name)
            if found is None:
                continue
            # among equally good names, the one written as the query was (case and hyphens too) is shown
            spelled = 0 if name.text == query else 1 if name.text.casefold() == query.casefold() else 2
            key = (found[0], name.order, found[1], spelled, name.text)
            if best is None or key < best[0]:
                best = (key, name)
        if best is None:
            continue
        term = ont.terms[iri]
        above = sorted(term.types) if term.kind == "individual" else sorted(ont.parents.get(iri, ()))
        hit = Hit(term, best[0][0], best[1], best[0][2], tuple(above), index.definitions.get(iri, ""))
        hits.append(((best[0][0], best[0][1], best[0][2], term.local_name), hit))
    hits.sort(key=lambda item: item[0])
    found_hits = [hit for _, hit in hits]
    return found_hits[:limit] if limit is not None else found_hits


def shown_name(ontology: Ontology, iri: str) -> str:
    """A term as a curator writes it (the local name of a carnk: term), with its label."""
    short = iri[len(BASE) :] if iri.startswith(BASE) else compact_iri(iri)
    term = ontology.terms.get(iri)
    return f"{short} ({term.label})" if term is not None and term.label else short


def render_hits(index: Index, hits: list[Hit]) -> str:
    """The hits for a terminal: the name, kind and label on one line, then what matched, parents and definition."""
    blocks = []
    ont = index.ontology
    for hit in hits:
        term = hit.term
        lines = [f"{term.local_name}  {term.kind}" + (f"  {_quoted(term.label)}" if term.label else "")]
        lines.append(_field("matched", f"{hit.name.describe()} ({hit.match})"))
        above = ", ".join(shown_name(ont, iri) for iri in hit.parents) or "none"
        lines.append(_field("types" if term.kind == "individual" else "parents", above))
        if term.kind.endswith("property"):
            lines.append(_field("domain", shown_name(ont, term.domain) if term.domain else "not declared"))
            lines.append(_field("range", shown_name(ont, term.range) if term.range else "not declared"))
        lines.append(_field("definition", hit.definition or "none"))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


TSV_COLUMNS = ("name", "kind", "label", "parents", "match", "matched", "definition")


def render_hits_tsv(index: Index, hits: list[Hit]) -> str:
    """The hits as tab-separated values with a header (parents as local names, comma-separated)."""
    rows = ["\t".join(TSV_COLUMNS)]
    for hit in hits:
        parents = ",".join(iri[len(BASE) :] if iri.startswith(BASE) else compact_iri(iri) for iri in hit.parents)
        cells = (
            hit.term.local_name,
            hit.term.kind,
            hit.term.label or "",
            parents,
            hit.match,
            hit.name.describe(),
            hit.definition,
        )
        rows.append("\t".join(tsv_cell(cell) for cell in cells))
    return "\n".join(rows)


def tsv_cell(value: str) -> str:
    r"""A value in one TSV cell: backslash, tab and line breaks escaped (``\\``, ``\t``, ``\n``, ``\r``).

    >>> tsv_cell("a\tb\\c")
    'a\\tb\\\\c'
    """
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def suggested_name(query: str) -> str:
    """A local name for a new term from the words of a query: ``cord blood bank`` -> ``CordBloodBank``.

    >>> suggested_name("iPSC-derived NK cells"), suggested_name("2B4 domain")
    ('IPSCDerivedNKCells', 'Term2B4Domain')
    """
    words = [w for w in re.split(r"[^A-Za-z0-9]+", query) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else "Term" + name


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _field(name: str, value: str) -> str:
    """One labelled field of a hit, wrapped at :data:`WIDTH` under its value."""
    head = f"    {name:<11}"
    return textwrap.fill(
        " ".join(value.split()),
        width=WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_long_words=False,
        break_on_hyphens=False,
    )


# -- what a facts file may say -----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyExample:
    """The first value a curated facts file gives a key: where, and the value as written."""

    path: str
    line: int
    value: str


def key_examples(root: Path) -> dict[str, KeyExample]:
    """Each facts-file key's first use (by file name, then line), walked along :data:`FACTS_SCHEMA`.

    A file the YAML reader refuses gives no example; the build reports it.
    """
    found: dict[str, KeyExample] = {}
    for path in corpus_files(root / FACTS_DIR, (".yaml",), Path(FACTS_DIR)):
        shown = (Path(FACTS_DIR) / path.name).as_posix()
        try:
            node = load_yaml(path, display_path=Path(shown))
        except InputError:
            continue
        _walk(node, FACTS_SCHEMA["file"], shown, found)
    return found


def _walk(node: YNode, section: Section, shown: str, found: dict[str, KeyExample]) -> None:
    if not isinstance(node, YMap):
        return
    keys = {key.name: key for key in section.keys}
    for name, (line, value) in node.items.items():
        key = keys.get(name)
        if key is None:
            continue
        found.setdefault(key_path(section, key), KeyExample(shown, line, _written(value)))
        if key.section is None:
            continue
        child = FACTS_SCHEMA[key.section]
        for item in value.items if isinstance(value, YSeq) else [value]:
            _walk(item, child, shown, found)


def _written(node: YNode) -> str:
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return f"a list of {len(node.items)}"
    return "a mapping"


@dataclass(frozen=True)
class Entry:
    """One predicate or facts-file key: its name, where it applies (domain), what it takes (range), an example."""

    kind: str  # "predicate" or "key"
    name: str
    label: str
    domain: str
    range: str
    example: str
    required: bool = False
    holds: str = ""


def vocabulary(ontology: Ontology, factsets: list[FactSet], keys: dict[str, KeyExample]) -> list[Entry]:
    """Every predicate a fact may use (``is_a`` first) and every key of a facts file, as the guide documents them."""
    examples = first_examples(factsets)
    writers = key_writers()

    def example(predicate: str) -> str:
        found = examples.get(predicate)
        if found is None:
            return "none in the corpus yet"
        fields = ", ".join(f"{name} {value}" for name, value in example_fields(ontology, found.fact))
        return f"{found.path}:{found.line}: {fields}"

    entries = [
        Entry(
            "predicate",
            "is_a",
            "evidence for a subclass relation the ontology states or entails",
            "a class",
            "a class the ontology says or entails the subject is a subclass of",
            example(IS_A),
        )
    ]
    for prop in predicate_terms(ontology):
        written = writers.get(prop.iri)
        entries.append(
            Entry(
                "predicate",
                prop.local_name,
                prop.label or "",
                describe_term(ontology, prop.domain, plain_code),
                describe_term(ontology, prop.range, plain_code),
                example(prop.iri),
                holds=f"also written by the key {', '.join(written)}" if written else "",
            )
        )
    for section in FACTS_SCHEMA.values():
        for key in section.keys:
            path = key_path(section, key)
            found = keys.get(path)
            entries.append(
                Entry(
                    "key",
                    path,
                    "",
                    f"{section.what} ({section.path or 'top level'})",
                    allowed_values(ontology, key, plain_code, see_below=False) or "text",
                    f"{found.path}:{found.line}: {found.value}" if found else "none in the corpus yet",
                    required=key.required,
                    holds=key.description,
                )
            )
    return entries


def render_vocabulary(entries: list[Entry]) -> str:
    """The predicates and keys for a terminal, one block each."""
    blocks = [
        "Predicates: what a fact's `predicate` may be (the subject within the domain, the object within the range)"
    ]
    heading_done = False
    for entry in entries:
        if entry.kind == "key" and not heading_done:
            blocks.append("Facts-file keys: every key of every section of a facts file")
            heading_done = True
        if entry.kind == "predicate":
            lines = [entry.name + (f"  {_quoted(entry.label)}" if entry.label else "")]
        else:
            lines = [f"{entry.name}  {'required' if entry.required else 'optional'}"]
            lines.append(_field("holds", entry.holds))
        lines.append(_field("domain", entry.domain))
        lines.append(_field("range", entry.range))
        if entry.kind == "predicate" and entry.holds:
            lines.append(_field("note", entry.holds))
        lines.append(_field("example", entry.example))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


VOCABULARY_COLUMNS = ("kind", "name", "required", "domain", "range", "example")


def render_vocabulary_tsv(entries: list[Entry]) -> str:
    """The predicates and keys as tab-separated values with a header."""
    rows = ["\t".join(VOCABULARY_COLUMNS)]
    for entry in entries:
        required = "" if entry.kind == "predicate" else ("required" if entry.required else "optional")
        cells = (entry.kind, entry.name, required, entry.domain, entry.range, entry.example)
        rows.append("\t".join(tsv_cell(cell) for cell in cells))
    return "\n".join(rows)
