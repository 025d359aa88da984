"""``carnk-ld serve``: the release on the web, as ``https://w3id.org/carnk/`` would answer it, plus ``/sparql``.

Every IRI ``https://w3id.org/carnk/PATH`` is answered at ``/carnk/PATH`` (issue 18, contracts 1 and 2):

- a *described* resource (``site/PATH.html`` exists) answers 303 See Other to ``PATH.EXT``, the
  format its ``Accept`` header asks for (:func:`carnk_ld.media.negotiate`); ``PATH.EXT`` answers 200
  with the site's file;
- any other IRI of the release (one the store holds) answers 303 too: in HTML to the page of the
  described resource it belongs to, ``OWNER.html#REST`` (the longest described prefix of its path,
  ``/`` in the rest written ``-``), in RDF to ``PATH.EXT``, which answers 200 with the IRI's
  concise bounded description read from the release's store (the site has a page for every
  subject of the release that belongs to no other, so every IRI of the release has an owner);
- ``releases/VERSION/FILE``, a distribution's download URL (the ontology's versionIRI among
  them), answers 200 with the release's file when VERSION is the release's;
- anything else is 404 with a short HTML page.

``/sparql`` is a read-only SPARQL 1.1 Protocol query endpoint. Queries go through
:func:`carnk_ld.query.run_query`: checked (updates and SERVICE refused), run in a child process
killed at the timeout, and refused when the answer has more rows than the row limit.

The app is a Werkzeug WSGI application (routing, ``Accept`` parsing, conditional and range
requests for files); :func:`serve` runs it under waitress, bound to one address.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import parse_accept_header
from werkzeug.routing import Map, Rule
from werkzeug.security import safe_join
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from carnk_ld.constants import BASE, ONTOLOGY_IRI, PREFIXES
from carnk_ld.distributions import media_type
from carnk_ld.errors import InputError
from carnk_ld.graph import concise_description
from carnk_ld.media import MEDIA_TYPES, negotiate
from carnk_ld.query import (
    QueryTimeout,
    ResultLimits,
    check_query,
    check_timeout,
    graph_bytes,
    run_query,
)
from carnk_ld.release import CHECKSUMS, check_release, read_checksums
from carnk_ld.serialise import rdf_bytes
from carnk_ld.store import store_path

#: Where release files are published: ``releases/VERSION/FILE`` (the versionIRI's pattern).
RELEASES = "releases/"
#: The folder of the release that holds the site (contract 1).
SITE = "site"
#: Where the site is mounted: ``https://w3id.org/carnk/PATH`` is ``/carnk/PATH``.
MOUNT = "/" + BASE.rstrip("/").rsplit("/", 1)[1] + "/"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
#: Seconds a connection may stay idle (no request arriving, no answer being read) before it is closed.
DEFAULT_IDLE = 30
#: The largest request body accepted (a POSTed query), in bytes.
MAX_BODY = 1_000_000
#: Worker threads answering requests (a SPARQL query's work runs in a child process of its own).
THREADS = 4

#: SPARQL results formats (SELECT, ASK) by media type, the first the default (SPARQL 1.1 Protocol, 2.1.5).
TABLE_TYPES = {
    "application/sparql-results+json": ("JSON", "application/sparql-results+json"),
    "application/json": ("JSON", "application/sparql-results+json"),
    "application/sparql-results+xml": ("XML", "application/sparql-results+xml"),
    "application/xml": ("XML", "application/sparql-results+xml"),
    "text/csv": ("CSV", "text/csv; charset=utf-8"),
    "text/tab-separated-values": ("TSV", "text/tab-separated-values; charset=utf-8"),
}
#: RDF formats (CONSTRUCT, DESCRIBE) by media type, the first the default.
GRAPH_TYPES = {
    "text/turtle": ("turtle", "text/turtle"),
    "application/n-triples": ("ntriples", "application/n-triples"),
    "application/ld+json": ("jsonld", "application/ld+json"),
    "application/rdf+xml": ("rdfxml", "application/rdf+xml"),
}


@dataclass(frozen=True)
class ServeOptions:
    """What ``carnk-ld serve`` was told: the SPARQL endpoint's limits and how long a connection may idle."""

    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    idle: int = DEFAULT_IDLE


