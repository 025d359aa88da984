"""Mappings to external vocabularies: a curated SSSOM file, checked and published as RDF.

``mappings/carnk.sssom.tsv`` is SSSOM 1.0 TSV: a YAML header in ``#`` comment lines, then
one mapping per row. Every object CURIE is checked offline with bioregistry (known prefix,
local ID matching the prefix's pattern, standardised prefix and form), and the header's
``curie_map`` must expand each prefix to bioregistry's preferred RDF URI prefix, so the
IRIs in the release are the ones other linked data uses. Every class of the ontology needs
at least one row, a mapping or an explicit ``sssom:NoTermFound``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.constants import BASE, KG, MAPPINGS_DIR, MAPPINGS_FILE, PREFIXES
from carnk_ld.corpusfiles import corpus_file, not_utf8, read_input
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.literals import literal_error
from carnk_ld.ontology import Ontology
from carnk_ld.vocab import DCTERMS, OBOINOWL, OWL, RDF, RDFS, XSD, prefix_conflict
from carnk_ld.yamlreader import Reader, YMap, YNode, parse_yaml_text

SKOS = PREFIXES["skos"]
SSSOM = PREFIXES["sssom"]
SEMAPV = PREFIXES["semapv"]
VOID = PREFIXES["void"]
DCAT = PREFIXES["dcat"]
NO_TERM = "sssom:NoTermFound"

PREDICATES = {
    "skos:exactMatch": "exact",
    "skos:closeMatch": "close",
    "skos:broadMatch": "broad",
    "skos:narrowMatch": "narrow",
    "skos:relatedMatch": "related",
}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
KNOWN_COLUMNS = (
    *REQUIRED_COLUMNS,
    "subject_label",
    "object_label",
    "object_source",
    "object_source_version",
    "comment",
    "mapping_date",
)
RELEASE_COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "object_source_version",
    "comment",
)
REQUIRED_METADATA = {"curie_map", "mapping_set_id", "license", "mapping_date"}
OPTIONAL_METADATA = {
    "mapping_set_title",
    "mapping_set_description",
    "mapping_set_version",
    "mapping_provider",
    "subject_source",
    "subject_source_version",
    "comment",
}
#: URI prefixes for vocabularies whose bioregistry entry has no RDF URI format.
RDF_FALLBACK = {"hgnc": "https://identifiers.org/hgnc:"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What a TSV row or a header value cannot hold: control characters but the tab (line breaks
#: among them, which TSV readers split rows at) and the Unicode line and paragraph separators.
_UNSAFE_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
#: Metadata values that become IRIs in the release.
IRI_METADATA = ("mapping_set_id", "license", "mapping_provider")


@dataclass(frozen=True)
class Mapping:
    """One row of the mapping set."""

    line: int
    subject: str  # IRI of the carnk term
    subject_label: str
    predicate: str  # CURIE, one of PREDICATES
    object_curie: str  # standardised CURIE, or NO_TERM
    object_iri: str | None
    object_label: str
    justification: str
    object_source_version: str
    comment: str
    mapping_date: str = ""  # the row's own, where it gives one (SSSOM's per-mapping slot), else ""

    @property
    def no_term(self) -> bool:
        """True for an explicit 'no term found' row."""
        return self.object_curie == NO_TERM

    @property
    def vocabulary(self) -> str:
        """The object's prefix (its vocabulary), lower case."""
        return self.object_curie.split(":", 1)[0].lower()


@dataclass
class MappingSet:
    """The parsed, validated SSSOM mapping set."""

    path: Path
    metadata: dict[str, str]
    curie_map: dict[str, str]
    mappings: list[Mapping]
    #: Each linked vocabulary (as :attr:`Mapping.vocabulary`) -> its bioregistry prefix and name,
    #: looked up once when the set is read (bioregistry takes a second to import).
    vocabularies: dict[str, tuple[str, str]]


