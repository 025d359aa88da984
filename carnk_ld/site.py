"""The static site of a release (``site/``): an HTML page and four RDF files per described resource.

The site is the document root of ``https://w3id.org/carnk/``: the resource with IRI
``https://w3id.org/carnk/P`` is described by ``site/P.html``, ``P.ttl``, ``P.jsonld``,
``P.nt`` and ``P.rdf``. Described resources are the ontology, its terms (classes,
properties, named individuals), documents (``kg/doc/D``), statements (``kg/fact/D/ID``) and
study reports (``kg/study/D/ID``). Every other IRI under the base *belongs* to the described
resource whose path is its longest prefix followed by ``/``, and is shown on that page at
the fragment made of the rest of its path with ``/`` replaced by ``-``
(``kg/doc/D/segment/3`` is ``kg/doc/D.html#segment-3``).

A resource's RDF files hold the concise bounded description of the resource and of every
IRI that belongs to it (the triples with it as subject, and recursively those of blank-node
objects), from the union of the release's graphs.

Pages are rendered from what the build already holds, in one pass over each document's part
and one over the global triples: a document's pages need only its own part and the labels
of terms, and the term pages need only a small index of the statements and studies that
use each term, gathered during that pass. Every page is yielded as soon as it is rendered,
so the site of a large corpus is never held in memory at once.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

import jinja2
import pyoxigraph as ox
from markupsafe import Markup, escape

from carnk_ld.cache import Cache, digest
from carnk_ld.constants import BASE, KG, ONTOLOGY_IRI, PREFIXES
from carnk_ld.errors import InputError
from carnk_ld.facts import IS_A
from carnk_ld.graph import concise_description, sort_triples
from carnk_ld.mappings import MappingSet
from carnk_ld.ontology import Ontology
from carnk_ld.reason import Hierarchy
from carnk_ld.release import TreeFile
from carnk_ld.serialise import Sections, rdf_bytes
from carnk_ld.vocab import compact_iri
from carnk_ld.workers import Workers

#: The RDF alternates of every page: extension and media type (contract 2 of issue 18).
ALTERNATES = (
    ("ttl", "text/turtle"),
    ("jsonld", "application/ld+json"),
    ("nt", "application/n-triples"),
    ("rdf", "application/rdf+xml"),
)
#: Documents whose pages are rendered at once (by the workers); see :func:`site_entries`.
WINDOW = 64
#: The release folder that holds the site.
SITE_DIR = "site"
#: Site files that are not a resource's: a term whose path would take one of these names is refused.
RESERVED = ("index", "search", "style")

_esc = html.escape
_RDF = PREFIXES["rdf"]
_XSD_STRING = PREFIXES["xsd"] + "string"
_RDFS = PREFIXES["rdfs"]
_OA = PREFIXES["oa"]
_TYPE = _RDF + "type"
_LABEL = _RDFS + "label"
_TITLE = PREFIXES["dcterms"] + "title"
_IDENTIFIER = PREFIXES["dcterms"] + "identifier"
_DEFINITION = PREFIXES["obo"] + "IAO_0000115"
_SYNONYMS = (
    PREFIXES["oboInOwl"] + "hasExactSynonym",
    PREFIXES["oboInOwl"] + "hasRelatedSynonym",
    PREFIXES["oboInOwl"] + "hasBroadSynonym",
    PREFIXES["oboInOwl"] + "hasNarrowSynonym",
    PREFIXES["skos"] + "altLabel",
)
_STATEMENT = BASE + "Statement"
_STUDY_PREDICATES = (BASE + "studiedProduct", BASE + "studiedIntervention")
_KG_PATH = KG[len(BASE) :]
_DOC_RE = re.compile(re.escape(_KG_PATH) + r"doc/[^/]+")
_SCOPED_RE = re.compile(re.escape(_KG_PATH) + r"(?:fact|study)/[^/]+/[^/]+")
#: The escapes of carnk_ld.serialise.tsv_row, undone to read a coverage row back.
_TSV_ESCAPE = re.compile(r"\\([tnr\\])")
_TSV_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
#: What a segment of a site path may be (SHA256SUMS names files with these characters only).
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._~-]*")


class SiteShard(Protocol):
    """What the site reads of a document's part (see :class:`carnk_ld.parts.DocumentPart`)."""

    doc_id: str
    key: str  # a digest of everything the part is made from
    nt: Sections
    coverage_tsv: bytes


@dataclass
class SiteData:
    """The global inputs of the site: the ontology, its classification, the mappings and the conflicts."""

    ontology: Ontology
    hierarchy: Hierarchy
    mapping_set: MappingSet
    global_triples: list[ox.Triple]  # the global graphs plus the parts' triples about shared nodes
    conflicts: list[tuple[str, ...]]  # rows of conflicts.tsv (carnk_ld.conflicts.CONFLICTS_HEADER)


def path_of(iri: str) -> str | None:
    """The site path P of an IRI under the base (``https://w3id.org/carnk/P``), else None."""
    if iri.startswith(BASE) and len(iri) > len(BASE):
        return iri[len(BASE) :]
    return None


def _shape_described(path: str) -> bool:
    """A document, statement or study report path (described whatever the ontology holds)."""
    return bool(_DOC_RE.fullmatch(path) or _SCOPED_RE.fullmatch(path))