def open_release(release: Path) -> tuple[Path, Path]:
    """The release's site folder and its embedded store, once the folder is known to be an intact release.

    Anything else (not a release, a file changed since the build, no site) is an :class:`InputError`.
    """
    if not release.is_dir():
        raise InputError(release, "not a folder", "give --out the folder `carnk-ld build` wrote")
    check_release(release, verify=True)
    site = release / SITE
    if not (site / "index.html").is_file():
        raise InputError(
            release, f"the release has no web site ({SITE}/index.html)", "rebuild it with this carnk-ld version"
        )
    return site, store_path(release)


class ReleaseApp:
    """The WSGI application over one release (see the module docstring)."""

    def __init__(self, site: Path, store_dir: Path, options: ServeOptions):
        check_timeout(options.timeout)
        self.site = site
        self.release = site.parent
        self.files = frozenset([CHECKSUMS, *(name for name in read_checksums(self.release) if "/" not in name)])
        self.store_dir = store_dir
        self.store = ox.Store.read_only(str(store_dir))
        self.version = _version(self.store)
        self.options = options
        self.urls = Map(
            [
                Rule("/", endpoint="root"),
                Rule("/sparql", endpoint="sparql", methods=["GET", "POST"]),
                Rule(MOUNT, endpoint="home"),
                Rule(MOUNT + "<path:path>", endpoint="resource"),
            ]
        )
        # Queries run in a forked child: import what it needs now, so that no other thread holds
        # an import lock at the moment of a fork (the child would wait on it until the timeout).
        check_query("ASK {}")
        for fmt in ("turtle", "ntriples", "jsonld", "rdfxml"):
            graph_bytes([], fmt)

    def __call__(self, environ: dict, start_response: object) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        try:
            response = self.dispatch(request, environ)
        except HTTPException as exc:
            response = _error_page(exc.code or 500, exc.description or exc.name)
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                response.allow.update(exc.valid_methods)
        response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any page may fetch it
        return response(environ, start_response)  # type: ignore[arg-type]

    def dispatch(self, request: Request, environ: dict) -> Response:
        """The answer to a request; ``environ`` is its WSGI environment (conditional and range requests read it)."""
        endpoint, values = self.urls.bind_to_environ(request).match()
        if endpoint == "root":
            return _redirect(MOUNT, 302)
        if endpoint == "sparql":
            return self.sparql(request)
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(["GET", "HEAD"])
        if endpoint == "home":
            return self.file(environ, "index.html")
        return self.resource(request, environ, values["path"])

    # --- resources -------------------------------------------------------------------------

    def resource(self, request: Request, environ: dict, path: str) -> Response:
        """Answer ``/carnk/PATH`` as the module docstring says."""
        if path.startswith(RELEASES):
            return self.download(environ, path[len(RELEASES) :])
        if self.is_file(path):
            return self.file(environ, path)
        stem, dot, ext = path.rpartition(".")
        if dot and ext in MEDIA_TYPES:
            owner = self.owner(stem)
            if owner is None or self.is_file(f"{stem}.html") or not self.known(stem):
                raise NotFound()  # a described resource's file is in the site, or it is not there at all
            if ext != "html":
                return self.description(stem, ext)
            return _redirect(_owner_url(stem, owner), 303)
        if self.is_file(f"{path}.html"):
            return _negotiated(request, path)
        owner = self.owner(path)
        if owner is not None and self.known(path):
            chosen = negotiate(request.headers.get("Accept"))
            if chosen == "html":
                response = _redirect(_owner_url(path, owner), 303)
                response.vary.add("Accept")
                return response
            return _negotiated(request, path)
        raise NotFound()

    def download(self, environ: dict, rest: str) -> Response:
        """``releases/VERSION/FILE`` (a distribution's download URL, the ontology's versionIRI): the release's file."""
        version, _, name = rest.partition("/")
        if self.version is None or version != self.version or name not in self.files:
            raise NotFound()
        try:
            kind = media_type(name)
        except ValueError:  # a file of a later release format
            kind = "application/octet-stream"
        response = send_file(self.release / name, environ, mimetype=kind, conditional=True, max_age=300)
        response.headers["Content-Type"] = kind
        return response

    def is_file(self, path: str) -> bool:
        target = safe_join(str(self.site), path)
        return target is not None and Path(target).is_file()

    def file(self, environ: dict, path: str) -> Response:
        target = safe_join(str(self.site), path)
        if target is None or not Path(target).is_file():
            raise NotFound()
        ext = path.rpartition(".")[2]
        kind = MEDIA_TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
        response = send_file(target, environ, mimetype=kind, conditional=True, max_age=300)
        response.headers["Content-Type"] = kind  # as contract 2 writes it: send_file adds a charset to text/*
        return response

    def known(self, path: str) -> bool:
        """Whether the store holds the IRI of ``path``: as a subject, an object or a graph name."""
        if not path or path.startswith("/") or "//" in path:
            return False
        try:
            node = ox.NamedNode(BASE + path)
        except ValueError:  # no IRI: characters an IRI cannot hold
            return False
        quads = self.store.quads_for_pattern
        return (
            next(quads(node, None, None), None) is not None
            or next(quads(None, None, node), None) is not None
            or self.store.contains_named_graph(node)
        )

    def owner(self, path: str) -> str | None:
        """The described resource whose path is the longest prefix of ``path`` followed by ``/`` (contract 1)."""
        parts = path.split("/")
        for end in range(len(parts) - 1, 0, -1):
            candidate = "/".join(parts[:end])
            if self.is_file(f"{candidate}.html"):
                return candidate
        return None

    def triples(self, path: str) -> list[ox.Triple]:
        """The IRI's concise bounded description: its triples in any graph, and those of the blank nodes they reach."""
        return concise_description(
            [ox.NamedNode(BASE + path)],
            lambda node: (q.triple for q in self.store.quads_for_pattern(node, None, None)),  # type: ignore[arg-type]  # a node the walk found: a subject or a blank object
        )

    def description(self, path: str, ext: str) -> Response:
        triples = self.triples(path)
        data = rdf_bytes(triples, ext)
        return Response(data, status=200, content_type=MEDIA_TYPES[ext])

    # --- SPARQL ----------------------------------------------------------------------------

    def sparql(self, request: Request) -> Response:
        """The SPARQL 1.1 Protocol's query operation (GET, POST form, POST ``application/sparql-query``)."""
        try:
            text = _query_text(request)
        except _Refused as exc:
            return _plain(exc.code, exc.message)
        accept = parse_accept_header(request.headers.get("Accept", ""), MIMEAccept)
        table, table_type = TABLE_TYPES[accept.best_match(TABLE_TYPES, default="application/sparql-results+json")]
        graph, graph_type = GRAPH_TYPES[accept.best_match(GRAPH_TYPES, default="text/turtle")]
        limits = ResultLimits(max_rows=self.options.max_rows, table_format=table, graph_format=graph)
        try:
            outcome = run_query(self.store_dir, text, timeout=self.options.timeout, source="query", limits=limits)
        except QueryTimeout as exc:
            return _plain(503, f"{exc.message}; {exc.hint}" if exc.hint else exc.message)
        except InputError as exc:
            return _plain(400, str(exc))
        kind = graph_type if outcome.kind == "graph" else table_type
        response = Response(outcome.data, status=200, content_type=kind)
        response.vary.add("Accept")
        return response