def standardize_curie(curie: str) -> tuple[str, str]:
    """Return ``(standard CURIE, RDF IRI)`` or raise ``ValueError`` saying what is wrong.

    >>> standardize_curie("NCIT:C15262")
    ('NCIT:C15262', 'http://purl.obolibrary.org/obo/NCIT_C15262')
    >>> standardize_curie("mesh:D007167")[1]
    'http://id.nlm.nih.gov/mesh/D007167'
    """
    import bioregistry

    if ":" not in curie:
        raise ValueError(f"{curie!r} is not a CURIE (prefix:identifier)")
    prefix, local = curie.split(":", 1)
    norm = bioregistry.normalize_prefix(prefix)
    if norm is None:
        raise ValueError(f"unknown prefix {prefix!r} (not in bioregistry)")
    preferred = bioregistry.get_preferred_prefix(norm) or norm
    standard_local = bioregistry.standardize_identifier(norm, local)
    pattern = bioregistry.get_pattern(norm)
    if pattern and not re.match(pattern, standard_local):
        raise ValueError(f"{local!r} does not match the {preferred} identifier pattern {pattern}")
    standard = f"{preferred}:{standard_local}"
    if standard != curie:
        raise ValueError(f"{curie!r} is not in bioregistry's standard form; write {standard}")
    uri_prefix = rdf_uri_prefix(norm)
    if uri_prefix is None:
        raise ValueError(f"bioregistry knows no URI format for {preferred}")
    return standard, uri_prefix + standard_local


def rdf_uri_prefix(prefix: str) -> str | None:
    """Bioregistry's preferred RDF URI prefix (identifiers.org for HGNC, which has none)."""
    import bioregistry

    norm = bioregistry.normalize_prefix(prefix)
    if norm is None:
        return None
    resource = bioregistry.get_resource(norm)
    uri_prefix = resource.get_rdf_uri_prefix() if resource else None
    return uri_prefix or RDF_FALLBACK.get(norm) or bioregistry.get_uri_prefix(norm)


def read_sssom(
    path: Path, *, display_path: Path | None = None
) -> tuple[dict[str, str], YMap, list[str], list[tuple[int, list[str]]]]:
    """Split an SSSOM TSV into its metadata, column names and numbered rows."""
    shown = display_path or path
    if not path.exists():  # anything else that is there is named by read_input
        raise InputError(shown, "mapping set not found", "every corpus needs mappings/carnk.sssom.tsv")
    data = read_input(path, shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(data, exc, shown) from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    for number, line in enumerate(lines, start=1):
        unsafe = _UNSAFE_RE.search(line)
        if unsafe:
            raise InputError(
                Location(shown, number, unsafe.start() + 1),
                f"character U+{ord(unsafe.group()):04X} is not allowed in an SSSOM TSV file",
                "a row or header line is one line of text: TSV readers split rows at line breaks; remove it",
            )
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line[2:] if line.startswith("# ") else line[1:])
    node = parse_yaml_text("\n".join(header) + "\n", shown) if header else None
    reader = Reader(shown)
    if not isinstance(node, YMap):
        raise InputError(Location(shown, 1), "SSSOM header must be a YAML mapping in '# ' comment lines")
    meta = reader.mapping(node, "the SSSOM header", REQUIRED_METADATA, OPTIONAL_METADATA)
    metadata = {k: _one_line(reader, v, k) for k, (_, v) in meta.items.items() if k != "curie_map"}
    for key in IRI_METADATA:
        if key in metadata:
            _check_iri(metadata[key], key, Location(shown, meta.items[key][0]))
    first = len(header)
    if first >= len(lines):
        raise InputError(Location(shown, first + 1), "SSSOM file has no column header")
    columns = lines[first].split("\t")
    seen_at: dict[str, int] = {}
    column_start = 1
    for column in columns:
        where = Location(shown, first + 1, column_start)
        if column not in KNOWN_COLUMNS:
            raise InputError(where, f"unknown SSSOM column {column!r}", f"known: {', '.join(KNOWN_COLUMNS)}")
        if column in seen_at:
            raise InputError(
                where,
                f"column {column!r} appears twice in the header (first at column {seen_at[column]})",
                "a row has one cell per column name; merge the two columns into one",
            )
        seen_at[column] = column_start
        column_start += len(column) + 1
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            raise InputError(Location(shown, first + 1), f"missing required SSSOM column {column!r}")
    rows = []
    for number, line in enumerate(lines[first + 1 :], start=first + 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise InputError(
                Location(shown, number), f"row has {len(cells)} cells, the header has {len(columns)} columns"
            )
        rows.append((number, cells))
    return metadata, meta, columns, rows


def _one_line(reader: Reader, node: YNode, what: str) -> str:
    """A header value as one line of text: the release writes each on one ``#`` line."""
    value = reader.text(node, what)
    unsafe = _UNSAFE_RE.search(value)
    if unsafe:
        raise reader.error(
            node.line,
            f"{what} contains the character U+{ord(unsafe.group()):04X} (a line break or control character)",
            "SSSOM metadata values are one line of text; write it on one line without escapes or block scalars",
        )
    return value


def _check_iri(value: str, what: str, where: Location) -> None:
    """Refuse a value the release publishes as an IRI unless it is an absolute IRI."""
    try:
        ox.NamedNode(value)
    except ValueError:
        ok = False
    else:
        ok = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value) is not None
    if not ok:
        raise InputError(
            where,
            f"{what} must be an absolute IRI, got {value!r}",
            "write the full IRI, e.g. https://creativecommons.org/licenses/by/4.0/",
        )


