"""The modelling guide for curators (``CURATING.md``), generated so that it cannot drift.

Everything in it comes from the inputs the build itself reads: the predicates, their labels,
definitions, domains and ranges from the ontology; the facts-file keys from the schema the
facts reader checks every mapping against (:data:`carnk_ld.facts.FACTS_SCHEMA`); the allowed
values from the ontology's controlled values (:meth:`carnk_ld.ontology.Ontology.values`); and
one example per predicate from the curated facts. The text depends on nothing else (no
dates, no paths outside the corpus), so ``carnk-ld guide --check`` can compare it byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.constants import BASE, DOCUMENTS_DIR, FACTS_DIR, ONTOLOGY_DIR, ONTOLOGY_FILE
from carnk_ld.corpusfiles import corpus_files
from carnk_ld.documents import Document, read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import FACTS_SCHEMA, IS_A, Fact, FactSet, Key, Section, load_facts
from carnk_ld.ontology import OWL_THING, Ontology, Term, load_corpus_ontology
from carnk_ld.reason import classify
from carnk_ld.vocab import DEFINITION, compact_iri

#: The guide's file name, at the corpus root.
GUIDE_FILE = "CURATING.md"
#: The command that writes the guide.
GUIDE_COMMAND = "carnk-ld guide"

_ANNOTATION = "annotation property"
_KIND_WORDS = {"class": "a class", "individual": "a named individual", _ANNOTATION: "an annotation property"}


@dataclass(frozen=True)
class Example:
    """The first curated fact that uses a predicate, where it was written."""

    path: str
    line: int
    fact: Fact


def load_curation(root: Path) -> tuple[Ontology, list[FactSet]]:
    """The ontology and every resolved facts file of a corpus tree; errors of all files are reported together.

    A document without a facts file is skipped: it gives no example, and the build reports it.
    """
    ontology = classify(load_corpus_ontology(root))
    factsets, errors = load_factsets(root, ontology)
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return ontology, factsets


def load_factsets(root: Path, ontology: Ontology) -> tuple[list[FactSet], list[InputError]]:
    """Every facts file of a corpus tree that resolves, and the errors of those that do not (and of documents).

    ``ontology`` should be classified (:func:`carnk_ld.reason.classify`), as a build's is: whether a
    fact's subject is a kind of what its predicate expects can depend on a logical definition.
    """
    errors: list[InputError] = []
    documents: dict[str, Document] = {}
    for path in corpus_files(root / DOCUMENTS_DIR, (".txt",), Path(DOCUMENTS_DIR)):
        try:
            documents[path.name] = read_document(path, display_path=Path(DOCUMENTS_DIR) / path.name)
        except InputError as exc:
            errors.append(exc)
    factsets: list[FactSet] = []
    for path in corpus_files(root / FACTS_DIR, (".yaml",), Path(FACTS_DIR)):
        try:
            factsets.append(load_facts(path, documents, ontology, display_path=Path(FACTS_DIR) / path.name))
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    return factsets, errors


def first_examples(factsets: Iterable[FactSet]) -> dict[str, Example]:
    """Each predicate's first fact: by facts file name, then by line in the file."""
    found: dict[str, Example] = {}
    facts = sorted(
        ((factset.path.as_posix(), fact.line, fact.fact_id, fact) for factset in factsets for fact in factset.facts),
        key=lambda item: item[:3],
    )
    for path, line, _, fact in facts:
        found.setdefault(fact.predicate, Example(path, line, fact))
    return found


def modelling_guide(ontology: Ontology, factsets: Iterable[FactSet]) -> str:
    """The guide as Markdown: predicates, facts-file keys, controlled values; the same inputs give the same text."""
    return _Writer(ontology, first_examples(factsets)).render()


