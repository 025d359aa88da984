"""Load the hand-edited ontology and index its terms for the later stages.

The index answers the questions the fact resolver asks (is this term declared, what kind
is it, is A a subclass of B, what are a property's domain and range) without a reasoner,
and remembers the line each term is declared on so errors can point there.

A property's domain and range come from ``rdfs:domain`` and ``rdfs:range`` for object and
datatype properties (they relate individuals, for which the RDFS meaning is right) and from
``schema:domainIncludes`` and ``schema:rangeIncludes`` for annotation properties: those relate
classes, and RDFS reasoning over ``rdfs:domain`` would make each class a fact names an instance
of the domain class.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.constants import BASE, ONTOLOGY_DIR, ONTOLOGY_FILE, ONTOLOGY_IRI, PREFIXES
from carnk_ld.corpusfiles import corpus_file, read_input_text
from carnk_ld.errors import InputError, InputErrors, Location
from carnk_ld.hints import did_you_mean
from carnk_ld.literals import LEXICAL_HINT, literal_problem, store_rewrite, xml_problem, xsd_name
from carnk_ld.literals import XSD as XSD_NS
from carnk_ld.rdfio import (
    declared_prefixes,
    literal_position,
    parse_rdf_file,
    rdfxml_predicate_problem,
    split_lines,
    subject_lines,
    value_line,
)
from carnk_ld.scopes import code_lines
from carnk_ld.vocab import DCTERMS, OWL, RDF, RDFS, SCHEMA, SKOS, compact_iri

_KINDS = {
    OWL.Class: "class",
    OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property",
    OWL.AnnotationProperty: "annotation property",
    OWL.NamedIndividual: "individual",
}
OWL_THING = PREFIXES["owl"] + "Thing"
_ANNOTATION = "annotation property"
#: The predicates that state a property's domain and range: schema.org's pair (which has no RDFS
#: or OWL entailments) for an annotation property, the RDFS pair for any other.
_INCLUDES = (SCHEMA.domainIncludes, SCHEMA.rangeIncludes)
_RDFS_BOUNDS = (RDFS.domain, RDFS.range)


def _bounds(kind: str) -> tuple[ox.NamedNode, ox.NamedNode]:
    """The predicates of the domain and the range of a term of ``kind``."""
    return _INCLUDES if kind == _ANNOTATION else _RDFS_BOUNDS


@dataclass
class Term:
    """One declared ontology term."""

    iri: str
    kind: str
    label: str | None = None
    #: The class a subject must lie within: ``rdfs:domain``, or ``schema:domainIncludes`` of an annotation property.
    domain: str | None = None
    #: The class an object must lie within: ``rdfs:range``, or ``schema:rangeIncludes`` of an annotation property.
    range: str | None = None
    types: set[str] = field(default_factory=set)
    #: ``skos:notation``: the word facts files write for a controlled value (one expected).
    notations: list[str] = field(default_factory=list)

    @property
    def local_name(self) -> str:
        """The part after the carnk: namespace (the name curators write)."""
        return self.iri[len(BASE) :] if self.iri.startswith(BASE) else self.iri


@dataclass
class Ontology:
    """The parsed ontology: its triples plus an index of terms and the asserted hierarchy.

    ``parents`` are the asserted ``rdfs:subClassOf`` superclasses. ``subsumers`` are what "is a
    kind of" questions use: until the reasoner has classified the ontology, the asserted parents
    plus the genus of each logical definition (``C owl:equivalentClass [ owl:intersectionOf
    ( G ... ) ]`` makes C a kind of G), which is sound but misses what only reasoning shows
    (a CAR NK cell therapy is an NK cell therapy because its cells are NK cells); after
    :meth:`classified`, every superclass HermiT infers.
    """

    path: Path
    triples: list[ox.Triple]
    terms: dict[str, Term]
    parents: dict[str, set[str]]
    lines: dict[str, int]
    version_info: str
    subsumers: dict[str, set[str]] = field(default_factory=dict)
    _values: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def classified(self, superclasses: dict[str, tuple[str, ...]]) -> Ontology:
        """This ontology with the reasoner's superclasses of every class as its subsumers."""
        return replace(self, subsumers={c: set(ups) for c, ups in superclasses.items() if ups})

    def ancestors(self, iri: str) -> set[str]:
        """The class and all its superclasses (reflexive, transitive; see ``subsumers``)."""
        seen = {iri}
        stack = [iri]
        while stack:
            for parent in self.subsumers.get(stack.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def is_subclass(self, sub: str, sup: str) -> bool:
        """True when ``sub`` is ``sup`` or a subclass of it (owl:Thing holds all)."""
        return sup == OWL_THING or sup in self.ancestors(sub)

    def line_of(self, iri: str) -> int | None:
        """The line of ontology/carnk.ttl where the term is declared."""
        return self.lines.get(iri)

    def members(self, cls: str) -> list[str]:
        """The individuals of ``cls`` (or of a subclass), in the order the file declares them."""
        found = [
            t.iri
            for t in self.terms.values()
            if t.kind == "individual" and any(self.is_subclass(c, cls) for c in t.types)
        ]
        return sorted(found, key=lambda iri: (self.lines.get(iri) or 0, iri))

    def values(self, cls: str) -> dict[str, str]:
        """The controlled values of ``cls``: each member's ``skos:notation`` mapped to its IRI.

        Facts files write a value as its notation (``minimal-or-none`` for ``carnk:MinimalOrNone``),
        so every member needs exactly one, a lowercase word or words joined by ``-``, unique
        within the class. Errors point at the member's line.
        """
        if cls in self._values:
            return self._values[cls]
        if cls not in self.terms:
            raise InputError(self.path, f"the ontology does not declare {_short(cls)}", "the facts reader needs it")
        values: dict[str, str] = {}
        errors: list[InputError] = []
        for iri in self.members(cls):
            notations = self.terms[iri].notations
            notation = notations[0] if len(notations) == 1 else None
            where = Location(self.path, self.line_of(iri))
            if notation is None or not _NOTATION_RE.match(notation):
                found = ", ".join(repr(n) for n in notations) or "none"
                errors.append(
                    InputError(
                        where,
                        f"{_short(iri)}, a value of {_short(cls)}, needs exactly one skos:notation of lowercase "
                        f"words joined by '-' (found {found})",
                        'facts files write the value as its notation, for example skos:notation "minimal-or-none"',
                    )
                )
            elif notation in values:
                errors.append(
                    InputError(where, f"{_short(iri)} and {_short(values[notation])} share the notation {notation!r}")
                )
            else:
                values[notation] = iri
        if errors:
            raise errors[0] if len(errors) == 1 else InputErrors(errors)
        if not values:
            raise InputError(
                Location(self.path, self.line_of(cls)),
                f"{_short(cls)} has no individuals",
                "declare its values as owl:NamedIndividual typed with the class, each with a skos:notation",
            )
        self._values[cls] = values
        return values


#: The release file a version IRI names: the release's ontology.owl, as OBO's
#: ``<base>/releases/<version>/<file>``.
RELEASE_ONTOLOGY_FILE = "ontology.owl"


def release_iri(version: str) -> str:
    """The IRI of the ontology file of release ``version`` (its owl:versionIRI)."""
    return f"{BASE}releases/{version}/{RELEASE_ONTOLOGY_FILE}"


def load_ontology(path: Path, *, display_path: Path | None = None) -> Ontology:
    """Parse and index the ontology, failing on what would make the release wrong."""
    shown = display_path or path
    if not path.exists():  # anything else that is there is named by read_input
        raise InputError(shown, "ontology file not found", "every corpus needs ontology/carnk.ttl")
    triples = parse_rdf_file(path, display_path=shown)
    text = read_input_text(path, shown)
    _check_nesting(triples, shown, text)
    terms: dict[str, Term] = {}
    parents: dict[str, set[str]] = defaultdict(set)
    version_infos: list[str] = []
    version_iri = None
    ontology_node = ox.NamedNode(ONTOLOGY_IRI)
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if p == OWL.imports:
            assert not isinstance(o, ox.Triple), "RDF 1.2 triple terms are not supported"
            raise InputError(
                shown,
                f"owl:imports of <{o.value}> is not allowed",
                "builds never fetch from the network; merge the needed axioms into the file",
            )
        if s == ontology_node and p == OWL.versionInfo and isinstance(o, ox.Literal):
            version_infos.append(o.value)
        if s == ontology_node and p == OWL.versionIRI and isinstance(o, ox.NamedNode):
            version_iri = o.value
        if not isinstance(s, ox.NamedNode):
            continue
        if p == RDF.type and isinstance(o, ox.NamedNode) and o in _KINDS:
            term = terms.setdefault(s.value, Term(s.value, _KINDS[o]))
            if o == OWL.Class or term.kind == "individual":
                term.kind = _KINDS[o] if term.kind != "class" else "class"
        elif p == RDF.type and isinstance(o, ox.NamedNode):
            terms.setdefault(s.value, Term(s.value, "individual")).types.add(o.value)
    text_lines = split_lines(text)
    lines = subject_lines(text_lines)
    _check_predicates(triples, shown, text_lines, lines)
    _check_kinds(triples, shown, lines)
    _check_bounds(triples, shown, text_lines, lines)
    _check_literals(triples, shown, text, lines)
    _check_licences(triples, shown, text_lines, lines)
    _check_declared(triples, terms, shown, text_lines, lines)
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if not isinstance(s, ox.NamedNode) or s.value not in terms:
            continue
        term = terms[s.value]
        if p == RDFS.label and isinstance(o, ox.Literal) and term.label is None:
            term.label = o.value
        elif p == SKOS.notation and isinstance(o, ox.Literal):
            term.notations.append(o.value)
        elif p == RDFS.subClassOf and isinstance(o, ox.NamedNode):
            parents[s.value].add(o.value)
        elif p == _bounds(term.kind)[0] and isinstance(o, ox.NamedNode):
            term.domain = o.value
        elif p == _bounds(term.kind)[1] and isinstance(o, ox.NamedNode):
            term.range = o.value
    if not any(t.subject == ontology_node and t.object == OWL.Ontology for t in triples):
        raise InputError(shown, f"no owl:Ontology with IRI <{ONTOLOGY_IRI}>")
    if not version_infos or version_iri is None:
        raise InputError(
            Location(shown, lines.get(ONTOLOGY_IRI)), "the ontology needs owl:versionInfo and owl:versionIRI"
        )
    version_line = Location(shown, value_line(text_lines, lines, ONTOLOGY_IRI, "versionInfo"))
    if len(version_infos) > 1:
        raise InputError(
            version_line,
            f"the ontology has {len(version_infos)} values of owl:versionInfo "
            f"({', '.join(repr(v) for v in sorted(version_infos))})",
            "keep the one version this release is",
        )
    version_info = version_infos[0]
    if not _VERSION_RE.fullmatch(version_info):  # it ends the version IRI and names the release
        raise InputError(
            version_line,
            f"owl:versionInfo {version_info!r} is not a version (letters, digits, '.', '-', '+')",
            "write the version as in 0.1.0",
        )
    expected_iri = release_iri(version_info)
    if version_iri != expected_iri:  # OBO: the version IRI names the versioned release file
        raise InputError(
            version_line,
            f"owl:versionIRI <{version_iri}> is not the release file of owl:versionInfo {version_info!r}",
            f"use <{expected_iri}>",
        )
    _check_prior_version(
        triples, version_info, Location(shown, value_line(text_lines, lines, ONTOLOGY_IRI, "priorVersion"))
    )
    cycle = find_subclass_cycle(parents)
    if cycle:
        first = cycle[0]
        chain = " -> ".join(_short(c) for c in [*cycle, first])
        raise InputError(
            Location(shown, lines.get(first)),
            f"rdfs:subClassOf cycle: {chain}",
            "a class cannot be its own strict superclass; remove one of these axioms "
            "(use owl:equivalentClass if the classes are meant to be the same)",
        )
    subsumers: dict[str, set[str]] = {c: set(ups) for c, ups in parents.items()}
    for cls, genus in definition_genera(triples):
        if cls in terms:
            subsumers.setdefault(cls, set()).add(genus)
    return Ontology(shown, triples, terms, dict(parents), lines, version_info, subsumers)


def definition_genera(triples: list[ox.Triple]) -> list[tuple[str, str]]:
    """(class, named class) for each named member of an intersection the class is equivalent to.

    >>> owl = "http://www.w3.org/2002/07/owl#"
    >>> ttl = f"<a:C> <{owl}equivalentClass> [ <{owl}intersectionOf> ( <a:G> [] ) ] ."
    >>> definition_genera([q.triple for q in ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE)])
    [('a:C', 'a:G')]
    """
    first: dict[object, object] = {}
    rest: dict[object, object] = {}
    intersections: dict[object, object] = {}
    definitions: list[tuple[str, object]] = []
    for t in triples:
        if t.predicate == RDF.first:
            first[t.subject] = t.object
        elif t.predicate == _RDF_REST:
            rest[t.subject] = t.object
        elif t.predicate == OWL.intersectionOf:
            intersections[t.subject] = t.object
        elif t.predicate == OWL.equivalentClass and isinstance(t.subject, ox.NamedNode):
            definitions.append((t.subject.value, t.object))
    found = []
    for cls, expression in definitions:
        cell = intersections.get(expression)
        seen = set()
        while cell is not None and cell in first and cell not in seen:  # a malformed list may loop
            seen.add(cell)
            member = first[cell]
            if isinstance(member, ox.NamedNode):
                found.append((cls, member.value))
            cell = rest.get(cell)
    return sorted(set(found))


def _check_prior_version(triples: list[ox.Triple], version: str, where: Location) -> None:
    """Refuse an owl:priorVersion that is not one other release's file (OBO: the previous release)."""
    ontology_node = ox.NamedNode(ONTOLOGY_IRI)
    priors = [t.object for t in triples if t.subject == ontology_node and t.predicate == OWL.priorVersion]
    if len(priors) > 1:
        raise InputError(
            where, f"the ontology has {len(priors)} values of owl:priorVersion", "name only the release before this one"
        )
    for prior in priors:
        prefix, _, rest = prior.value.partition(f"{BASE}releases/") if isinstance(prior, ox.NamedNode) else ("", "", "")
        prior_version = rest.removesuffix(f"/{RELEASE_ONTOLOGY_FILE}")
        if prefix or not rest.endswith(f"/{RELEASE_ONTOLOGY_FILE}") or not _VERSION_RE.fullmatch(prior_version):
            raise InputError(
                where,
                f"owl:priorVersion {prior} is not the file of a release",
                f"use <{release_iri('VERSION')}> with the version of the release before {version}",
            )
        if prior_version == version:
            raise InputError(where, f"owl:priorVersion names this release ({version}), not the one before it")


def _check_predicates(triples: list[ox.Triple], shown: Path, text: list[str], lines: dict[str, int]) -> None:
    """Refuse, at its line, a predicate the release's RDF/XML (ontology.owl) cannot write."""
    for t in triples:
        problem = rdfxml_predicate_problem(t.predicate.value)
        if problem:
            iri = t.predicate.value
            subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else ""
            spellings = [f"<{iri}>"] + [
                f"{prefix}:{iri[len(namespace) :]}"
                for prefix, namespace in declared_prefixes(text).items()
                if iri.startswith(namespace)
            ]
            raise InputError(
                Location(shown, value_line(text, lines, subject, *spellings)),
                problem,
                "use a property IRI that ends in a name, as https://w3id.org/carnk/hasMarker does "
                "(for rdf:li, number the members: rdf:_1, rdf:_2, ...)",
            )


def _check_kinds(triples: list[ox.Triple], shown: Path, lines: dict[str, int]) -> None:
    """Refuse an IRI of two kinds of entity at its declaration line.

    OWL 2 DL lets one IRI name a class and an individual (punning), which owlready2 handles; any
    other pair (a class that is also a property, an object property that is also a datatype
    property, a property that is also an individual) it forbids, and owlready2 either guesses
    (with a warning) or fails with a Python TypeError while the reasoner's results are read.
    """
    classes = {t.subject for t in triples if t.predicate == RDF.type and t.object == OWL.Class}
    kinds: dict[str, list[str]] = defaultdict(list)
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if not isinstance(s, ox.NamedNode) or not isinstance(o, ox.NamedNode):
            continue
        if p == RDF.type and (o in _KINDS or o in classes):
            kind = _KINDS.get(o, "individual")
            if kind not in kinds[s.value]:
                kinds[s.value].append(kind)
    for iri, found in sorted(kinds.items()):
        clashing = sorted(k for k in found if not (k == "individual" and "class" in found))  # punning is allowed
        if len(clashing) > 1:
            both = " and ".join(clashing) if len(clashing) == 2 else ", ".join(clashing[:-1]) + " and " + clashing[-1]
            raise InputError(
                Location(shown, lines.get(iri)),
                f"{_short(iri)} is declared {'both ' if len(clashing) == 2 else ''}{both}; "
                "OWL 2 DL forbids one IRI as both",
                "keep one declaration: classes group individuals, object properties link individuals, datatype "
                "properties give literals, annotation properties annotate (only a class may also be an individual)",
            )


def _check_bounds(triples: list[ox.Triple], shown: Path, text: list[str], lines: dict[str, int]) -> None:
    """Refuse a property's domain or range stated with the wrong pair, or twice, at its line.

    An annotation property relates classes (``carnk:CARNKCell carnk:expresses
    carnk:ChimericAntigenReceptor``): with ``rdfs:domain carnk:Cell``, a store applying the RDFS
    rules derives ``carnk:CARNKCell rdf:type carnk:Cell``, a class made an instance. Its expected
    classes are ``schema:domainIncludes`` and ``schema:rangeIncludes``, which entail nothing.
    Object and datatype properties relate individuals, where ``rdfs:domain`` and ``rdfs:range``
    mean what the build checks; schema.org's pair on them would be published but never checked.
    The facts reader checks a fact's subject against one domain class and its object against
    one range class: two would mean both at once under RDFS (an intersection) and either one
    under schema.org, and a curator usually means "either", so the ontology has to say which
    with a single class: a common superclass for "either", a class below both for "both".
    """
    kinds = {
        t.subject.value: _KINDS[t.object]
        for t in triples
        if t.predicate == RDF.type
        and isinstance(t.subject, ox.NamedNode)
        and isinstance(t.object, ox.NamedNode)
        and t.object in _KINDS
    }
    prefixes = declared_prefixes(text)
    errors: list[InputError] = []
    values: dict[tuple[str, ox.NamedNode], list[str]] = defaultdict(list)
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if not isinstance(s, ox.NamedNode) or p not in (*_INCLUDES, *_RDFS_BOUNDS):
            continue
        kind = kinds.get(s.value)
        if kind not in ("object property", "datatype property", _ANNOTATION):
            continue
        expected = _bounds(kind)
        if p in expected:
            if isinstance(o, ox.NamedNode) and o.value not in values[(s.value, p)]:
                values[(s.value, p)].append(o.value)
            continue
        instead = expected[1] if p in (SCHEMA.rangeIncludes, RDFS.range) else expected[0]
        where = Location(shown, _triple_line(text, lines, s, p, o, prefixes))
        if kind == _ANNOTATION:
            errors.append(
                InputError(
                    where,
                    f"annotation property {_short(s.value)} has {compact_iri(p.value)} {_shown(o)}: RDFS reasoning "
                    f"would make the classes it relates instances of {_shown(o)}",
                    f"write {compact_iri(instead.value)} {_shown(o)} instead: it names the expected class "
                    "(or its subclasses) without entailments",
                )
            )
        else:
            errors.append(
                InputError(
                    where,
                    f"{kind} {_short(s.value)} has {compact_iri(p.value)} {_shown(o)}: the build reads "
                    f"the domain and range of {_a(kind)} from rdfs:domain and rdfs:range",
                    f"write {compact_iri(instead.value)} {_shown(o)} instead (schema:domainIncludes and "
                    "schema:rangeIncludes are for annotation properties)",
                )
            )
    for (iri, which), found in sorted(values.items(), key=lambda item: (item[0][0], item[0][1].value)):
        if len(found) > 1:
            name = compact_iri(which.value)
            errors.append(
                InputError(
                    Location(shown, lines.get(iri)),
                    f"{_short(iri)} has {len(found)} {name} values ({', '.join(_short(c) for c in sorted(found))}); "
                    "the build checks facts against one",
                    f"for either class, use a common superclass as the {name}; for both, a class below both",
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)


def _shown(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """A term as an error names it: carnk: names short, other IRIs with the project's prefixes."""
    if isinstance(node, ox.NamedNode):
        return _short(node.value) if node.value.startswith(BASE) else compact_iri(node.value)
    if isinstance(node, ox.BlankNode):
        return "[ ... ]"  # a class expression; its generated label would mean nothing to the editor
    return str(node)


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _triple_line(
    text: list[str],
    lines: dict[str, int],
    subject: ox.NamedNode,
    predicate: ox.NamedNode,
    obj: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
    prefixes: dict[str, str],
) -> int | None:
    """The line of the triple ``subject predicate obj`` in the Turtle ``text``, as near as the text shows it.

    No RDF parser at hand reports positions, so the text is searched: a statement written on
    one line (``carnk:x rdfs:domain carnk:C .``) anywhere, else ``predicate obj`` from the
    subject's block on, else the predicate from there, else the block itself.
    """
    pred = _spelled(predicate.value, prefixes)
    what = _spelled(obj.value, prefixes) if isinstance(obj, ox.NamedNode) else None
    if what is not None:
        whole = re.compile(rf"^\s*{_spelled(subject.value, prefixes)}\s+{pred}\s+{what}{_END}")
        found = next((n for n, line in enumerate(text, 1) if whole.search(line)), None)
        if found is not None:
            return found
        pair = re.compile(rf"(?<![\w:/#<-]){pred}\s+{what}{_END}")
        start = lines.get(subject.value, 1)
        found = next((n for n in range(start, len(text) + 1) if pair.search(text[n - 1])), None)
        if found is not None:
            return found
    alone = re.compile(rf"(?<![\w:/#<-]){pred}{_END}")
    start = lines.get(subject.value, 1)
    return next((n for n in range(start, len(text) + 1) if alone.search(text[n - 1])), lines.get(subject.value))


#: Where a term written in Turtle ends: not before a name character (a local name may hold a dot
#: between name characters, never at its end).
_END = r"(?![\w-]|\.[\w-])"


def _spelled(iri: str, prefixes: dict[str, str]) -> str:
    """A regex for ``iri`` written in full or with any of the file's prefixes that abbreviate it."""
    forms = [f"<{iri}>"] + [
        f"{prefix}:{iri[len(namespace) :]}" for prefix, namespace in prefixes.items() if iri.startswith(namespace)
    ]
    return "(?:" + "|".join(re.escape(form) for form in forms) + ")"


#: How deeply blank nodes may nest in the ontology. A class expression inside another takes two
#: levels (the expression, then its list or restriction), and axioms written by hand nest a few
#: expressions. The release's blank-node labels come from RDFC-1.0 canonicalisation, whose time
#: per structure grows with the cube of its depth in Oxigraph (4 ms at 32 levels, 27 ms at 64,
#: 9 s at 400) and which overflows the stack at some thousands: at 32 a file of 10,000 structures
#: that deep still canonicalises in under a minute.
MAX_NESTING = 32
_RDF_REST = RDF.rest


def _check_nesting(triples: list[ox.Triple], shown: Path, text: str) -> None:
    """Refuse, at its line, a blank-node structure nested deeper than :data:`MAX_NESTING`.

    A blank node is one level below the blank node whose object it is; the next cell of a
    collection (``rdf:rest``) is on the same level, so long lists are not deep. Computed
    without recursion, since the input sets the depth.
    """
    if blank_nesting(triples) <= MAX_NESTING:
        return
    raise InputError(
        Location(shown, _bracket_line(text, MAX_NESTING)),
        f"blank nodes (collections or [ ]) are nested more than {MAX_NESTING} levels deep",
        "OWL class expressions need a few levels; give the inner parts IRIs of their own, or flatten the structure",
    )


def blank_nesting(triples: list[ox.Triple], stop: int = MAX_NESTING) -> int:
    """The deepest nesting of blank nodes in ``triples``, or a number above ``stop`` once one is deeper.

    >>> triples = [q.triple for q in ox.parse(b"<a:s> <a:p> ( [ <a:p> () ] 1 2 ) .", format=ox.RdfFormat.TURTLE)]
    >>> blank_nesting(triples)
    2
    """
    children: dict[ox.BlankNode, list[tuple[ox.BlankNode, int]]] = defaultdict(list)
    nodes: list[ox.BlankNode] = []
    for t in triples:
        if isinstance(t.object, ox.BlankNode):
            nodes.append(t.object)
            if isinstance(t.subject, ox.BlankNode):
                children[t.subject].append((t.object, 0 if t.predicate == _RDF_REST else 1))
    depth: dict[ox.BlankNode, int] = {}
    deepest = 0
    for start in nodes:
        if start in depth:
            continue
        on_path = {start}
        stack = [(start, iter(children.get(start, ())))]
        while stack:
            node, todo = stack[-1]
            for child, _ in todo:
                if child not in depth and child not in on_path:  # a cycle back to the path adds nothing
                    on_path.add(child)
                    stack.append((child, iter(children.get(child, ()))))
                    break
            else:
                stack.pop()
                on_path.discard(node)
                found = max([1, *(depth[c] + step for c, step in children.get(node, ()) if c in depth)])
                depth[node] = found
                deepest = max(deepest, found)
                if deepest > stop:
                    return deepest
    return deepest


def _bracket_line(text: str, limit: int) -> int | None:
    """The line where Turtle's brackets, ``(`` and ``[``, first open more than ``limit`` deep (None if nowhere)."""
    level = 0
    line = 1
    for char in code_lines(text):
        if char in "([":
            level += 1
            if level > limit:
                return line
        elif char in ")]":
            level -= 1
        elif char == "\n":
            line += 1
    return None


#: XSD's special floating-point values: owlready2 hands them to HermiT rewritten ("NaN" as "None"),
#: which HermiT refuses as malformed, or reads as another value.
_SPECIAL_FLOATS = {"NaN", "INF", "+INF", "-INF"}
_FLOATS = {XSD_NS + "double", XSD_NS + "float"}


def _check_literals(triples: list[ox.Triple], shown: Path, text: str, lines: dict[str, int]) -> None:
    """Refuse, at its line, an ill-typed literal, or one the reasoner step cannot load or would misread.

    An ill-typed literal would be published as it is (see :mod:`carnk_ld.literals`); owlready2
    and HermiT would also stop on some of them long after the file was read, with errors that
    name no line. ``owl:real`` has no literals at all in OWL 2.
    """
    scratch = ox.Store()
    for t in triples:
        o = t.object
        if not isinstance(o, ox.Literal):
            continue
        found = _literal_issue(o, scratch)
        if found:
            problem, hint = found
            subject = t.subject.value if isinstance(t.subject, ox.NamedNode) else ""
            of = f"{_short(subject) if subject else 'a blank node'} {compact_iri(t.predicate.value)}"
            line, column = literal_position(text, lines, subject, o.value, typed=o.datatype.value != _XSD_STRING)
            raise InputError(
                Location(shown, line, column),
                f"{problem} (the object of {of})",
                hint,
            )


def _literal_issue(literal: ox.Literal, scratch: ox.Store) -> tuple[str, str] | None:
    """What is wrong with an ontology literal, and the hint to fix it; None if nothing is."""
    value, datatype = literal.value, literal.datatype.value
    unwritable = xml_problem(value)
    if unwritable:
        return (
            f"the literal {_shown_value(value)} cannot be written in the release's RDF/XML (ontology.owl): "
            + unwritable,
            "remove the character; XML has no way to write it",
        )
    if datatype == OWL.real.value:
        return "owl:real has no literals in OWL 2", LEXICAL_HINT
    if datatype in _FLOATS and value in _SPECIAL_FLOATS:
        return (
            f"the {xsd_name(datatype)} {value} reaches the reasoner (HermiT) rewritten by owlready2, which it refuses",
            LEXICAL_HINT,
        )
    problem = literal_problem(value, datatype)
    if problem:
        return problem, LEXICAL_HINT
    held = store_rewrite(literal, scratch)
    if held is not None:
        # the SHACL gate refuses it too, but naming the shapes rather than this line
        return (
            f"{_shown_value(value)}^^{xsd_name(datatype)} is valid but not in the form SPARQL stores (Oxigraph) "
            f"hold it in, so queries and SHACL results would show another lexical form than the file",
            f'write it as "{held}"^^{xsd_name(datatype)}',
        )
    return None


def _shown_value(value: str) -> str:
    """A literal's value as Turtle writes it, escapes and all, shortened if long."""
    written = str(ox.Literal(value))
    return written if len(written) <= 60 else written[:50] + '..."'


#: How a name used as a predicate, or as a class or value, is declared (the hints facts give too).
DECLARE_PROPERTY = (
    "declare it in ontology/carnk.ttl as an owl:AnnotationProperty with its schema:domainIncludes "
    "and schema:rangeIncludes"
)
_DECLARE_TERM = "declare it with: carnk-ld add-term {name} --parent PARENT_CLASS (or --type CLASS for a value)"


def _check_declared(
    triples: list[ox.Triple], terms: dict[str, Term], shown: Path, text: list[str], lines: dict[str, int]
) -> None:
    """Refuse a ``carnk:`` term the ontology uses (as subject, predicate or object) but does not declare.

    An undeclared name is a typo or a term never added: the reasoner would take it for a new
    entity, and the release would publish it with no label or definition. Only names in
    ``carnk:``'s own namespace are judged (no ``/``): the ontology's own IRI, its versionIRI and the
    project's other namespaces (``kg:``) are IRIs of other things.
    """
    locals_ = sorted(iri[len(BASE) :] for iri in terms if iri.startswith(BASE))
    seen: set[str] = set()
    errors: list[InputError] = []
    for t in triples:
        for node, role in ((t.subject, "subject"), (t.predicate, "predicate"), (t.object, "object")):
            if not isinstance(node, ox.NamedNode) or node.value in seen or node.value in terms:
                continue
            local = node.value[len(BASE) :] if node.value.startswith(BASE) else None
            if local is None or "/" in local or node.value == ONTOLOGY_IRI:
                continue
            seen.add(node.value)
            close = did_you_mean(local, locals_)
            how = DECLARE_PROPERTY if role == "predicate" else _DECLARE_TERM.format(name=local or "NAME")
            line, column = _use_position(text, lines, t.subject, node.value)
            article = "an" if role == "object" else "a"
            errors.append(
                InputError(
                    Location(shown, line, column),
                    f"carnk:{local} is used as {article} {role} but not declared in the ontology",
                    f"{close} Otherwise {how}" if close else how,
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)


def _use_position(
    text: list[str], lines: dict[str, int], subject: ox.NamedNode | ox.BlankNode | ox.Triple, iri: str
) -> tuple[int | None, int | None]:
    """Line and column of the first mention of ``iri`` (prefixed or in full) from ``subject``'s declaration on."""
    local = re.escape(iri[len(BASE) :])
    mention = re.compile(rf"(?<![\w:/#-])carnk:{local}(?![\w-])|<{re.escape(iri)}>")
    start = lines.get(subject.value, 1) if isinstance(subject, ox.NamedNode) else 1
    for first in (start, 1):
        for number in range(first, len(text) + 1):
            found = mention.search(text[number - 1])
            if found:
                return number, found.start() + 1
    return start, None


def _check_licences(triples: list[ox.Triple], shown: Path, text: list[str], lines: dict[str, int]) -> None:
    """Refuse an ontology ``dcterms:license`` that is not an IRI: it is published as the release's licence."""
    header = ox.NamedNode(ONTOLOGY_IRI)
    for t in triples:
        if t.subject == header and t.predicate == DCTERMS.license and not isinstance(t.object, ox.NamedNode):
            raise InputError(
                Location(shown, value_line(text, lines, ONTOLOGY_IRI, "license")),
                f"dcterms:license of the ontology is {t.object}, not an IRI",
                "write the licence's IRI, e.g. <https://creativecommons.org/licenses/by/4.0/>",
            )


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]*")
#: A controlled value's notation: what a curator types in YAML, with no quoting needed.
_NOTATION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _short(iri: str) -> str:
    return "carnk:" + iri[len(BASE) :] if iri.startswith(BASE) else f"<{iri}>"


def find_subclass_cycle(parents: dict[str, set[str]]) -> list[str] | None:
    """The classes of one ``rdfs:subClassOf`` cycle (in order), or None; deterministic.

    >>> find_subclass_cycle({"b": {"c"}, "c": {"a"}, "a": {"b"}})
    ['a', 'b', 'c']
    >>> find_subclass_cycle({"a": {"b"}, "b": set()}) is None
    True
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in sorted(parents):
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(root, sorted(parents.get(root, ())))]
        state[root] = 1
        path.append(root)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop(0)
            if nxt == node or state.get(nxt) == 1:
                cycle = path[path.index(nxt) :]
                start = cycle.index(min(cycle))
                return cycle[start:] + cycle[:start]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(parents.get(nxt, ()))))
    return None


def load_corpus_ontology(root: Path) -> Ontology:
    """The ontology of the corpus tree at ``root``, its errors naming ``ontology/carnk.ttl``."""
    return load_ontology(
        corpus_file(root / ONTOLOGY_DIR, ONTOLOGY_FILE, Path(ONTOLOGY_DIR)),
        display_path=Path(ONTOLOGY_DIR) / ONTOLOGY_FILE,
    )