def other_paths(site: _Site, triples: Iterable[ox.Triple]) -> frozenset[str]:
    """The paths of the subjects under the base that no described resource owns: each gets a page of its own.

    They are the global graphs' nodes outside the ontology's terms (the dataset, named graphs,
    distributions, linksets, mappings); a path no page can have (see :data:`_SEGMENT_RE`) is left out.
    """
    found: set[str] = set()
    for t in triples:
        subject = t.subject
        if isinstance(subject, ox.NamedNode):
            path = path_of(subject.value)
            if (
                path is not None
                and path not in found
                and site.owner(path) is None
                and path.split("/", 1)[0] not in RESERVED
                and all(_SEGMENT_RE.fullmatch(part) for part in path.split("/"))
            ):
                found.add(path)
    return frozenset(found)


@dataclass
class _Site:
    """What every page needs: the ontology's terms as site paths, their labels, the link rules."""

    ontology: Ontology
    #: Paths of the release's other IRIs that belong to no term, document, statement or study
    #: (the dataset, its named graphs, distributions and linksets, the mappings): each has a page.
    others: frozenset[str] = frozenset()
    terms: dict[str, str] = field(default_factory=dict)  # site path -> IRI of every ontology term
    _compacted: dict[str, str] = field(default_factory=dict)
    iris: set[str] = field(default_factory=set)  # the IRIs of the terms
    links: dict[tuple[str, str], Markup] = field(default_factory=dict)  # (folder, term IRI) -> its link

    def __post_init__(self) -> None:
        for iri in self.ontology.terms:
            path = path_of(iri)
            if path is not None and not path.startswith(_KG_PATH) and iri != ONTOLOGY_IRI:
                self.terms[path] = iri
                self.iris.add(iri)
        for path in sorted(self.terms):
            if path in RESERVED or not all(_SEGMENT_RE.fullmatch(s) for s in path.split("/")):
                raise InputError(
                    self.ontology.path,
                    f"the term <{self.terms[path]}> cannot have a page of the site (site/{path}.html)",
                    "rename the term: its name must not be index, search or style, and use only letters, "
                    "digits and . _ ~ -",
                )

    def described(self, path: str) -> bool:
        return path == "ontology" or path in self.terms or _shape_described(path) or path in self.others

    def global_page(self, path: str) -> bool:
        """Whether the page of a described ``path`` is rendered from the global triples (not a document's part)."""
        return path == "ontology" or path in self.terms or path in self.others

    def owner(self, path: str) -> tuple[str, str] | None:
        """The described resource a path belongs to, and its fragment ("" for the resource itself)."""
        if self.described(path):
            return path, ""
        cut = path.rfind("/")
        while cut > 0:
            head = path[:cut]
            if self.described(head):
                return head, path[cut + 1 :].replace("/", "-")
            cut = path.rfind("/", 0, cut)
        return None

    def label(self, iri: str, local: dict[str, str]) -> str:
        """A term's label, a local node's label or title, else the IRI compacted."""
        found = local.get(iri)
        if found is not None:
            return found
        term = self.ontology.terms.get(iri)
        if term is not None and term.label:
            return term.label
        return self.compact(iri)

    def compact(self, iri: str) -> str:
        """:func:`compact_iri`, remembered for the IRIs outside the documents (they repeat on every page)."""
        if iri.startswith(KG):
            return "kg:" + iri[len(KG) :]
        found = self._compacted.get(iri)
        if found is None:
            found = self._compacted[iri] = compact_iri(iri)
        return found


class _Page:
    """Links from one page: relative hrefs, as the site must work under any base."""

    def __init__(self, site: _Site, path: str, labels: dict[str, str] | None = None):
        self.site = site
        self.path = path
        self.folder = posixpath.dirname(path)
        self.labels = labels or {}
        self.root = self.href_file("")  # "" or "../.." ...

    def href_file(self, target: str) -> str:
        """The relative link from this page to a site file (``target`` relative to the site root)."""
        if not self.folder:
            return target
        up = "../" * (self.folder.count("/") + 1)
        return up + target

    def href(self, iri: str) -> str | None:
        """The link to the page (and fragment) an IRI is shown at, or None when the site does not show it."""
        path = path_of(iri)
        if path is None:
            return None
        found = self.site.owner(path)
        if found is None:
            return None
        page, fragment = found
        if page == self.path:
            return "#" + fragment if fragment else "#"
        if self.folder and page.startswith(self.folder + "/"):
            link = page[len(self.folder) + 1 :] + ".html"
        else:
            link = self.href_file(page + ".html")
        return link + ("#" + fragment if fragment else "")

    def value(self, term: object) -> Markup:
        """How a triple's term is shown: a link to its page (or out of the site), or a literal and its type.

        Built with :func:`html.escape` rather than ``Markup.format``: a large site shows millions of values.
        """
        if isinstance(term, ox.NamedNode):
            iri = term.value
            key = (self.folder, iri)
            found = self.site.links.get(key)
            if found is not None:
                return found
            href = self.href(iri)
            text = _esc(self.site.label(iri, self.labels))
            if href is None:
                shown = Markup('<a href="' + _esc(iri) + '" class="external">' + text + "</a>")
            else:
                shown = Markup('<a href="' + _esc(href) + '">' + text + "</a>")
            if iri in self.site.iris:  # a term: shown alike on every page of a folder
                self.site.links[key] = shown
            return shown
        if isinstance(term, ox.BlankNode):
            return Markup('<span class="note">(an anonymous node, in the RDF files)</span>')
        assert isinstance(term, ox.Literal)
        if term.language:
            return Markup(_esc(term.value) + ' <span class="note">@' + _esc(term.language) + "</span>")
        if term.datatype.value != _XSD_STRING:
            note = self.site.compact(term.datatype.value)
            return Markup(_esc(term.value) + ' <span class="note">' + _esc(note) + "</span>")
        return Markup(_esc(term.value))

    def rows(self, triples: Iterable[ox.Triple]) -> list[tuple[Markup, Markup]]:
        """A property table: predicate and value of each triple."""
        return [(self.value(t.predicate), self.value(t.object)) for t in triples]


