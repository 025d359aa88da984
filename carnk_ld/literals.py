"""Whether a typed literal is well typed: a lexical form of its XSD datatype, with a value the release's tools can hold.

A literal published with a lexical form outside its datatype (``"300"^^xsd:byte``,
``"P1Y2Q"^^xsd:duration``) is ill typed: SPARQL stores compare it with nothing, Jena and
RDF4J refuse it. The XSD datatypes' lexical and value spaces (ranges of the integer types,
days of months, durations, binary encodings) are checked with elementpath, which implements
XSD 1.1's datatypes, rather than with patterns of our own. On top of XSD, RDF's lexical
forms take no surrounding white space, and a number must be one the stores can hold.
"""

from __future__ import annotations

import decimal
import json
import math
import re
from typing import cast
from xml.parsers import expat

import pyoxigraph as ox
from elementpath.datatypes import AnyAtomicType, builtin_atomic_types

from carnk_ld.constants import PREFIXES
from carnk_ld.errors import InputError, Location

XSD = PREFIXES["xsd"]
#: The integer datatypes: Oxigraph holds their values in 64 bits (and owlready2 in SQLite's 64-bit integers).
INTEGERS = {
    XSD + name
    for name in (
        "integer",
        "byte",
        "short",
        "int",
        "long",
        "unsignedByte",
        "unsignedShort",
        "unsignedInt",
        "unsignedLong",
        "negativeInteger",
        "nonNegativeInteger",
        "nonPositiveInteger",
        "positiveInteger",
    )
}
_INT64 = (-(2**63), 2**63 - 1)
# elementpath reads some lexical forms as Python's int() and float() do, which also take "1_0",
# other scripts' digits and (for token) runs of spaces: RDF's lexical forms are XSD's exact
# grammar, so these datatypes are matched by it first.
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_TIMEZONE = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DATE = r"-?(?:[1-9][0-9]{4,}|[0-9]{4})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
_LEXICAL = {
    XSD + "decimal": _DECIMAL_RE,
    XSD + "double": _DOUBLE_RE,
    XSD + "float": _DOUBLE_RE,
    XSD + "boolean": re.compile(r"true|false|1|0"),
    XSD + "date": re.compile(_DATE + _TIMEZONE),
    XSD + "dateTime": re.compile(_DATE + _TIME + _TIMEZONE),
    XSD + "normalizedString": re.compile(r"[^\t\n\r]*"),
    XSD + "token": re.compile(r"(?:[^\t\n\r ]+(?: [^\t\n\r ]+)*)?"),
    **dict.fromkeys(INTEGERS, _INTEGER_RE),
}
_XSD_CLARK = "{http://www.w3.org/2001/XMLSchema}"
#: XSD datatypes that are not RDF-compatible (RDF 1.1 Concepts, section 5.1), or not datatypes of data at all.
_NOT_FOR_RDF = {"QName", "NOTATION", "ENTITY", "ID", "IDREF", "anyAtomicType", "untypedAtomic", "error"}
#: Datatypes whose lexical forms may hold leading or trailing white space (their whitespace facet keeps it).
_KEEP_SPACE = {"string", "normalizedString"}
#: Oxigraph's decimals are 128-bit integers scaled by 10^18: a decimal with more fraction digits
#: or a larger value is read as no value at all, so it would compare equal to nothing.
_DECIMAL_SCALE = 10**18
_DECIMAL_LIMIT = 2**127
_CLASS_IN_MESSAGE = re.compile(r" for <class '[^']*'>")
#: elementpath's messages that only repeat the value and its type; the others say what is wrong.
_ONLY_REPEATS = re.compile(r"invalid value|is not an xs:|Invalid datetime string|invalid literal|could not convert")


#: Characters outside XML 1.0's Char production: no escape writes them, so RDF/XML (the
#: release's ontology.owl) cannot hold a literal with one (Turtle and JSON-LD can).
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_problem(value: str) -> str | None:
    """Why RDF/XML cannot write a literal with lexical form ``value``, or None.

    >>> xml_problem("a\x0cb")
    'it holds U+000C, a character XML 1.0 cannot carry, not even escaped'
    >>> xml_problem("a\tb") is None
    True
    """
    found = _NOT_XML_CHAR.search(value)
    if found is None:
        return None
    return f"it holds U+{ord(found.group()):04X}, a character XML 1.0 cannot carry, not even escaped"


