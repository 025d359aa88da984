"""Add a term in one step (``carnk-ld add-term``): its block in the ontology and its row in the mapping set.

A class gets ``rdfs:label``, ``rdfs:subClassOf`` its parent and a definition placeholder; a named
individual (a product, a controlled value) gets its type instead of a parent. The definition starts
with :data:`PLACEHOLDER`, which the QC check ``queries/checks/placeholder-definition-violation.rq``
refuses until the curator replaces it. A class also gets an ``sssom:NoTermFound`` row whose comment
asks the curator to complete it; an individual gets none (the mapping set maps classes only).

Both files are edited as text, so that every byte the curator wrote stays as it was: the new block
and row are inserted whole, in the file's own spelling (its prefixes, indentation, language tags
and line ends). The ontology is not sorted by name but grouped by topic, each class followed by its
subclasses: a new class goes after its parent and the subclasses that follow it (up to a comment
line, which starts another group), a new individual after the last individual of its type. The
mapping set is sorted by ``subject_id`` (code points), and the row goes where that order puts it.

Nothing is written until both new texts are computed and checked: the new ontology must load
(every check of the build's reader) with exactly the new triples added, and the new mapping set
must parse with exactly one row more. Then the ontology is replaced, then the mapping set; if the
second replacement fails the first is undone.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyoxigraph as ox

from carnk_ld.constants import BASE, MAPPINGS_DIR, MAPPINGS_FILE, ONTOLOGY_DIR, ONTOLOGY_FILE
from carnk_ld.corpusfiles import corpus_file, read_input, replace_file
from carnk_ld.errors import CarnkError, InputError, Location
from carnk_ld.hints import did_you_mean
from carnk_ld.mappings import NO_TERM, read_sssom
from carnk_ld.ontology import Ontology, load_ontology
from carnk_ld.rdfio import declared_prefixes
from carnk_ld.scopes import code_lines
from carnk_ld.vocab import DEFINITION, OWL, RDF, RDFS, SKOS

#: How a definition placeholder starts; the QC check of the same name refuses a definition that does.
PLACEHOLDER = "TODO: define"
#: How the comment of a new mapping row starts.
MAPPING_PLACEHOLDER = "TODO: complete"
#: The command, as hints name it.
COMMAND = "carnk-ld add-term"
#: A local name add-term writes: ASCII letters and digits (and '_' or '-' inside), starting with a capital,
#: as the ontology's classes and individuals are named; it is written as ``carnk:NAME`` and in facts files.
NAME_RE = re.compile(r"[A-Z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)*")
_PN_LOCAL_RE = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_WORD_RE = re.compile(r"[A-Z]+[0-9]*(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
#: What a label cannot hold: line breaks, tabs (it is also a TSV cell of the mapping set) and control characters.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

Kind = Literal["class", "individual"]


@dataclass(frozen=True)
class TermEdit:
    """The edit of both files that adds one term, computed and checked but not yet written."""

    name: str
    kind: Kind
    anchor: str  # the parent class, or the individual's type
    label: str
    ontology_path: Path
    ontology_shown: Path
    ontology_before: bytes
    ontology_after: bytes
    ontology_line: int  # where the new block starts in the new file
    definition_line: int  # the line of its definition placeholder
    mappings_path: Path
    mappings_shown: Path
    mappings_before: bytes
    mappings_after: bytes
    mappings_line: int | None  # where the new row is in the new file (None: no row)


def derive_label(name: str) -> str:
    """A label in the ontology's style from a local name: words in lower case, abbreviations kept.

    >>> [derive_label(name) for name in ("UmbilicalCordBlood", "NKCellLine", "CD19Antigen", "FT516")]
    ['umbilical cord blood', 'NK cell line', 'CD19 antigen', 'FT516']
    """
    if not any(c.islower() for c in name):  # a code such as FT516 is its own label
        return name
    words = [word for part in re.split(r"[_-]+", name) for word in _WORD_RE.findall(part)]
    return " ".join(word.lower() if word[:1].isupper() and word[1:].islower() else word for word in words)


def plan_term(
    root: Path, name: str, *, parent: str | None = None, of_type: str | None = None, label: str | None = None
) -> TermEdit:
    """Compute and check the edit that adds ``carnk:NAME`` under ``parent`` (a class) or of type ``of_type``.

    Raises :class:`InputError` for anything that would make the result wrong; nothing is written.
    """
    if (parent is None) == (of_type is None):
        raise InputError(Path(COMMAND), "give either --parent CLASS (a new class) or --type CLASS (a new individual)")
    kind: Kind = "class" if parent is not None else "individual"
    onto_shown = Path(ONTOLOGY_DIR) / ONTOLOGY_FILE
    map_shown = Path(MAPPINGS_DIR) / MAPPINGS_FILE
    # a symbolic link is followed, as the build reads it: the file it points to is the one edited
    onto_path = corpus_file(root / ONTOLOGY_DIR, ONTOLOGY_FILE, Path(ONTOLOGY_DIR)).resolve()
    map_path = corpus_file(root / MAPPINGS_DIR, MAPPINGS_FILE, Path(MAPPINGS_DIR)).resolve()
    ontology = load_ontology(onto_path, display_path=onto_shown)
    _, _, columns, rows = read_sssom(map_path, display_path=map_shown)
    _check_name(name, ontology, rows)
    anchor = _resolve_class(ontology, parent if parent is not None else of_type or "", kind)
    label = derive_label(name) if label is None else label
    _check_label(label, ontology)
    onto_before = read_input(onto_path, onto_shown)
    map_before = read_input(map_path, map_shown)
    onto_text = _decode(onto_before, onto_shown)
    map_text = _decode(map_before, map_shown)
    iri = BASE + name
    block, expected = _block(onto_text, ontology, iri, kind, anchor, label)
    onto_after, onto_line = _insert_block(onto_text, ontology, kind, anchor, block)
    new_ontology = _check_ontology(onto_after, onto_shown, ontology, expected)
    if kind == "class":
        map_after, map_line = _insert_row(map_text, columns, rows, name, label)
        _check_mappings(map_after, map_shown, len(rows))
    else:
        map_after, map_line = map_text, None
    assert iri in new_ontology.terms
    return TermEdit(
        name,
        kind,
        anchor,
        label,
        onto_path,
        onto_shown,
        onto_before,
        onto_after.encode("utf-8"),
        onto_line,
        onto_line + next(i for i, line in enumerate(block) if PLACEHOLDER in line),
        map_path,
        map_shown,
        map_before,
        map_after.encode("utf-8"),
        map_line,
    )


class TermNotWritten(CarnkError):
    """The new term could not be written; the message says what each file holds now (exit 2)."""

    exit_code = 2


def write_term(edit: TermEdit) -> None:
    """Replace the ontology, then the mapping set; if the second fails, put the first back.

    Raises :class:`TermNotWritten` saying whether both files are as they were.
    """
    try:
        replace_file(edit.ontology_path, edit.ontology_after)
    except OSError as exc:
        raise TermNotWritten(
            f"{edit.ontology_shown}: error: cannot write: {exc.strerror or exc}; neither file was changed"
        ) from None
    if edit.mappings_after == edit.mappings_before:
        return
    try:
        replace_file(edit.mappings_path, edit.mappings_after)
    except BaseException as exc:
        try:
            replace_file(edit.ontology_path, edit.ontology_before)
        except OSError as undo:
            raise TermNotWritten(
                f"{edit.mappings_shown}: error: cannot write: {getattr(exc, 'strerror', None) or exc}; and "
                f"{edit.ontology_shown} could not be put back ({undo.strerror or undo}): it has carnk:{edit.name}, "
                "the mapping set has no row for it"
            ) from None
        if not isinstance(exc, OSError):
            raise
        raise TermNotWritten(
            f"{edit.mappings_shown}: error: cannot write: {exc.strerror or exc}; neither file was changed"
        ) from None


# -- checks of the arguments -----------------------------------------------------------------------


def _check_name(name: str, ontology: Ontology, rows: list[tuple[int, list[str]]]) -> None:
    if not NAME_RE.fullmatch(name):
        raise InputError(
            Path(COMMAND),
            f"{name!r} is not a term name: use ASCII letters and digits, starting with a capital letter "
            "(UpperCamelCase, as CARNKCellTherapy or FT516)",
            "the name becomes the IRI https://w3id.org/carnk/NAME and is what facts files write",
        )
    iri = BASE + name
    mentioned = {
        node.value
        for t in ontology.triples
        for node in (t.subject, t.predicate, t.object)
        if isinstance(node, ox.NamedNode) and node.value.startswith(BASE)
    }
    if iri in mentioned:
        term = ontology.terms.get(iri)
        what = _a(term.kind) if term is not None else "an IRI the ontology uses"
        raise InputError(
            Location(ontology.path, ontology.line_of(iri)),
            f"carnk:{name} already exists ({what}" + (f", {term.label!r})" if term and term.label else ")"),
            "pick another name, or use the existing term",
        )
    for other in sorted(mentioned):
        local = other[len(BASE) :]
        if local.casefold() == name.casefold():
            raise InputError(
                Location(ontology.path, ontology.line_of(other)),
                f"carnk:{name} differs from the existing carnk:{local} only in case",
                "use the existing term, or a name that is not a spelling of it",
            )
    for line, cells in rows:
        if cells and cells[0] == f"carnk:{name}":
            raise InputError(
                Location(Path(MAPPINGS_DIR) / MAPPINGS_FILE, line),
                f"carnk:{name} already has a mapping row, though the ontology does not declare it",
                "remove the stale row, or declare the term by hand",
            )


def _a(kind: str) -> str:
    """A kind of term with its article: "an individual", "a class"."""
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def _resolve_class(ontology: Ontology, given: str, kind: Kind) -> str:
    option = "--parent" if kind == "class" else "--type"
    local = given.removeprefix("carnk:")
    iri = BASE + local
    term = ontology.terms.get(iri)
    if term is not None and term.kind == "class":
        return iri
    if term is not None:
        raise InputError(
            Location(ontology.path, ontology.line_of(iri)),
            f"{option} {given}: carnk:{local} is {_a(term.kind)}, not a class",
            f"{option} names the class the new term is {'a subclass' if kind == 'class' else 'an individual'} of",
        )
    classes = sorted(t.local_name for t in ontology.terms.values() if t.kind == "class" and t.iri.startswith(BASE))
    hint = did_you_mean(local, classes) or f"find the class with `carnk-ld terms {local}`"
    raise InputError(ontology.path, f"{option} {given}: the ontology declares no class carnk:{local}", hint)


def _check_label(label: str, ontology: Ontology) -> None:
    problem = None
    if not label.strip():
        problem = "is empty"
    elif _UNSAFE_RE.search(label):
        problem = "holds a line break, tab or control character"
    elif label != label.strip() or "  " in label:
        problem = "starts or ends with a space, or has two in a row"
    if problem:
        raise InputError(Path(COMMAND), f"the label {label!r} {problem}", "give --label TEXT: one line of words")
    for term in sorted(ontology.terms.values(), key=lambda t: t.iri):
        if term.label and term.label.casefold() == label.casefold() and term.iri.startswith(BASE):
            raise InputError(
                Location(ontology.path, ontology.line_of(term.iri)),
                f"the label {label!r} is already the label of carnk:{term.local_name}",
                "two terms may not share a label (QC duplicate-label); give --label TEXT, or use the existing term",
            )


def _decode(data: bytes, shown: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Location(shown, data.count(b"\n", 0, exc.start) + 1), "file is not valid UTF-8") from None


# -- the ontology ----------------------------------------------------------------------------------------


def _block(
    text: str, ontology: Ontology, iri: str, kind: Kind, anchor: str, label: str
) -> tuple[list[str], list[ox.Triple]]:
    """The new term's lines, spelled with the file's prefixes and styled as its neighbours, and its triples."""
    prefixes = {namespace: name for name, namespace in declared_prefixes(text.split("\n")).items()}
    indent = _indentation(text, ontology, anchor)
    label_lang = _language(ontology, RDFS.label)
    definition_lang = _language(ontology, DEFINITION)
    subject = ox.NamedNode(iri)
    anchor_label = ontology.terms[anchor].label or anchor
    placeholder = (
        f"{PLACEHOLDER} {label}: write what it is, as a kind of {anchor_label}, and how it differs from the others"
        if kind == "class"
        else f"{PLACEHOLDER} {label}: write what this {anchor_label} is"
    )
    label_literal = ox.Literal(label, language=label_lang) if label_lang else ox.Literal(label)
    definition = ox.Literal(placeholder, language=definition_lang) if definition_lang else ox.Literal(placeholder)
    body: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]]
    if kind == "class":
        head = f"{_spell(iri, prefixes)} a {_spell(OWL.Class.value, prefixes)} ;"
        body = [
            (RDFS.label, label_literal),
            (RDFS.subClassOf, ox.NamedNode(anchor)),
            (DEFINITION, definition),
        ]
        triples = [ox.Triple(subject, RDF.type, OWL.Class)]
    else:
        head = f"{_spell(iri, prefixes)} a {_spell(OWL.NamedIndividual.value, prefixes)} , {_spell(anchor, prefixes)} ;"
        body = [(RDFS.label, label_literal), (DEFINITION, definition)]
        notation = _notation(ontology, anchor, label)
        if notation is not None:  # a value of a controlled-value class is written in facts files as its notation
            body.insert(1, (SKOS.notation, ox.Literal(notation)))
        triples = [
            ox.Triple(subject, RDF.type, OWL.NamedIndividual),
            ox.Triple(subject, RDF.type, ox.NamedNode(anchor)),
        ]
    lines = [head]
    for number, (predicate, value) in enumerate(body, start=1):
        shown = str(value) if isinstance(value, ox.Literal) else _spell(value.value, prefixes)
        lines.append(f"{indent}{_spell(predicate.value, prefixes)} {shown} {'.' if number == len(body) else ';'}")
        triples.append(ox.Triple(subject, predicate, value))
    return lines, triples


def _notation(ontology: Ontology, cls: str, label: str) -> str | None:
    """The ``skos:notation`` of a new value of ``cls`` (its label's words joined by '-'), if its values have one."""
    members = ontology.members(cls)
    if not any(ontology.terms[iri].notations for iri in members):
        return None
    notation = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    taken = {n for iri in members for n in ontology.terms[iri].notations}
    if not notation or notation in taken:
        raise InputError(
            Location(ontology.path, ontology.line_of(cls)),
            f"a value of carnk:{cls[len(BASE) :]} needs a notation of its own; {notation!r} from the label "
            + ("is taken" if notation else "is empty"),
            "give --label TEXT whose words (lower case, joined by '-') are a new notation",
        )
    return notation


def _spell(iri: str, prefixes: dict[str, str]) -> str:
    """An IRI as the file would write it: with its declared prefix where the rest is a plain local name."""
    for namespace, name in sorted(prefixes.items(), key=lambda item: -len(item[0])):
        rest = iri[len(namespace) :]
        if iri.startswith(namespace) and _PN_LOCAL_RE.fullmatch(rest):
            return f"{name}:{rest}"
    return f"<{iri}>"


def _indentation(text: str, ontology: Ontology, anchor: str) -> str:
    """The indentation of the anchor's second line (its first predicate), else four spaces."""
    lines = text.split("\n")
    start = ontology.line_of(anchor)
    if start is not None and start < len(lines):
        match = re.match(r"[ \t]+", lines[start])
        if match:
            return match.group()
    return "    "


def _language(ontology: Ontology, predicate: ox.NamedNode) -> str | None:
    """The language tag most of the ontology's own terms give ``predicate`` (None: most give none)."""
    tags = Counter(
        t.object.language or ""
        for t in ontology.triples
        if t.predicate == predicate
        and isinstance(t.subject, ox.NamedNode)
        and t.subject.value.startswith(BASE)
        and isinstance(t.object, ox.Literal)
    )
    if not tags:
        return "en"
    tag = sorted(tags.items(), key=lambda item: (-item[1], item[0]))[0][0]
    return tag or None


@dataclass(frozen=True)
class _Statement:
    first: int  # 1-based line of its first character
    last: int  # 1-based line of its final '.'
    subject: str | None  # the term it declares first (None: another statement)


def _statements(text: str, ontology: Ontology) -> list[_Statement]:
    """The file's top-level statements (directives included) with their lines, in order.

    Comments, strings and IRIs are blanked by :func:`carnk_ld.scopes.code_lines`, so a '.' ends a
    statement when it is outside brackets and followed by a space or the end of the text.
    """
    code = code_lines(text)
    declared_at = {line: iri for iri, line in ontology.lines.items()}
    found: list[_Statement] = []
    line, depth, start = 1, 0, None
    for index, char in enumerate(code):
        if char == "\n":
            line += 1
            continue
        if start is None and not char.isspace():
            start = line
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "." and depth == 0 and start is not None:
            following = code[index + 1 : index + 2]
            if following == "" or following.isspace():
                found.append(_Statement(start, line, declared_at.get(start)))
                start = None
    return found


def _insert_block(text: str, ontology: Ontology, kind: Kind, anchor: str, block: list[str]) -> tuple[str, int]:
    """The text with ``block`` inserted after its anchor statement, a blank line before (and after) it."""
    lines = text.split("\n")
    after = _anchor_statement(_statements(text, ontology), lines, ontology, kind, anchor)
    newline = _newline(text)
    at = after.last  # the block goes after this (1-based) line
    if at < len(lines):
        insertion = newline + "".join(line + newline for line in block)
        if lines[at].strip():
            insertion += newline
        return _splice(text, _line_start(lines, at), insertion), at + 2
    # the anchor ends the file without a line break: so does the new block
    return text + newline + newline + newline.join(block), at + 2


def _newline(text: str) -> str:
    """The file's line break: CRLF if its first line ends so, LF otherwise."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _line_start(lines: list[str], index: int) -> int:
    """The offset where line ``index`` (0-based) of ``"\\n".join(lines)`` starts."""
    return sum(len(line) + 1 for line in lines[:index])


def _splice(text: str, offset: int, insertion: str) -> str:
    return text[:offset] + insertion + text[offset:]


def _anchor_statement(
    statements: list[_Statement], lines: list[str], ontology: Ontology, kind: Kind, anchor: str
) -> _Statement:
    if kind == "individual":
        members = [s for s in statements if _is_member(ontology, s.subject, anchor)]
        if members:
            return members[-1]
    first = next((i for i, s in enumerate(statements) if s.subject == anchor), None)
    if first is None:
        raise InputError(
            Location(ontology.path, ontology.line_of(anchor)),
            f"cannot find where carnk:{anchor[len(BASE) :]} is declared in the file",
            "add the term by hand",
        )
    last = first
    for following in statements[first + 1 :]:
        between = lines[statements[last].last : following.first - 1]
        if any(line.lstrip().startswith("#") for line in between):
            break  # a comment line starts another group
        term = ontology.terms.get(following.subject or "")
        if term is None or term.kind != "class" or not ontology.is_subclass(term.iri, anchor):
            break
        last += 1
    return statements[last]


def _is_member(ontology: Ontology, iri: str | None, cls: str) -> bool:
    """Whether ``iri`` is a named individual of ``cls`` or of a subclass."""
    term = ontology.terms.get(iri or "")
    return term is not None and term.kind == "individual" and any(ontology.is_subclass(t, cls) for t in term.types)


def _check_ontology(text: str, shown: Path, before: Ontology, expected: list[ox.Triple]) -> Ontology:
    """Load the new text as the build does and check that it says what the old one did, plus ``expected``."""
    with tempfile.TemporaryDirectory(prefix="carnk-add-term-") as directory:
        path = Path(directory) / ONTOLOGY_FILE
        path.write_bytes(text.encode("utf-8"))
        after = load_ontology(path, display_path=shown)
    named = {t for t in before.triples if not _has_blank(t)}
    new_named = {t for t in after.triples if not _has_blank(t)}
    if new_named != named | set(expected) or len(after.triples) != len(before.triples) + len(expected):
        raise InputError(
            shown, "the new term could not be inserted without changing other statements", "add it by hand"
        )
    return after


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


# -- the mapping set -----------------------------------------------------------------------------------------


def _insert_row(
    text: str, columns: list[str], rows: list[tuple[int, list[str]]], name: str, label: str
) -> tuple[str, int]:
    """The text with a ``sssom:NoTermFound`` row for ``carnk:NAME``, where the order of ``subject_id`` puts it."""
    if "comment" not in columns:
        raise InputError(
            Path(MAPPINGS_DIR) / MAPPINGS_FILE,
            "the mapping set has no comment column, which a sssom:NoTermFound row needs",
            "add the column to the header",
        )
    justifications = Counter(
        dict(zip(columns, cells, strict=True))["mapping_justification"]
        for _, cells in rows
        if dict(zip(columns, cells, strict=True))["object_id"] == NO_TERM
    )
    justification = (
        sorted(justifications.items(), key=lambda item: (-item[1], item[0]))[0][0]
        if justifications
        else "semapv:ManualMappingCuration"
    )
    values = {
        "subject_id": f"carnk:{name}",
        "subject_label": label,
        "predicate_id": "skos:exactMatch",
        "object_id": NO_TERM,
        "mapping_justification": justification,
        "comment": f"{MAPPING_PLACEHOLDER}: look the term up in the vocabularies of this set and replace this row "
        "with its mappings, or keep sssom:NoTermFound and name the vocabularies checked",
    }
    row = "\t".join(values.get(column, "") for column in columns)
    lines = text.split("\n")
    newline = _newline(text)
    subject = f"carnk:{name}"
    later = [line for line, cells in rows if cells[0] > subject]
    if later:  # before the first row that sorts after it
        return _splice(text, _line_start(lines, later[0] - 1), row + newline), later[0]
    last = rows[-1][0] if rows else next(i for i, line in enumerate(lines, start=1) if not line.startswith("#"))
    if last < len(lines):
        return _splice(text, _line_start(lines, last), row + newline), last + 1
    return text + newline + row, last + 1  # the last row ends the file without a line break: so does the new one


def _check_mappings(text: str, shown: Path, rows_before: int) -> None:
    with tempfile.TemporaryDirectory(prefix="carnk-add-term-") as directory:
        path = Path(directory) / MAPPINGS_FILE
        path.write_bytes(text.encode("utf-8"))
        _, _, _, rows = read_sssom(path, display_path=shown)
    if len(rows) != rows_before + 1:
        raise InputError(shown, "the new row could not be inserted without changing other rows", "add it by hand")