def _literal_values(triples: Iterable[ox.Triple], predicates: Sequence[str]) -> list[str]:
    return [t.object.value for t in triples if t.predicate.value in predicates and isinstance(t.object, ox.Literal)]


def _first_object(triples: Iterable[ox.Triple], predicate: str) -> ox.NamedNode | ox.Literal | None:
    for t in triples:
        if t.predicate.value == predicate:
            return t.object  # type: ignore[return-value]
    return None


def _int_of(term: object) -> int | None:
    if isinstance(term, ox.Literal):
        try:
            return int(term.value)
        except ValueError:
            return None
    return None


def highlight(text: str, base: int, spans: Sequence[tuple[int, int]]) -> Markup:
    """``text`` (which starts at offset ``base`` of its document) with every span marked.

    Spans are ``(start, end)`` offsets in the document; each is marked with ``<mark
    data-span="START-END">``, the first piece of each with ``id="quote-START-END"``. Spans
    may nest or cross: marks nest, and a mark a crossing span closes is closed and opened
    again after it (without the id), so the marks of a span, in order, hold exactly its text.
    """
    end_of_text = base + len(text)
    clipped = sorted(
        {(max(s, base), min(e, end_of_text), s, e) for s, e in spans if s < end_of_text and e > base and s < e},
        key=lambda x: (x[0], -x[1], x[2], x[3]),
    )
    boundaries = sorted({base, end_of_text, *(c[0] for c in clipped), *(c[1] for c in clipped)})
    out: list[str] = []
    stack: list[tuple[int, int, int, int]] = []
    opened: set[tuple[int, int]] = set()
    pending = list(clipped)

    def open_mark(span: tuple[int, int, int, int]) -> None:
        key = f"{span[2]}-{span[3]}"
        first = (span[2], span[3]) not in opened
        opened.add((span[2], span[3]))
        ident = f' id="quote-{key}"' if first and span[0] == span[2] else ""
        out.append(f'<mark data-span="{key}"{ident}>')
        stack.append(span)

    for here, after in itertools.pairwise(boundaries):
        # close what ends here (reopening what was opened inside it and goes on)
        ending = [i for i, span in enumerate(stack) if span[1] <= here]
        if ending:
            closed = stack[ending[0] :]
            del stack[ending[0] :]
            out.append("</mark>" * len(closed))
            for span in closed:
                if span[1] > here:
                    open_mark(span)
        starting = [c for c in pending if c[0] == here]
        pending = [c for c in pending if c[0] != here]
        for span in starting:
            open_mark(span)
        out.append(str(escape(text[here - base : after - base])))
    out.extend("</mark>" for _ in stack)
    return Markup("".join(out))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("carnk_ld", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["value"] = _shown
    return env


_NONE = Markup('<span class="none">(none)</span>')


def _shown(value: Markup | None) -> Markup:
    """A value as :meth:`_Page.value` rendered it, or "(none)"."""
    return _NONE if value is None else value


def _embedded(jsonld: bytes) -> Markup:
    """JSON-LD text safe inside ``<script>``: ``<``, ``>`` and ``&`` occur in JSON strings only, escaped there."""
    text = jsonld.decode("utf-8").replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _rdf_files(path: str, triples: list[ox.Triple]) -> Iterator[tuple[str, bytes]]:
    ordered = sort_triples(triples)
    for ext, _ in ALTERNATES:
        yield f"{path}.{ext}", rdf_bytes(ordered, ext, presorted=True)


@dataclass
class TermUse:
    """A statement that uses a term, as a term page lists it."""

    path: str
    role: str  # subject, predicate, object
    subject: str
    predicate: str
    object: str
    polarity: str
    modality: str
    document: str  # document path
    document_title: str


@dataclass
class StudyRef:
    path: str
    label: str
    document: str
    document_title: str
    trial: str


def _cbd(subjects: Iterable[object], index: dict[object, list[ox.Triple]]) -> list[ox.Triple]:
    """The triples of ``subjects`` and, recursively, of their blank-node objects."""
    return concise_description(subjects, lambda node: index.get(node, ()))


@dataclass
class Gathered:
    """What the pages of documents tell the global pages: term uses, study reports, search entries.

    Plain dicts (not defaultdicts): a document's is kept in the build cache (:class:`DocumentPages`).
    """

    uses: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)  # term IRI -> TermUse fields
    studies_of: dict[str, list[StudyRef]] = field(default_factory=dict)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (path, title)
    studies: list[StudyRef] = field(default_factory=list)
    statements: int = 0
    search: list[dict[str, object]] = field(default_factory=list)

    def add(self, other: Gathered) -> None:
        for iri, found in other.uses.items():
            self.uses.setdefault(iri, []).extend(found)
        for iri, refs in other.studies_of.items():
            self.studies_of.setdefault(iri, []).extend(refs)
        self.documents.extend(other.documents)
        self.studies.extend(other.studies)
        self.statements += other.statements
        self.search.extend(other.search)