#: Datatypes whose literals the SPARQL store (Oxigraph) keeps exactly as written.
_STORE_KEEPS = {
    XSD + "string",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    XSD + "anyURI",
    XSD + "normalizedString",
    XSD + "token",
}
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,17}")
_SCRATCH_SUBJECT, _SCRATCH_PREDICATE = ox.NamedNode("urn:x-carnk:s"), ox.NamedNode("urn:x-carnk:p")


def may_be_rewritten(literal: ox.Literal) -> bool:
    """False for a literal the SPARQL store plainly keeps as written (a string, a canonical integer)."""
    datatype = literal.datatype.value
    if literal.language or datatype in _STORE_KEEPS:
        return False
    return not (datatype in INTEGERS and _CANONICAL_INTEGER.fullmatch(literal.value))


def store_rewrite(literal: ox.Literal, scratch: ox.Store | None = None) -> str | None:
    """The lexical form the SPARQL store (Oxigraph) holds ``literal`` with, if not its own; else None.

    The store canonicalises numbers, booleans, dates and times ("+5" is held as "5", "1." as
    "1", "24:00:00" as "00:00:00"), so a query returns a form the input never wrote. ``scratch``
    (an empty store, left empty) saves making one per literal.

    >>> store_rewrite(ox.Literal("+5", datatype=ox.NamedNode(XSD + "integer")))
    '5'
    >>> store_rewrite(ox.Literal("5", datatype=ox.NamedNode(XSD + "integer"))) is None
    True
    """
    if not may_be_rewritten(literal):
        return None
    store = ox.Store() if scratch is None else scratch
    store.add(ox.Quad(_SCRATCH_SUBJECT, _SCRATCH_PREDICATE, literal))
    held = [q.object for q in store]
    store.clear()
    if len(held) == 1 and isinstance(held[0], ox.Literal):
        return None if held[0].value == literal.value else held[0].value
    return str(held)


def xsd_name(datatype: str) -> str:
    """``xsd:NAME`` for an XSD datatype IRI, ``<IRI>`` for any other."""
    return "xsd:" + datatype[len(XSD) :] if datatype.startswith(XSD) else f"<{datatype}>"


OWL_RATIONAL = "http://www.w3.org/2002/07/owl#rational"
RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
RDF_XML_LITERAL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#XMLLiteral"
#: OWL 2 Structural Specification, section 4.1: an xsd:integer numerator, '/', and a denominator
#: of decimal digits whose value is above zero (written without a sign). "5" alone is no owl:rational.
_RATIONAL_RE = re.compile(r"[+-]?[0-9]+/([0-9]+)")


def _other_problem(value: str, datatype: str) -> str | None:
    """Why ``value`` is no lexical form of an OWL or RDF datatype that has a checkable one, or None.

    rdf:HTML takes any string (an HTML parser reads anything), so it has nothing to check.
    """
    if datatype == OWL_RATIONAL:
        rational = _RATIONAL_RE.fullmatch(value)
        if rational is None:
            return f"{value!r} is not a valid owl:rational: write an integer, '/', and a positive integer, as in 1/3"
        if int(rational.group(1)) == 0:
            return f"{value!r} is not a valid owl:rational: its denominator is zero"
        return None
    if datatype == RDF_JSON:
        try:
            json.loads(value, parse_constant=_no_constant)
        except ValueError as exc:  # JSONDecodeError is one
            return f"{value!r} is not a valid rdf:JSON: {exc}"
        except RecursionError:
            return f"{_head(value)} is nested too deeply for JSON readers (rdf:JSON)"
        return None
    if datatype == RDF_XML_LITERAL:
        # well-balanced, self-contained XML content: it parses as an element's content, every
        # namespace prefix it uses declared inside it
        parser = expat.ParserCreate(namespace_separator=" ")
        try:
            parser.Parse(f"<r>{value}</r>", True)
        except expat.ExpatError as exc:
            return f"{value!r} is not a valid rdf:XMLLiteral: {expat.ErrorString(exc.code)}"
        return None
    return None