class _Writer:
    def __init__(self, ontology: Ontology, examples: dict[str, Example]):
        self.ont = ontology
        self.examples = examples
        self.definitions = definitions(ontology)
        self.lines: list[str] = []

    def out(self, *lines: str) -> None:
        self.lines.extend(lines)

    def render(self) -> str:
        self.intro()
        self.predicates()
        self.keys()
        self.values()
        text = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"

    # -- words -----------------------------------------------------------------
    def term(self, iri: str | None) -> str:
        """A term as `curie` (label)."""
        return describe_term(self.ont, iri)

    def notation(self, cls: str, iri: str) -> str:
        """The word a facts file writes for a controlled value (its IRI if it has none)."""
        return notation_of(self.ont, cls, iri)

    # -- the parts -------------------------------------------------------------
    def intro(self) -> None:
        self.out(
            "# Modelling guide for curators",
            "",
            f"<!-- Generated by `{GUIDE_COMMAND}`; do not edit by hand. -->",
            "",
            f"This guide is generated from `{ONTOLOGY_DIR}/{ONTOLOGY_FILE}` (version {self.ont.version_info}), "
            "the facts-file schema that the facts reader checks every file against "
            "(`FACTS_SCHEMA` in `carnk_ld/facts.py`) and the curated facts in `facts/`, so it lists exactly "
            "what the build accepts. After changing any of them, regenerate it with "
            f"`{GUIDE_COMMAND}`; `{GUIDE_COMMAND} --check` (run by the test suite) fails while it is out of date.",
            "",
            "On a terminal, `carnk-ld terms QUERY` finds a term by its label, synonyms or mapped labels, "
            "`carnk-ld terms --predicates` lists what this guide lists, and `carnk-ld add-term NAME --parent CLASS` "
            "adds a missing term.",
            "",
            "1. [Predicates](#predicates): what a fact's `predicate` may be, with domain, range and an example.",
            "2. [Facts-file keys](#facts-file-keys): every key of every section of a facts file.",
            "3. [Controlled values](#controlled-values): the words that keys such as `polarity` take.",
            "",
        )

    def predicates(self) -> None:
        properties = predicate_terms(self.ont)
        self.out(
            "## Predicates",
            "",
            f"A fact's `predicate` is one of these {len(properties)} annotation properties of the ontology (its "
            "local name, `carnk:` optional), or `is_a`. The subject must lie within the domain and the object "
            "within the range: the class itself, a subclass, or a named individual of one.",
            "",
        )
        self.out(
            "### `is_a`",
            "",
            "Evidence for a subclass relation (`rdfs:subClassOf`) between the subject and the object, both "
            "classes, that the ontology states or entails through its logical definitions (the reasoner "
            "decides). A negated or merely possible `is_a` claim needs no such axiom and never becomes one. The "
            "statement is published with its evidence, never as a plain triple: the ontology's axiom, or the "
            "inferred edge the release marks `oboInOwl:is_inferred`, is that triple.",
            "",
        )
        self.example(IS_A)
        writers = key_writers()
        for prop in properties:
            title = f"### `{prop.local_name}`" + (f": {_inline(prop.label)}" if prop.label else "")
            self.out(title, "")
            definition = self.definitions.get(prop.iri)
            self.out(_inline(definition) if definition else "No definition in the ontology yet.", "")
            self.out(f"- domain: {self.term(prop.domain)}", f"- range: {self.term(prop.range)}")
            if prop.iri in writers:
                keys = ", ".join(f"`{path}`" for path in writers[prop.iri])
                self.out(f"- written by the facts-file key {keys}")
            self.out("")
            self.example(prop.iri)

    def example(self, predicate: str) -> None:
        example = self.examples.get(predicate)
        if example is None:
            self.out("Example: no example in the corpus yet.", "")
            return
        rows = example_fields(self.ont, example.fact)
        width = max(len(name) for name, _ in rows) + 2
        body = "\n".join(f"{name + ':':<{width}}{value}" for name, value in rows)
        fence = _fence(body)
        self.out(f"Example from `{example.path}` line {example.line}:", "", fence, body, fence, "")

    def keys(self) -> None:
        self.out(
            "## Facts-file keys",
            "",
            "A facts file is a YAML mapping; each section below is a mapping of it (or a list of mappings). "
            "Any other key is an error, and so is a missing required key.",
            "",
        )
        for section in FACTS_SCHEMA.values():
            self.section(section)

    def section(self, section: Section) -> None:
        self.out(f"### `{section.path}`" if section.path else "### Top level", "", _inline(section.description), "")
        self.out("| key | | what it holds | allowed values |", "| --- | --- | --- | --- |")
        for key in section.keys:
            need = "required" if key.required else "optional"
            self.out(f"| `{key.name}` | {need} | {_cell(key.description)} | {_cell(self.allowed(key))} |")
        self.out("")

    def allowed(self, key: Key) -> str:
        return allowed_values(self.ont, key)

    def values(self) -> None:
        self.out(
            "## Controlled values",
            "",
            "Each of these keys takes one of the values of an ontology class, written as the value's "
            "`skos:notation`. A new value is a new individual of the class in the ontology, with a notation.",
            "",
        )
        seen: set[str] = set()
        for section in FACTS_SCHEMA.values():
            for key in section.keys:
                if key.values is None or key.values in seen:
                    continue
                seen.add(key.values)
                self.out(f"### `{key.name}`: {self.term(key.values)}", "")
                definition = self.definitions.get(key.values)
                if definition:
                    self.out(_inline(definition), "")
                self.out("| notation | value | label | definition |", "| --- | --- | --- | --- |")
                for word, iri in self.ont.values(key.values).items():
                    term = self.ont.terms[iri]
                    short = compact_iri(iri)
                    self.out(
                        f"| `{word}` | `{short if short != iri else '<' + iri + '>'}` | {_cell(term.label or '')} "
                        f"| {_cell(self.definitions.get(iri, ''))} |"
                    )
                self.out("")


#: How a name or a piece of syntax is set off in text: Markdown code in the guide, as it is on a terminal.
Code = Callable[[str], str]


def markdown_code(text: str) -> str:
    """Text as Markdown inline code."""
    return f"`{text}`"