@dataclass
class DocumentPages:
    """A document's site files by path and SHA-256, and what they tell the global pages.

    Kept in the build cache under a key of the document's part and the conflicts that name
    the document: a later build that finds it, and finds those very files in the release it
    replaces, reuses them instead of rendering the document's pages again.
    """

    paths: str  # the files' paths, one a line
    digests: str  # their SHA-256s (hex), one after another
    gathered: Gathered

    @classmethod
    def of(cls, files: Sequence[TreeFile], gathered: Gathered) -> DocumentPages:
        return cls("\n".join(f.path for f in files), "".join(f.digest for f in files), gathered)

    def files(self) -> list[tuple[str, str]]:
        """(path, SHA-256) of each file."""
        paths = self.paths.split("\n") if self.paths else []
        return [(path, self.digests[64 * i : 64 * i + 64]) for i, path in enumerate(paths)]


#: The dataclasses of the site that the build cache holds (see carnk_ld.pipeline.cached_types).
CACHED_TYPES: tuple[type, ...] = (DocumentPages, Gathered, StudyRef)


_State = tuple[_Site, jinja2.Environment, dict[str, list[tuple[str, ...]]]]


class _Shared:
    """What every document's pages need, sent once to each worker, and the state made from it there.

    The state (link rules, templates, conflicts by trial) is made on first use in each
    process that receives this object and kept on it, not pickled with it (a Jinja
    environment cannot be): a worker makes it once for all its documents.
    """

    def __init__(self, ontology: Ontology, conflicts: list[tuple[str, ...]], others: frozenset[str]):
        self.ontology = ontology
        self.conflicts = conflicts
        self.others = others
        self._state: _State | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"ontology": self.ontology, "conflicts": self.conflicts, "others": self.others, "_state": None}

    def state(self) -> _State:
        if self._state is None:
            by_trial: dict[str, list[tuple[str, ...]]] = defaultdict(list)
            for row in self.conflicts:
                by_trial[row[0]].append(row)
            self._state = (_Site(self.ontology, self.others), _environment(), by_trial)
        return self._state


def _file(path: str, data: bytes) -> TreeFile:
    return TreeFile(path, hashlib.sha256(data).hexdigest(), data)


def _document_files(shared: _Shared, item: tuple[str, bytes, bytes]) -> tuple[list[TreeFile], Gathered]:
    """The files of one document's pages (a worker's task, hashed there) and what they tell the global pages."""
    site, env, by_trial = shared.state()
    gathered = Gathered()
    files = [_file(path, data) for path, data in _document_pages(site, env, *item, gathered, by_trial)]
    return files, gathered


def site_entries(
    shards: Sequence[SiteShard],
    data: SiteData,
    pool: Workers | None = None,
    cache: Cache | None = None,
    previous: Mapping[str, str] | None = None,
) -> Iterator[TreeFile]:
    """Every file of ``site/`` (its path under ``site/``, SHA-256 and bytes).

    The pages of each document are rendered by ``pool`` (in order, each document's as soon
    as it and those before it are done), then the pages of terms, the ontology and the home
    page here; the files are yielded one document at a time.

    A document whose pages ``cache`` holds (:class:`DocumentPages`), all of them in
    ``previous`` (path under ``site/`` -> SHA-256 of the files of the release being
    replaced that were found intact) with the same digests, is not rendered again: its files
    are yielded without bytes, for the release writer to take from that release.
    """
    previous = previous or {}
    others = other_paths(_Site(data.ontology), data.global_triples)
    shared = _Shared(data.ontology, data.conflicts, others)
    site, env, by_trial = shared.state()
    yield _file("style.css", resources.files("carnk_ld").joinpath("templates/style.css").read_bytes())
    ordered = sorted(shards, key=lambda s: s.doc_id)
    naming: dict[str, list[tuple[str, ...]]] = defaultdict(list)  # document -> the conflict rows naming it
    for row in data.conflicts:
        for doc_id in sorted({row[5], row[8]}):
            naming[doc_id].append(row)
    others_key = digest(*sorted(others))  # a document's pages link to these IRIs' pages
    gathered = Gathered()
    # A window of documents at a time: the workers' finished pages wait in this process until
    # written, and a window bounds them (and the N-Triples sent out) whatever the corpus.
    for at in range(0, len(ordered), WINDOW):
        window = ordered[at : at + WINDOW]
        keys = [
            digest(s.key, "site pages", others_key, *("\t".join(row) for row in naming.get(s.doc_id, ())))
            for s in window
        ]
        kept: list[DocumentPages | None] = []
        for key in keys:
            found = cache.get("site", key) if cache is not None else None
            usable = isinstance(found, DocumentPages) and all(previous.get(p) == d for p, d in found.files())
            kept.append(found if usable else None)  # type: ignore[arg-type]
        items = [(s.doc_id, s.nt.text(), s.coverage_tsv) for s, k in zip(window, kept, strict=True) if k is None]
        results = pool.imap(_document_files, shared, items) if pool is not None else (
            _document_files(shared, item) for item in items
        )
        for key, pages in zip(keys, kept, strict=True):
            if pages is None:
                files, found_here = next(results)
                yield from files
                pages = DocumentPages.of(files, found_here)
                if cache is not None:
                    cache.put("site", key, pages)
            else:
                yield from (TreeFile(path, sha, None) for path, sha in pages.files())
            gathered.add(pages.gathered)
        # Every result was taken: run the pool's generator to its end, so that it shuts its
        # workers down as after a finished map (dropped half-way, it would kill them as stopped).
        if next(results, None) is not None:
            raise AssertionError("more rendered documents than asked for")
    for path, page_bytes in _global_pages(site, data, env, gathered, by_trial):
        yield _file(path, page_bytes)