class _Refused(InputError):
    """A request the endpoint refuses before any query runs, with the HTTP status to answer."""

    def __init__(self, code: int, message: str):
        super().__init__("query", message)
        self.code = code


def _query_text(request: Request) -> str:
    """The query of a SPARQL Protocol request; anything but exactly one query is refused (:class:`_Refused`)."""
    if request.method == "GET":
        params = request.args
    elif request.mimetype == "application/x-www-form-urlencoded":
        params = request.form
    elif request.mimetype == "application/sparql-query":
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "the query is not UTF-8 text") from None
        if request.args.getlist("query") or request.args.getlist("update"):
            raise _Refused(400, "give the query in the body or as ?query=, not both")
        _refuse_graph_parameters(request.args)
        return text
    elif request.mimetype == "application/sparql-update":
        raise _Refused(400, "SPARQL updates are refused: the release is read-only")
    else:
        raise _Refused(
            415,
            f"a query is POSTed as application/x-www-form-urlencoded or application/sparql-query, "
            f"not {request.mimetype or 'a body without a type'}",
        )
    if params.getlist("update"):
        raise _Refused(400, "SPARQL updates are refused: the release is read-only")
    _refuse_graph_parameters(params)
    queries = params.getlist("query")
    if len(queries) != 1:
        raise _Refused(400, "give exactly one query parameter: /sparql?query=SELECT ...")
    return queries[0]