def load_mappings(path: Path, ontology: Ontology, *, display_path: Path | None = None) -> MappingSet:
    """Read and validate the mapping set; every problem is reported with its line."""
    shown = display_path or path
    metadata, meta, columns, rows = read_sssom(path, display_path=shown)
    reader = Reader(shown)
    _, curie_node = meta.items["curie_map"]
    curie_map_node = reader.mapping(curie_node, "curie_map", set(), set(_keys(curie_node)))
    curie_map = {k: _one_line(reader, v, f"curie_map {k}") for k, (_, v) in curie_map_node.items.items()}
    date_at = Location(shown, meta.items["mapping_date"][0])
    # published as an xsd:date: judged as every input's typed literals are, then held to SSSOM's YYYY-MM-DD
    ill_typed = literal_error(
        date_at, metadata["mapping_date"], XSD.date.value, "mapping_date", "write a day that exists, as YYYY-MM-DD"
    )
    if ill_typed is not None:
        raise ill_typed
    if not _DATE_RE.fullmatch(metadata["mapping_date"]):
        raise InputError(date_at, "mapping_date must be a date, YYYY-MM-DD")
    ill_typed = literal_error(
        Location(shown, meta.items["mapping_set_id"][0]), metadata["mapping_set_id"], XSD.anyURI.value, "mapping_set_id"
    )
    if ill_typed is not None:
        raise ill_typed
    if "subject_source" in metadata:
        # An entity reference, published as an IRI: a CURIE of the curie_map or an absolute IRI.
        _check_iri(
            expand_reference(metadata["subject_source"], curie_map),
            "subject_source",
            Location(shown, meta.items["subject_source"][0]),
        )
    errors: list[InputError] = []
    for prefix, uri in sorted(curie_map.items()):
        prefix_line = Location(shown, curie_map_node.items[prefix][0])
        if prefix in PREFIXES:
            # The release reads these prefixes as its own namespaces (subjects, predicates, justifications).
            conflict = prefix_conflict(prefix, uri)
            if conflict:
                errors.append(
                    InputError(
                        prefix_line,
                        f"curie_map: {conflict}",
                        f"expand {prefix} to {PREFIXES[prefix]} or remove it from the curie_map",
                    )
                )
            continue
        expected = rdf_uri_prefix(prefix)
        if expected is None:
            errors.append(InputError(prefix_line, f"curie_map prefix {prefix!r} is not in bioregistry"))
        elif uri != expected:
            errors.append(
                InputError(
                    prefix_line,
                    f"curie_map expands {prefix} to {uri}, but its preferred RDF form is {expected}",
                    "use bioregistry's RDF URI prefix so IRIs match other linked data",
                )
            )
    mappings: list[Mapping] = []
    seen: dict[tuple[str, str, str], int] = {}
    refused: set[str] = set()  # subjects of rows refused above: the class has a row, to be corrected
    for number, cells in rows:
        row = dict(zip(columns, cells, strict=True))
        try:
            mappings.append(_mapping(row, number, shown, ontology, curie_map))
        except InputError as exc:
            errors.append(exc)
            refused.add(BASE + row["subject_id"].strip().removeprefix("carnk:"))
            continue
        key = (mappings[-1].subject, mappings[-1].predicate, mappings[-1].object_curie)
        if key in seen:
            errors.append(InputError(Location(shown, number), f"duplicate mapping (first on line {seen[key]})"))
        seen[key] = number
    covered = {m.subject for m in mappings} | refused
    for iri, term in sorted(ontology.terms.items()):
        if term.kind == "class" and iri.startswith(BASE) and iri not in covered:
            errors.append(
                InputError(
                    Location(ontology.path, ontology.line_of(iri)),
                    f"class <{iri}> ({term.label}) has no mapping and no sssom:NoTermFound entry",
                    f"add a row to {shown}: a mapping, or sssom:NoTermFound naming the vocabularies checked",
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
    return MappingSet(shown, metadata, curie_map, mappings, _vocabularies(mappings))


def _vocabularies(mappings: list[Mapping]) -> dict[str, tuple[str, str]]:
    import bioregistry

    found = {}
    for vocab in sorted({m.vocabulary for m in mappings if not m.no_term}):
        norm = bioregistry.normalize_prefix(vocab) or vocab
        found[vocab] = (norm, bioregistry.get_name(norm) or norm)
    return found


def _keys(node: object) -> list[str]:
    return list(node.items) if isinstance(node, YMap) else []


def _mapping(row: dict[str, str], line: int, shown: Path, ontology: Ontology, curie_map: dict[str, str]) -> Mapping:
    where = Location(shown, line)
    subject = row["subject_id"].strip()
    if subject != row["subject_id"] or not subject.startswith("carnk:"):
        raise InputError(where, f"subject_id {row['subject_id']!r} must be a carnk: CURIE without spaces")
    subject_iri = BASE + subject.removeprefix("carnk:")
    term = ontology.terms.get(subject_iri)
    if term is None or term.kind != "class":
        raise InputError(where, f"subject_id {subject} is not a class of the ontology")
    if row.get("subject_label") and row["subject_label"] != term.label:
        raise InputError(
            where, f"subject_label {row['subject_label']!r} differs from the ontology's label {term.label!r}"
        )
    predicate = row["predicate_id"]
    if predicate not in PREDICATES:
        raise InputError(where, f"predicate_id {predicate!r} is not one of {', '.join(PREDICATES)}")
    justification = row["mapping_justification"]
    if not justification.startswith("semapv:") or len(justification) <= len("semapv:"):
        raise InputError(
            where, f"mapping_justification {justification!r} must be a semapv: term, e.g. semapv:ManualMappingCuration"
        )
    obj = row["object_id"]
    label = row.get("object_label", "")
    comment = row.get("comment", "")
    if obj == NO_TERM:
        if predicate != "skos:exactMatch" or label:
            raise InputError(where, "a sssom:NoTermFound row uses skos:exactMatch and has no object_label")
        if not comment:
            raise InputError(where, "a sssom:NoTermFound row needs a comment naming the vocabularies checked")
        iri = None
    else:
        try:
            obj, iri = standardize_curie(obj)
        except ValueError as exc:
            raise InputError(
                where, f"invalid object_id: {exc}", "check the identifier in the vocabulary's own release files"
            ) from None
        prefix = obj.split(":", 1)[0]
        if prefix not in curie_map:
            raise InputError(where, f"prefix {prefix} of {obj} is not in the header's curie_map")
        if curie_map[prefix] + obj.split(":", 1)[1] != iri:
            raise InputError(where, f"curie_map expands {obj} to {curie_map[prefix]}…, not the preferred {iri}")
        if not label:
            raise InputError(where, f"object_label is empty for {obj}", "copy the label as the vocabulary spells it")
    return Mapping(
        line,
        subject_iri,
        term.label or "",
        predicate,
        obj,
        iri,
        label,
        justification,
        row.get("object_source_version", ""),
        comment,
        _row_date(row.get("mapping_date", ""), where),
    )


def _row_date(value: str, where: Location) -> str:
    """A row's mapping_date: published as an xsd:date, so judged as every input's typed literals are."""
    if not value:
        return ""
    ill_typed = literal_error(where, value, XSD.date.value, "mapping_date", "write a day that exists, as YYYY-MM-DD")
    if ill_typed is not None:
        raise ill_typed
    if not _DATE_RE.fullmatch(value):
        raise InputError(where, f"mapping_date {value!r} must be a date, YYYY-MM-DD")
    return value


#: SSSOM slots published on each mapping record although the header states them for the whole set:
#: the schema marks them propagatable, and the SSSOM/RDF specification asks for the propagated form
#: where generic RDF applications read the file (they know nothing of propagation).
PROPAGATED_METADATA = ("mapping_date", "mapping_provider", "subject_source", "subject_source_version")


def mapping_set_iri(mapping_set: MappingSet) -> ox.NamedNode:
    """The mapping set's resource: SSSOM/RDF names it by its ``mapping_set_id``."""
    return ox.NamedNode(mapping_set.metadata["mapping_set_id"])


def expand_reference(value: str, curie_map: dict[str, str]) -> str:
    """An SSSOM entity reference (a CURIE of the set's curie_map, or an absolute IRI) as an IRI."""
    prefix, _, local = value.partition(":")
    return curie_map[prefix] + local if prefix in curie_map else value


def mapping_triples(mapping_set: MappingSet) -> list[ox.Triple]:
    """SKOS links on our terms, hasDbXref for exact matches, and the mapping set as SSSOM/RDF.

    The SSSOM part follows the SSSOM/RDF specification: every slot is the property the SSSOM
    LinkML schema gives as its ``slot_uri`` (``mapping_date`` is ``dcterms:created``, ``license``
    ``dcterms:license``, ``mapping_set_version`` ``owl:versionInfo``, ``comment`` ``rdfs:comment``,
    ...), else ``sssom:`` and the slot's name; the set is the resource named by its
    ``mapping_set_id``; entity references and URIs are IRIs, dates ``xsd:date``. Mapping records
    get IRIs (the schema's ``record_id``; no blank nodes): ``kg:mapping/<subject>/<predicate>/<object>``.
    """
    triples: list[ox.Triple] = []
    meta = mapping_set.metadata
    set_iri = mapping_set_iri(mapping_set)
    triples += [
        ox.Triple(set_iri, RDF.type, ox.NamedNode(SSSOM + "MappingSet")),
        ox.Triple(set_iri, DCTERMS.license, ox.NamedNode(meta["license"])),
    ]
    for key, prop in (
        ("mapping_set_title", DCTERMS.title),
        ("mapping_set_description", DCTERMS.description),
        ("mapping_set_version", OWL.versionInfo),
        ("comment", RDFS.comment),
    ):
        if key in meta:
            triples.append(ox.Triple(set_iri, prop, ox.Literal(meta[key])))
    # SSSOM propagates a set's slot only to a set none of whose mappings has its own value: where
    # a row gives its own mapping_date, the header's stays the set's and the other rows have none.
    rows_dated = any(m.mapping_date for m in mapping_set.mappings)
    if rows_dated:
        triples.append(ox.Triple(set_iri, DCTERMS.created, ox.Literal(meta["mapping_date"], datatype=XSD.date)))
    # The set's other propagatable slots, as each record states them.
    shared: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = []
    if "mapping_provider" in meta:
        shared.append((ox.NamedNode(SSSOM + "mapping_provider"), ox.NamedNode(meta["mapping_provider"])))
    if "subject_source" in meta:
        source = expand_reference(meta["subject_source"], mapping_set.curie_map)
        shared.append((ox.NamedNode(SSSOM + "subject_source"), ox.NamedNode(source)))
    if "subject_source_version" in meta:
        shared.append((ox.NamedNode(SSSOM + "subject_source_version"), ox.Literal(meta["subject_source_version"])))
    for m in mapping_set.mappings:
        subject = ox.NamedNode(m.subject)
        predicate = ox.NamedNode(SKOS + m.predicate.removeprefix("skos:"))
        target = ox.NamedNode(m.object_iri) if m.object_iri else ox.NamedNode(SSSOM + "NoTermFound")
        if m.object_iri:
            triples.append(ox.Triple(subject, predicate, target))
            if m.predicate == "skos:exactMatch":
                triples.append(ox.Triple(subject, OBOINOWL.hasDbXref, ox.Literal(m.object_curie)))
        record = ox.NamedNode(
            f"{KG}mapping/{m.subject.removeprefix(BASE)}/{m.predicate.removeprefix('skos:')}/"
            + m.object_curie.replace(":", "_")
        )
        triples += [
            ox.Triple(set_iri, ox.NamedNode(SSSOM + "mappings"), record),
            ox.Triple(record, RDF.type, OWL.Axiom),
            ox.Triple(record, OWL.annotatedSource, subject),
            ox.Triple(record, OWL.annotatedProperty, predicate),
            ox.Triple(record, OWL.annotatedTarget, target),
            ox.Triple(
                record,
                ox.NamedNode(SSSOM + "mapping_justification"),
                ox.NamedNode(SEMAPV + m.justification.removeprefix("semapv:")),
            ),
        ]
        if m.mapping_date or not rows_dated:
            date = m.mapping_date or meta["mapping_date"]
            triples.append(ox.Triple(record, DCTERMS.created, ox.Literal(date, datatype=XSD.date)))
        triples += [ox.Triple(record, prop, value) for prop, value in shared]
        if m.subject_label:
            triples.append(ox.Triple(record, ox.NamedNode(SSSOM + "subject_label"), ox.Literal(m.subject_label)))
        if m.object_label:
            triples.append(ox.Triple(record, ox.NamedNode(SSSOM + "object_label"), ox.Literal(m.object_label)))
        if m.object_source_version:
            triples.append(
                ox.Triple(record, ox.NamedNode(SSSOM + "object_source_version"), ox.Literal(m.object_source_version))
            )
        if m.comment:
            triples.append(ox.Triple(record, RDFS.comment, ox.Literal(m.comment)))
    return triples


def linkset_triples(mapping_set: MappingSet, dataset: ox.NamedNode) -> list[ox.Triple]:
    """VoID linksets: one per target vocabulary and link predicate, with its link count."""
    counts = Counter((m.vocabulary, m.predicate) for m in mapping_set.mappings if not m.no_term)
    triples = []
    for (vocab, predicate), count in sorted(counts.items()):
        norm, name = mapping_set.vocabularies[vocab]
        target = ox.NamedNode(f"https://bioregistry.io/registry/{norm}")
        linkset = ox.NamedNode(f"{KG}linkset/{norm}/{predicate.removeprefix('skos:')}")
        triples += [
            ox.Triple(dataset, ox.NamedNode(VOID + "subset"), linkset),
            ox.Triple(linkset, RDF.type, ox.NamedNode(VOID + "Linkset")),
            ox.Triple(linkset, ox.NamedNode(VOID + "subjectsTarget"), dataset),
            ox.Triple(linkset, ox.NamedNode(VOID + "objectsTarget"), target),
            ox.Triple(
                linkset, ox.NamedNode(VOID + "linkPredicate"), ox.NamedNode(SKOS + predicate.removeprefix("skos:"))
            ),
            ox.Triple(linkset, ox.NamedNode(VOID + "triples"), ox.Literal(str(count), datatype=XSD.integer)),
            ox.Triple(target, DCTERMS.title, ox.Literal(name)),
        ]
    return triples


COVERAGE_HEADER = ("vocabulary", "classes_exact", "classes_close_or_broad_only", "classes_total_linked")


def coverage(mapping_set: MappingSet, ontology: Ontology) -> tuple[dict[str, int], list[tuple[str, ...]]]:
    """Overall and per-vocabulary coverage of the ontology's classes.

    Overall: classes with an exact match, classes with only close/broad/narrow/related
    matches, and classes with no term found.
    """
    classes = sorted(i for i, t in ontology.terms.items() if t.kind == "class" and i.startswith(BASE))
    by_class: dict[str, set[str]] = defaultdict(set)
    by_vocab: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for m in mapping_set.mappings:
        if m.no_term:
            continue
        kind = PREDICATES[m.predicate]
        by_class[m.subject].add(kind)
        by_vocab[m.vocabulary][m.subject].add(kind)
    exact = sum(1 for c in classes if "exact" in by_class.get(c, ()))
    other = sum(1 for c in classes if by_class.get(c) and "exact" not in by_class[c])
    overall = {
        "classes": len(classes),
        "exact": exact,
        "close_or_broad_only": other,
        "no_term": len(classes) - exact - other,
    }
    rows: list[tuple[str, ...]] = []
    for vocab in sorted(by_vocab):
        subjects = by_vocab[vocab]
        v_exact = sum(1 for kinds in subjects.values() if "exact" in kinds)
        rows.append((vocab, str(v_exact), str(len(subjects) - v_exact), str(len(subjects))))
    return overall, rows


def render_sssom(mapping_set: MappingSet) -> bytes:
    """The mapping set as normalised SSSOM TSV for the release (sorted, deterministic)."""
    lines = ["# curie_map:"]
    for prefix in sorted(mapping_set.curie_map, key=str.lower):
        uri = mapping_set.curie_map[prefix]
        lines.append(f'#   {prefix}: "{uri}"')
    for key in sorted(mapping_set.metadata):
        lines.append(f"# {key}: {_yaml_scalar(mapping_set.metadata[key])}")
    dated = any(m.mapping_date for m in mapping_set.mappings)  # the column only where a row gives a date
    lines.append("\t".join(RELEASE_COLUMNS + (("mapping_date",) if dated else ())))
    order = {p: i for i, p in enumerate(PREDICATES)}
    for m in sorted(mapping_set.mappings, key=lambda m: (m.subject, order[m.predicate], m.object_curie)):
        cells = (
            "carnk:" + m.subject.removeprefix(BASE),
            m.subject_label,
            m.predicate,
            m.object_curie,
            m.object_label,
            m.justification,
            m.object_source_version,
            m.comment,
            *((m.mapping_date,) if dated else ()),
        )
        lines.append("\t".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _yaml_scalar(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_corpus_mappings(root: Path, ontology: Ontology) -> MappingSet:
    """The mapping set of the corpus tree at ``root``, checked against its ontology, errors naming its file."""
    return load_mappings(
        corpus_file(root / MAPPINGS_DIR, MAPPINGS_FILE, Path(MAPPINGS_DIR)),
        ontology,
        display_path=Path(MAPPINGS_DIR) / MAPPINGS_FILE,
    )