def _render(env: jinja2.Environment, template: str, page: _Page, title: str, triples: list[ox.Triple],
            **context: object) -> Iterator[tuple[str, bytes]]:
    """The HTML page and the RDF files of one described resource."""
    files = dict(_rdf_files(page.path, triples))
    name = posixpath.basename(page.path)
    html = env.get_template(template).render(
        page=page,
        title=title,
        root=page.root,
        alternates=[(name + "." + ext, media) for ext, media in ALTERNATES],
        jsonld=_embedded(files[page.path + ".jsonld"]),
        iri=BASE + page.path,
        **context,
    )
    yield page.path + ".html", html.encode("utf-8")
    yield from files.items()


def _conflict_rows(page: _Page, rows: Iterable[tuple[str, ...]]) -> list[dict[str, object]]:
    shown: list[dict[str, object]] = []
    for row in rows:
        trial, measure, time_point, subgroup, among, doc_a, value_a, quote_a, doc_b, value_b, quote_b = row
        shown.append({
            "trial": trial,
            "measure": page.value(ox.NamedNode(measure)),
            "context": ", ".join(
                x for x in (time_point, page.site.label(subgroup, {}) if subgroup else "", among) if x
            ),
            "a": {"doc": page.href(KG + "doc/" + doc_a), "name": doc_a, "value": value_a, "quote": quote_a},
            "b": {"doc": page.href(KG + "doc/" + doc_b), "name": doc_b, "value": value_b, "quote": quote_b},
        })
    return shown