def _head(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:30]) + "..."


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def literal_problem(value: str, datatype: str) -> str | None:
    """Why ``value`` typed ``datatype`` is ill typed or unusable, or None; datatypes outside XSD are not judged.

    Except owl:rational, rdf:JSON and rdf:XMLLiteral, whose lexical forms are checked as their specifications give them.

    >>> literal_problem("300", XSD + "byte")
    "'300' is not a valid xsd:byte: value 300 is too high"
    >>> literal_problem("1_0", XSD + "integer")
    "'1_0' is not a valid xsd:integer"
    >>> literal_problem("12", XSD + "byte") is None
    True
    >>> literal_problem("1", XSD + "interger")
    'xsd:interger is not an XSD datatype'
    """
    if not datatype.startswith(XSD):
        return _other_problem(value, datatype)
    local = datatype[len(XSD) :]
    name = xsd_name(datatype)
    kind = builtin_atomic_types.get(_XSD_CLARK + local)
    if kind is None:
        return f"{name} is not an XSD datatype"
    if local in _NOT_FOR_RDF:
        return f"{name} is not a datatype RDF literals may use"
    if local not in _KEEP_SPACE and value != value.strip(" \t\n\r"):
        return f"{value!r} is not a valid {name}: white space around the value is not part of a lexical form"
    pattern = _LEXICAL.get(datatype)
    if pattern is not None and not pattern.fullmatch(value):
        return f"{value!r} is not a valid {name}"
    try:
        parsed = cast("type[AnyAtomicType]", kind).make(value)  # every builtin atomic type is one
    except (ValueError, TypeError, ArithmeticError) as exc:
        reason = _CLASS_IN_MESSAGE.sub("", str(exc))
        return f"{value!r} is not a valid {name}" + ("" if _ONLY_REPEATS.search(reason) else f": {reason}")
    if datatype in INTEGERS and not _INT64[0] <= int(value) <= _INT64[1]:
        return f"the {name} {value} is beyond 64 bits, which SPARQL stores (Oxigraph) cannot hold"
    if local in ("double", "float") and isinstance(parsed, float) and math.isinf(parsed):
        if value.lstrip("+-") != "INF":
            return f"{value!r} is beyond the range of {name}"
    if local == "decimal":
        return _decimal_problem(value, name)
    return None


def _decimal_problem(value: str, name: str) -> str | None:
    scaled = decimal.Decimal(value) * _DECIMAL_SCALE
    if scaled != scaled.to_integral_value():
        return f"{value!r} has more than 18 digits after the point, more than SPARQL stores (Oxigraph) hold for {name}"
    if not -_DECIMAL_LIMIT <= scaled < _DECIMAL_LIMIT:
        return f"{value!r} is beyond the values SPARQL stores (Oxigraph) hold for {name}"
    return None


def decimal_form(value: decimal.Decimal) -> str:
    """An xsd:decimal's canonical lexical form, as RDF stores write it (1E+5 as 100000, 48.60 as 48.6, 70.0 as 70).

    >>> decimal_form(decimal.Decimal("1E+5")), decimal_form(decimal.Decimal("48.60"))
    ('100000', '48.6')
    """
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


#: What a curator does about an ill-typed literal, whichever input holds it.
LEXICAL_HINT = "write the value in its datatype's lexical form, or as a plain string if it is not one"


def literal_error(
    location: Location, value: str, datatype: str, what: str, hint: str = LEXICAL_HINT
) -> InputError | None:
    """The input error for ``value`` typed ``datatype`` at ``location`` if it is ill typed (:func:`literal_problem`).

    Every input's typed literals (ontology, shapes, the mapping set's metadata, facts' numbers)
    are judged here, so that one datatype is held to one lexical space whatever file writes it;
    ``what`` names the value's place (``the object of carnk:X dcterms:created``, ``mapping_date``).

    >>> from pathlib import Path
    >>> print(literal_error(Location(Path("m.tsv"), 3), "2026-02-30", XSD + "date", "mapping_date").render())
    m.tsv:3: error: '2026-02-30' is not a valid xsd:date: day is out of range for month (mapping_date)
      hint: write the value in its datatype's lexical form, or as a plain string if it is not one
    """
    problem = literal_problem(value, datatype)
    return None if problem is None else InputError(location, f"{problem} ({what})", hint)