def _refuse_graph_parameters(params: object) -> None:
    for name in ("default-graph-uri", "named-graph-uri"):
        if params.getlist(name):  # type: ignore[attr-defined]
            raise _Refused(400, f"{name} is not supported: every named graph of the release is in the default graph")


def _version(store: ox.Store) -> str | None:
    """The release's version, from the ontology's versionIRI (``<base>releases/VERSION/ontology.owl``)."""
    version_iri = ox.NamedNode(PREFIXES["owl"] + "versionIRI")
    for quad in store.quads_for_pattern(ox.NamedNode(ONTOLOGY_IRI), version_iri, None):
        value = quad.object.value if isinstance(quad.object, ox.NamedNode) else ""
        if value.startswith(BASE + RELEASES):
            return value[len(BASE + RELEASES) :].partition("/")[0]
    return None


def _owner_url(path: str, owner: str) -> str:
    rest = path[len(owner) + 1 :].replace("/", "-")
    return f"{MOUNT}{quote(owner)}.html#{quote(rest)}"


def _negotiated(request: Request, path: str) -> Response:
    """303 See Other from an IRI to the file of the format its ``Accept`` header asks for."""
    response = _redirect(f"{MOUNT}{quote(path)}.{negotiate(request.headers.get('Accept'))}", 303)
    response.vary.add("Accept")
    return response


def _redirect(location: str, code: int) -> Response:
    response = Response(status=code)
    response.headers["Location"] = location
    return response


def _plain(code: int, message: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status=code, content_type="text/plain; charset=utf-8")


def _error_page(code: int, message: str) -> Response:
    title = {404: "Not found"}.get(code, "Error")
    body = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n</head>\n'
        f"<body>\n<main>\n<h1>{title}</h1>\n<p>{html.escape(message)}</p>\n"
        f'<p><a href="{MOUNT}">Home</a></p>\n</main>\n</body>\n</html>\n'
    )
    return Response(body, status=code, content_type=MEDIA_TYPES["html"])


def make_server(app: ReleaseApp, host: str, port: int) -> Any:
    """A waitress server bound to ``host:port`` (port 0: a free one), answering with ``app``; ``run()`` serves.

    Every connection is bounded: idle ones are closed after ``app.options.idle`` seconds, request
    headers and bodies are capped, and proxy headers are ignored (nothing sits in front of it).
    """
    from waitress import create_server

    return create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        channel_timeout=app.options.idle,
        max_request_body_size=MAX_BODY,
        max_request_header_size=64 * 1024,
        ident="carnk-ld",
    )