def _document_pages(
    site: _Site,
    env: jinja2.Environment,
    doc_id: str,
    nt_text: bytes,
    coverage_tsv: bytes,
    gathered: Gathered,
    conflicts_by_trial: dict[str, list[tuple[str, ...]]],
) -> Iterator[tuple[str, bytes]]:
    """The pages of one document, its statements and study reports, from its part's N-Triples alone."""
    uses, studies_of, search = gathered.uses, gathered.studies_of, gathered.search
    doc_path = _KG_PATH + "doc/" + doc_id
    doc_iri = BASE + doc_path
    site.links.clear()  # the folders of this document's pages are its own
    index: dict[object, list[ox.Triple]] = defaultdict(list)
    for t in ox.parse(nt_text, format=ox.RdfFormat.N_TRIPLES):
        subject = t.subject
        if isinstance(subject, ox.NamedNode):
            path = path_of(subject.value)
            if path is None or not (path == doc_path or site.owner(path) is not None):
                continue
            index[subject].append(t)
    # the part's own subjects only: a triple about a term is the term's (rendered with the global triples)
    owned: dict[str, list[ox.NamedNode]] = defaultdict(list)
    for subject in index:
        assert isinstance(subject, ox.NamedNode)
        found = site.owner(path_of(subject.value) or "")
        if found is None or site.global_page(found[0]):
            continue
        owned[found[0]].append(subject)
    for subject in list(index):
        found = site.owner(path_of(subject.value) or "")  # type: ignore[attr-defined]
        if found is None or site.global_page(found[0]):
            del index[subject]
    labels: dict[str, str] = {}
    for subject, triples in index.items():
        for t in triples:
            if t.predicate.value in (_LABEL, _TITLE) and isinstance(t.object, ox.Literal):
                labels.setdefault(subject.value, t.object.value)  # type: ignore[attr-defined]
    for subject, triples in index.items():
        if subject.value not in labels:  # type: ignore[attr-defined]
            for t in triples:
                if t.predicate.value == _IDENTIFIER and isinstance(t.object, ox.Literal):
                    labels[subject.value] = t.object.value  # type: ignore[attr-defined]
    doc_title = labels.get(doc_iri, doc_id)
    gathered.documents.append((doc_path, doc_title))
    search.append({"label": doc_title, "synonyms": [], "path": doc_path + ".html"})

    def node(path: str) -> ox.NamedNode:
        return ox.NamedNode(BASE + path)

    def own(subject: ox.NamedNode) -> list[ox.Triple]:
        return index.get(subject, [])

    # quotes: each position selector's span, by the resource it evidences
    spans: dict[tuple[int, int], list[str]] = defaultdict(list)  # (start, end) -> described paths quoting it
    span_of: dict[str, tuple[int, int]] = {}  # described path -> its (first) span
    for subject, triples in index.items():
        if any(t.predicate.value == _TYPE and str(t.object) == f"<{_OA}TextPositionSelector>" for t in triples):
            start = _int_of(_first_object(triples, _OA + "start"))
            end = _int_of(_first_object(triples, _OA + "end"))
            found = site.owner(path_of(subject.value) or "")  # type: ignore[attr-defined]
            if start is not None and end is not None and found is not None:
                spans[(start, end)].append(found[0])
                span_of.setdefault(found[0], (start, end))
    segments: list[dict[str, object]] = []
    segment_by_iri: dict[str, dict[str, object]] = {}
    page = _Page(site, doc_path, labels)
    for subject in owned.get(doc_path, []):
        triples = own(subject)
        if _first_object(triples, BASE + "segmentOf") is None:
            continue
        number = _int_of(_first_object(triples, BASE + "segmentIndex")) or 0
        start = _int_of(_first_object(triples, BASE + "segmentStart")) or 0
        end = _int_of(_first_object(triples, BASE + "segmentEnd")) or start
        text_term = _first_object(triples, BASE + "segmentText")
        text = text_term.value if isinstance(text_term, ox.Literal) else None
        inside = sorted(s for s in spans if s[0] < end and s[1] > start)
        segment = {
            "number": number,
            "id": (page.href(subject.value) or "#")[1:],
            "start": start,
            "end": end,
            "text": highlight(text, start, inside) if text is not None else None,
            "raw": text,
            "quotes": [
                {"key": f"{s}-{e}", "by": [{"href": page.href(BASE + p), "text": labels.get(BASE + p, p)}
                                           for p in sorted(set(spans[(s, e)]))]}
                for s, e in inside
            ],
        }
        segments.append(segment)
        segment_by_iri[subject.value] = segment
    segments.sort(key=lambda s: (s["number"], s["id"]))
    ledger = []
    for line in coverage_tsv.decode("utf-8").split("\n"):
        if not line:
            continue
        cells = [_TSV_ESCAPE.sub(lambda m: _TSV_UNESCAPED[m.group(1)], c) for c in line.split("\t")]
        _, row_number, row_start, row_end, status, facts_or_reason, note, _text = cells
        entry: dict[str, object] = {
            "number": row_number, "start": row_start, "end": row_end, "status": status, "note": note,
            "href": page.href(doc_iri + "/segment/" + row_number),
        }
        if status == "facts":
            entry["facts"] = [{"text": name, "href": page.href(f"{KG}fact/{doc_id}/{name}")}
                              for name in facts_or_reason.split()]
        else:
            entry["reason"] = facts_or_reason
        ledger.append(entry)

    # statements and study reports of this document
    statements = sorted(p for p in owned if p.startswith(_KG_PATH + "fact/"))
    studies = sorted(p for p in owned if p.startswith(_KG_PATH + "study/"))
    stmt_rows = []
    from_study: dict[str, list[str]] = defaultdict(list)  # study IRI -> its statements' paths, in order
    for path in statements:
        triples = own(node(path))
        study = _first_object(triples, BASE + "fromStudy")
        if isinstance(study, ox.NamedNode):
            from_study[study.value].append(path)
        subject = _first_object(triples, _RDF + "subject")
        predicate = _first_object(triples, _RDF + "predicate")
        obj = _first_object(triples, _RDF + "object")
        polarity = _first_object(triples, BASE + "polarity")
        modality = _first_object(triples, BASE + "modality")
        if subject is None or predicate is None or obj is None:
            continue
        gathered.statements += 1
        use_args = (
            path, subject.value, predicate.value, obj.value,
            polarity.value if polarity is not None else "", modality.value if modality is not None else "",
            doc_path, doc_title,
        )
        for role, term in (("subject", subject), ("predicate", predicate), ("object", obj)):
            if isinstance(term, ox.NamedNode) and path_of(term.value) in site.terms:
                uses.setdefault(term.value, []).append((use_args[0], role, *use_args[1:]))
        stmt_rows.append({
            "href": page.href(BASE + path), "id": labels.get(BASE + path, path),
            "subject": page.value(subject), "predicate": page.value(predicate), "object": page.value(obj),
            "polarity": page.value(polarity) if polarity is not None else None,
            "modality": page.value(modality) if modality is not None else None,
        })
    study_refs: dict[str, StudyRef] = {}
    for path in studies:
        triples = own(node(path))
        trial = _first_object(triples, BASE + "reportsOnTrial")
        ref = StudyRef(path, labels.get(BASE + path, path), doc_path, doc_title,
                        trial.value if isinstance(trial, ox.NamedNode) else "")
        study_refs[path] = ref
        gathered.studies.append(ref)
        search.append({"label": ref.label, "synonyms": [], "path": path + ".html"})
        products = sorted({t.object.value for s in owned[path] for t in own(s)
                           if t.predicate.value in _STUDY_PREDICATES and isinstance(t.object, ox.NamedNode)})
        for product in products:
            studies_of.setdefault(product, []).append(ref)

    def owned_sections(page: _Page, path: str, skip: set[str]) -> list[dict[str, object]]:
        """A property table for each IRI that belongs to ``path`` (other than itself and ``skip``)."""
        sections: list[dict[str, object]] = []
        for subject in sorted(owned.get(path, []), key=lambda s: s.value):
            if subject.value == BASE + path or subject.value in skip:
                continue
            href = page.href(subject.value) or "#"
            sections.append({"id": href[1:], "iri": subject.value, "rows": page.rows(own(subject))})
        return sections

    # the document page
    doc_triples = _cbd(owned.get(doc_path, []), index)
    yield from _render(
        env, "document.html", page, doc_title, doc_triples,
        rows=page.rows(own(node(doc_path))),
        segments=segments,
        ledger=ledger,
        statements=stmt_rows,
        studies=[{"href": page.href(BASE + r.path), "text": r.label} for r in study_refs.values()],
        owned_nodes=owned_sections(page, doc_path, set(segment_by_iri)),
    )
    for path in statements:
        spage = _Page(site, path, labels)
        triples = own(node(path))
        derived = _first_object(triples, PREFIXES["prov"] + "wasDerivedFrom")
        sentence = None
        if isinstance(derived, ox.NamedNode) and derived.value in segment_by_iri:
            segment = segment_by_iri[derived.value]
            quote = span_of.get(path)
            raw: object = segment["raw"]
            sentence = {
                "href": spage.href(derived.value),
                "number": segment["number"],
                "text": highlight(raw, segment["start"], [quote] if quote else [])  # type: ignore[arg-type]
                if isinstance(raw, str) else None,
            }
        main = {t.predicate.value: t.object for t in triples}
        yield from _render(
            env, "statement.html", spage, _claim_title(main, lambda iri: site.label(iri, labels)) or path,
            _cbd(owned[path], index),
            subject=spage.value(main[_RDF + "subject"]) if _RDF + "subject" in main else None,
            predicate=spage.value(main[_RDF + "predicate"]) if _RDF + "predicate" in main else None,
            object=spage.value(main[_RDF + "object"]) if _RDF + "object" in main else None,
            rows=spage.rows(t for t in triples if not t.predicate.value.startswith(_RDF)),
            sentence=sentence,
            document={"href": spage.href(doc_iri), "text": doc_title},
            owned_nodes=owned_sections(spage, path, set()),
        )
    for path, ref in study_refs.items():
        tpage = _Page(site, path, labels)
        conflicts = [row for row in conflicts_by_trial.get(ref.trial, ()) if doc_id in (row[5], row[8])]
        stated = from_study.get(BASE + path, [])
        yield from _render(
            env, "study.html", tpage, ref.label, _cbd(owned[path], index),
            rows=tpage.rows(own(node(path))),
            document={"href": tpage.href(doc_iri), "text": doc_title},
            statements=[{"href": tpage.href(BASE + p), "text": labels.get(BASE + p, p)} for p in stated],
            conflicts=_conflict_rows(tpage, conflicts),
            owned_nodes=owned_sections(tpage, path, set()),
        )


