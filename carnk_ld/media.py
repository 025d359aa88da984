"""The release's web formats: file extension, media type and content negotiation (issue 18, contract 2).

One table serves ``carnk-ld serve`` and the w3id rules, so the server and the redirect
service answer the same ``Accept`` header with the same format.
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

#: Extension of each file describing a resource, and the media type it is served as. HTML first:
#: it is the answer when nothing else is asked for, and wins a tie (``*/*``, a browser's header).
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}
#: The RDF formats (every extension but HTML).
RDF_EXTENSIONS = tuple(ext for ext in MEDIA_TYPES if ext != "html")


def mime(ext: str) -> str:
    """The media type of an extension without its parameters.

    >>> mime("html")
    'text/html'
    """
    return MEDIA_TYPES[ext].split(";", 1)[0]


def negotiate(accept: str | None) -> str:
    """The extension an ``Accept`` header asks for, by q-value and specificity (RFC 9110, section 12.5.1).

    Nothing acceptable, no header, or ``*/*`` gives HTML.

    >>> negotiate("text/turtle;q=0.5, application/ld+json")
    'jsonld'
    >>> negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    'html'
    >>> negotiate("image/png"), negotiate(None), negotiate("*/*")
    ('html', 'html', 'html')
    >>> negotiate("text/*;q=0.9, text/html;q=0.1")
    'ttl'
    """
    header = parse_accept_header(accept or "", MIMEAccept)
    match = header.best_match([mime(ext) for ext in MEDIA_TYPES])
    if match is None:
        return "html"
    return next(ext for ext in MEDIA_TYPES if mime(ext) == match)