def plain_code(text: str) -> str:
    """Text as it is (for a terminal)."""
    return text


def describe_term(ontology: Ontology, iri: str | None, code: Code = markdown_code) -> str:
    """A term as its compact IRI and label: `carnk:NKCell` (NK cell)."""
    if iri is None:
        return "not declared (any term)"
    if iri == OWL_THING:
        return f"{code('owl:Thing')} (anything)"
    short = compact_iri(iri)
    shown = code(short) if short != iri else code(f"<{iri}>")
    term = ontology.terms.get(iri)
    return f"{shown} ({_inline(term.label)})" if term is not None and term.label else shown


def notation_of(ontology: Ontology, cls: str, iri: str) -> str:
    """The word a facts file writes for a controlled value of ``cls`` (its compact IRI if it has none)."""
    for word, value in ontology.values(cls).items():
        if value == iri:
            return word
    return compact_iri(iri)


def predicate_terms(ontology: Ontology) -> list[Term]:
    """The properties a fact's ``predicate`` may name (besides ``is_a``): carnk: annotation properties, by name."""
    return sorted(
        (t for t in ontology.terms.values() if t.kind == _ANNOTATION and t.iri.startswith(BASE)),
        key=lambda t: t.local_name,
    )


def key_path(section: Section, key: Key) -> str:
    """Where a key sits in a facts file: ``studies[].intervention``, or ``document`` at the top level."""
    return f"{section.path}.{key.name}" if section.path else key.name


def key_writers() -> dict[str, list[str]]:
    """The facts-file keys whose value a property relates (``studies[].intervention`` for studiedIntervention)."""
    found: dict[str, list[str]] = {}
    for section in FACTS_SCHEMA.values():
        for key in section.keys:
            if key.term is not None and key.term.prop is not None:
                found.setdefault(key.term.prop, []).append(key_path(section, key))
    return found


def allowed_values(ontology: Ontology, key: Key, code: Code = markdown_code, *, see_below: bool = True) -> str:
    """What a facts-file key takes, in words: its controlled values, fixed words, section or kind of term.

    ``see_below`` points controlled values at their table further down the guide.
    """
    if key.values is not None:
        words = ", ".join(code(word) for word in ontology.values(key.values))
        values = describe_term(ontology, key.values, code)
        text = f"{words} (see {values} below)" if see_below else f"{words} (the values of {values})"
        if key.default is not None:
            text += f"; default {code(notation_of(ontology, key.values, key.default))}"
        return text
    if key.words:
        return ", ".join(code(word) for word in key.words)
    if key.section is not None:
        return f"see {code(FACTS_SCHEMA[key.section].path)}"
    if key.term is not None:
        rule = key.term
        kinds = " or ".join(_KIND_WORDS.get(kind, kind) for kind in rule.kinds)
        if rule.within is not None:
            return f"{kinds} that is a kind of {describe_term(ontology, rule.within, code)}"
        if rule.prop is not None:
            prop = ontology.terms.get(rule.prop)
            bound = describe_term(ontology, prop.range, code) if prop is not None else "not declared"
            return f"{kinds} within the range of {describe_term(ontology, rule.prop, code)}: {bound}"
        return kinds
    return ""


def example_fields(ontology: Ontology, fact: Fact) -> list[tuple[str, str]]:
    """A curated fact as the keys and values its facts file gives (defaults left out)."""
    rows = [
        ("subject", compact_iri(fact.subject)),
        ("predicate", "is_a" if fact.predicate == IS_A else compact_iri(fact.predicate)),
        ("object", compact_iri(fact.object)),
    ]
    if fact.polarity != "Affirmed":
        rows.append(("polarity", notation_of(ontology, BASE + "Polarity", BASE + fact.polarity)))
    if fact.modality != "Asserted":
        rows.append(("modality", notation_of(ontology, BASE + "Modality", BASE + fact.modality)))
    if fact.frequency is not None:
        rows.append(("frequency", notation_of(ontology, BASE + "Frequency", BASE + fact.frequency)))
    if fact.compared_to is not None:
        rows.append(("compared_to", compact_iri(fact.compared_to)))
    rows.append(("quote", json.dumps(fact.evidence.quote, ensure_ascii=False)))
    return rows


def definitions(ontology: Ontology) -> dict[str, str]:
    """Each term's textual definition (IAO:0000115): the English one where there are several, then the first."""
    found: dict[str, list[tuple[int, str]]] = {}  # in the file's order, so the first English one wins
    for t in ontology.triples:
        if t.predicate == DEFINITION and isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.Literal):
            rank = 0 if t.object.language in ("en", None) else 1
            found.setdefault(t.subject.value, []).append((rank, t.object.value))
    return {iri: min(texts, key=lambda text: text[0])[1] for iri, texts in found.items()}


def _inline(text: str) -> str:
    """Text on one line, as Markdown keeps it in a paragraph or a table cell."""
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _fence(body: str) -> str:
    """A code fence longer than any run of backticks in ``body``."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)