def _claim_title(main: Mapping[str, object], label: Callable[[str], str]) -> str | None:
    """A statement's page title: its claim in words ("allogeneic NK cell therapy · has toxicity risk ·
    graft-versus-host disease (negated)"), since a statement has no label of its own."""
    words = []
    for role in ("subject", "predicate", "object"):
        term = main.get(_RDF + role)
        if not isinstance(term, ox.NamedNode):
            return None
        words.append("is a" if term.value == IS_A else label(term.value))
    title = " · ".join(words)
    if main.get(BASE + "polarity") == ox.NamedNode(BASE + "Negated"):
        title += " (negated)"
    if main.get(BASE + "modality") == ox.NamedNode(BASE + "Possible"):
        title += " (possible)"
    return title


def _tree(
    roots: list[str], children: dict[str, list[str]], page: _Page
) -> list[dict[str, object]]:
    """A class tree as nested items; a class seen before is shown once more without its subtree (a DAG stays linear)."""
    seen: set[str] = set()

    def item(iri: str) -> dict[str, object]:
        repeat = iri in seen
        seen.add(iri)
        kids = [] if repeat else [item(c) for c in children.get(iri, [])]
        return {"value": page.value(ox.NamedNode(iri)), "children": kids, "repeat": repeat}

    return [item(r) for r in roots]


