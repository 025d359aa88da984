"""A tiny release with a site (issue 18, contract 1) for the web tests: written here, owned by the tests.

Each described resource has its five files, whose bytes name the resource and the format, so a
test can tell which file it was served. The store holds a few triples of each resource, a
segment owned by the document, and an IRI with neither a page nor an owner (a linkset: a site
built by carnk-ld never leaves one, see tests/test_site.py). The release's version is
:data:`VERSION` (the ontology's versionIRI) and it has an ``ontology.owl``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from carnk_ld.release import marker_bytes

C = "https://w3id.org/carnk/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OWL = "http://www.w3.org/2002/07/owl#"

#: The described resources, by kind: the paths the site has files for.
DESCRIBED = {
    "ontology": "ontology",
    "term": "NKCell",
    "statement": "kg/fact/d1/s1",
    "document": "kg/doc/d1",
    "study": "kg/study/d1/t1",
    "graph": "kg/graph/facts",
}
#: The contract's formats: extension and the media type it is served as.
TYPES = {
    "html": "text/html; charset=utf-8",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
#: Accept header -> the extension contract 2 says it gets (q-values; HTML when nothing else is acceptable).
ACCEPTS = [
    (None, "html"),
    ("text/html", "html"),
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("*/*", "html"),
    (BROWSER, "html"),
    ("image/png", "html"),
    ("text/turtle;q=0.4, application/rdf+xml;q=0.9", "rdf"),
    ("application/ld+json;q=0.2, text/html;q=0.1", "jsonld"),
    ("text/*;q=0.8, text/html;q=0.1", "ttl"),
    ("application/n-triples, */*;q=0.1", "nt"),
    ("text/turtle, */*", "ttl"),
    ("TEXT/Turtle", "ttl"),
    ("application/rdf+xml;q=0.50, text/turtle;q=0.5", "ttl"),
    ("text/turtle;q=0", "html"),
    ("text/html;q=0, application/ld+json;q=0.001", "jsonld"),
    ("application/rdf+xml;q=1.000, text/html;q=0.999", "rdf"),
]
SEGMENT = "kg/doc/d1/segment/3"
ARM = "kg/study/d1/t1/arm/high-dose"
GRAPH = DESCRIBED["graph"]
VERSION = "9.9.9"
ONTOLOGY_OWL = b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
LINKSET = "kg/linkset/cl/exactMatch"

_GRAPH_IRI = C + GRAPH


def quads() -> list[ox.Quad]:
    """The store's content: a few triples per resource, in the facts graph."""
    g = ox.NamedNode(_GRAPH_IRI)

    def q(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
        return ox.Quad(ox.NamedNode(C + s if "://" not in s else s), ox.NamedNode(p), o, g)

    n = ox.NamedNode
    return [
        q("ontology", RDF_TYPE, n(OWL + "Ontology")),
        q("ontology", OWL + "versionIRI", n(f"{C}releases/{VERSION}/ontology.owl")),
        q("NKCell", RDF_TYPE, n(OWL + "Class")),
        q("NKCell", LABEL, ox.Literal("NK cell", language="en")),
        q("kg/doc/d1", LABEL, ox.Literal("Document one")),
        q(SEGMENT, RDF_TYPE, n(C + "Segment")),
        q(SEGMENT, LABEL, ox.Literal('segment 3 says "hello"\nover two lines')),
        q(SEGMENT, C + "partOf", n(C + "kg/doc/d1")),
        q("kg/fact/d1/s1", C + "subject", n(C + "NKCell")),
        q("kg/study/d1/t1", LABEL, ox.Literal("Trial one")),
        q(ARM, LABEL, ox.Literal("high dose")),
        q(LINKSET, RDF_TYPE, n("http://rdfs.org/ns/void#Linkset")),
        q(GRAPH, LABEL, ox.Literal("facts graph")),
    ]


def segment_triples() -> set[ox.Triple]:
    return {quad.triple for quad in quads() if quad.subject == ox.NamedNode(C + SEGMENT)}


def body(path: str, ext: str) -> bytes:
    """The bytes of a described resource's file: distinct per resource and format."""
    return f"{ext} file of {path}\n".encode()


def write_release(out: Path, *, site: bool = True) -> Path:
    """A release folder as `carnk-ld build` writes it: marker, files, checksum list."""
    files: dict[str, bytes] = {"RELEASE.json": marker_bytes()}
    files["carnk.nq"] = ox.serialize(quads(), format=ox.RdfFormat.N_QUADS)
    files["ontology.owl"] = ONTOLOGY_OWL
    if site:
        files["site/index.html"] = b"<!DOCTYPE html><title>home</title>\n"
        files["site/search.json"] = b"[]\n"
        for path in DESCRIBED.values():
            for ext in TYPES:
                files[f"site/{path}.{ext}"] = body(path, ext)
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    sums = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))
    (out / "SHA256SUMS").write_text(sums, encoding="ascii")
    return out


@contextmanager
def serving(release: Path, *options: str) -> Iterator[str]:
    """`carnk-ld serve` on a free loopback port in a subprocess; yields its base URL, always stops it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "carnk_ld", "serve", "--out", str(release), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "serving ... at http://127.0.0.1:PORT/carnk/ and ..."
        if not line:
            raise RuntimeError(f"serve ended: {process.wait(timeout=30)}: {process.stderr.read()}")  # type: ignore[union-attr]
        url = next(word for word in line.split() if word.startswith("http://") and word.endswith("/carnk/"))
        yield url.removesuffix("/carnk/")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