def _global_pages(
    site: _Site,
    data: SiteData,
    env: jinja2.Environment,
    gathered: Gathered,
    conflicts_by_trial: dict[str, list[tuple[str, ...]]],
) -> Iterator[tuple[str, bytes]]:
    """The term pages, the ontology page, the home page and ``search.json``."""
    uses, studies_of, search = gathered.uses, gathered.studies_of, gathered.search
    documents, all_studies = gathered.documents, gathered.studies
    ontology = data.ontology
    hierarchy = data.hierarchy
    site.links.clear()
    index: dict[object, list[ox.Triple]] = defaultdict(list)
    for t in data.global_triples:
        index[t.subject].append(t)
    owned: dict[str, list[object]] = defaultdict(list)
    for subject in index:
        if isinstance(subject, ox.NamedNode):
            path = path_of(subject.value)
            found = site.owner(path) if path is not None else None
            if found is not None and site.global_page(found[0]):
                owned[found[0]].append(subject)
    asserted_children: dict[str, list[str]] = defaultdict(list)
    inferred_children: dict[str, list[str]] = defaultdict(list)
    for child, parents in sorted(hierarchy.asserted.items()):
        for parent in parents:
            asserted_children[parent].append(child)
    for child, parents in sorted(hierarchy.inferred_direct.items()):
        for parent in parents:
            inferred_children[parent].append(child)
    mappings_of: dict[str, list[object]] = defaultdict(list)
    for mapping in data.mapping_set.mappings:
        mappings_of[mapping.subject].append(mapping)
    kinds: dict[str, list[str]] = defaultdict(list)
    for path in sorted(site.terms):
        iri = site.terms[path]
        term = ontology.terms[iri]
        kinds[term.kind].append(iri)
        page = _Page(site, path)
        own = index.get(ox.NamedNode(iri), [])
        synonyms = sorted(set(_literal_values(own, _SYNONYMS)))
        label = term.label or path
        search.append({"label": label, "synonyms": synonyms, "path": path + ".html"})
        trials = sorted({ref.trial for ref in studies_of.get(iri, []) if ref.trial})
        conflicts = [row for trial in trials for row in conflicts_by_trial.get(trial, ())]
        term_uses = sorted((TermUse(*u) for u in uses.get(iri, [])), key=lambda u: (u.document, u.path, u.role))
        yield from _render(
            env, "term.html", page, label, _cbd(owned.get(path, [ox.NamedNode(iri)]), index),
            term=term,
            kind=term.kind,
            definitions=_literal_values(own, (_DEFINITION,)),
            synonyms=synonyms,
            parents=[page.value(ox.NamedNode(p)) for p in hierarchy.asserted.get(iri, ())],
            inferred=[page.value(ox.NamedNode(p)) for p in hierarchy.inferred_direct.get(iri, ())],
            ancestors=[page.value(ox.NamedNode(p)) for p in hierarchy.inferred_all.get(iri, ())],
            children=[page.value(ox.NamedNode(c)) for c in asserted_children.get(iri, [])],
            inferred_children=[page.value(ox.NamedNode(c)) for c in inferred_children.get(iri, [])],
            mappings=[
                {"predicate": m.predicate, "curie": m.object_curie, "iri": m.object_iri, "label": m.object_label,  # type: ignore[attr-defined]
                 "justification": m.justification, "no_term": m.no_term}  # type: ignore[attr-defined]
                for m in mappings_of.get(iri, [])
            ],
            uses=[
                {"href": page.href(BASE + u.path), "id": u.path.rsplit("/", 1)[-1], "role": u.role,
                 "subject": page.value(ox.NamedNode(u.subject)), "predicate": page.value(ox.NamedNode(u.predicate)),
                 "object": page.value(ox.NamedNode(u.object)),
                 "polarity": page.value(ox.NamedNode(u.polarity)) if u.polarity else None,
                 "modality": page.value(ox.NamedNode(u.modality)) if u.modality else None,
                 "document": {"href": page.href(BASE + u.document), "text": u.document_title}}
                for u in term_uses
            ],
            studies=[{"href": page.href(BASE + r.path), "text": r.label,
                      "document": {"href": page.href(BASE + r.document), "text": r.document_title}}
                     for r in studies_of.get(iri, [])],
            conflicts=_conflict_rows(page, conflicts),
            rows=page.rows(own),
        )
    for path in sorted(site.others):
        page = _Page(site, path)
        own = index.get(ox.NamedNode(BASE + path), [])
        named = _literal_values(own, (_TITLE, _LABEL, _IDENTIFIER))
        title = named[0] if named else site.compact(BASE + path)
        for label in sorted(set(_literal_values(own, (_TITLE, _LABEL)))):
            search.append({"label": label, "synonyms": [], "path": path + ".html"})
        types = [page.value(t.object) for t in own if t.predicate.value == _TYPE]
        yield from _render(
            env, "resource.html", page, title, _cbd(owned.get(path, [ox.NamedNode(BASE + path)]), index),
            kind=Markup("A ") + Markup(", ").join(types) + Markup(" of this release.") if types else "",
            rows=page.rows(own),
        )
    page = _Page(site, "ontology")
    classes = sorted(hierarchy.asserted)
    asserted_roots = [c for c in classes if not hierarchy.asserted.get(c)]
    inferred_roots = [c for c in classes if not hierarchy.inferred_direct.get(c)]
    ontology_iri = ox.NamedNode(ONTOLOGY_IRI)
    meta = index.get(ontology_iri, [])
    title = next((v for v in _literal_values(meta, (_TITLE, _LABEL))), "The carnk ontology")
    yield from _render(
        env, "ontology.html", page, title, _cbd(owned.get("ontology", [ontology_iri]), index),
        rows=page.rows(meta),
        asserted=_tree(asserted_roots, asserted_children, page),
        inferred=_tree(inferred_roots, inferred_children, page),
        properties=[page.value(ox.NamedNode(i)) for kind in sorted(kinds) if kind.endswith("property")
                    for i in kinds[kind]],
        individuals=[page.value(ox.NamedNode(i)) for i in kinds.get("individual", [])],
    )
    home = _Page(site, "index")
    html = env.get_template("index.html").render(
        page=home,
        title=title,
        root="",
        counts={
            "classes": len(kinds.get("class", [])),
            "properties": sum(len(v) for k, v in kinds.items() if k.endswith("property")),
            "individuals": len(kinds.get("individual", [])),
            "documents": len(documents),
            "statements": gathered.statements,
            "studies": len(all_studies),
        },
        documents=[{"href": p + ".html", "text": t} for p, t in documents],
        studies=[{"href": r.path + ".html", "text": r.label,
                  "document": {"href": r.document + ".html", "text": r.document_title}} for r in all_studies],
    )
    yield "index.html", html.encode("utf-8")
    search.sort(key=lambda entry: str(entry["path"]))
    yield "search.json", (json.dumps(search, ensure_ascii=False, indent=0) + "\n").encode("utf-8")


__all__ = [
    "ALTERNATES",
    "CACHED_TYPES",
    "SITE_DIR",
    "DocumentPages",
    "Gathered",
    "SiteData",
    "SiteShard",
    "StudyRef",
    "TermUse",
    "highlight",
    "path_of",
    "site_entries",
]
