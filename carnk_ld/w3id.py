"""The w3id.org redirect rules for ``https://w3id.org/carnk/``: an Apache ``.htaccess`` (mod_rewrite).

w3id.org answers every IRI of the namespace with a 303 See Other to the site where the release
is hosted (the *target*, which serves ``build/site/`` as its folder), as ``carnk-ld serve`` does
(contract 2 of issue 18):

- ``PATH.EXT`` (``.html``, ``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``) goes to ``TARGET/PATH.EXT``;
- ``PATH`` goes to ``TARGET/PATH.EXT``, ``EXT`` chosen by the request's ``Accept`` header;
- an IRI that belongs to a described resource (contract 1: ``kg/doc/D/segment/3`` belongs to
  ``kg/doc/D``) goes, in HTML, to the owner's page at its fragment, ``TARGET/kg/doc/D.html#segment-3``,
  and in RDF to the owner's file, which holds its triples (a static host has no file per IRI);
- the namespace itself goes to the target, the home page;
- ``releases/VERSION/FILE`` (a distribution's download URL, the ontology's versionIRI) goes with
  302 Found to ``TARGET/releases/VERSION/FILE``: the host publishes each release's files there.

The ``Accept`` header is negotiated with its q-values, as :func:`carnk_ld.media.negotiate` does:
mod_rewrite cannot compare numbers, so each format's q-value is captured with trailing zeros
dropped (``0.50`` as ``0.5``, ``1.000`` as ``1``), which makes string order numeric order, and
compared with ``RewriteCond expr``. A format's q-value is that of its own media range, else of
``text/*`` or ``application/*``, else of ``*/*``; HTML wins ties, and is the answer when no format
is acceptable. Only .htaccess directives w3id.org allows are used (mod_rewrite, mod_headers).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from carnk_ld.constants import BASE
from carnk_ld.errors import InputError
from carnk_ld.media import MEDIA_TYPES, RDF_EXTENSIONS, mime

#: The described resources that own other IRIs (contract 1), as regular expressions of their paths.
#: Terms and the ontology are one segment, and own none.
OWNERS = (r"kg/doc/[^/]+", r"kg/fact/[^/]+/[^/]+", r"kg/study/[^/]+/[^/]+")
#: The most segments below its owner an IRI may have for its HTML to reach the owner's fragment.
#: The release's deepest IRIs have four (``kg/study/D/S/arm/A/outcome/O``).
MAX_DEPTH = 8
# A q-value (RFC 9110, section 12.4.2) captured without trailing zeros: string order is then numeric order.
_Q = r"(1|0(?:\.[0-9]*[1-9])?)\.?0*"
# Characters a target URL may hold: no '$' or '%' (mod_rewrite expands them), no spaces, quotes or '\'.
_TARGET_CHARS = re.compile(r"[A-Za-z0-9._~:/@!&'()*+,;=-]+")


def check_target(target: str) -> str:
    """A target URL the rules can redirect to: absolute http(s), a folder (ending in ``/``), nothing to escape.

    >>> check_target("https://example.org/carnk/")
    'https://example.org/carnk/'
    >>> check_target("https://example.org/carnk")
    Traceback (most recent call last):
    ...
    carnk_ld.errors.InputError: --target: error: https://example.org/carnk is not a folder URL: it does not end in /
      hint: write https://example.org/carnk/
    """
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError("--target", f"{target} is not an http or https URL", "write https://HOST/FOLDER/")
    if parts.query or parts.fragment or not _TARGET_CHARS.fullmatch(target):
        raise InputError(
            "--target",
            f"{target} has characters a redirect rule cannot hold (a query, a fragment, spaces, '%', '$')",
            "give the plain URL of the folder that serves the site",
        )
    if not target.endswith("/"):
        raise InputError("--target", f"{target} is not a folder URL: it does not end in /", f"write {target}/")
    return target


def _range(media_range: str) -> str:
    """A regular expression for one entry of an ``Accept`` header with this media range; group 1 its q-value."""
    escaped = re.escape(media_range)
    params = r"(?:\s*;\s*(?![qQ]\s*=)[^,;]*)*"
    return rf"(?:^|,)\s*{escaped}{params}\s*;\s*q\s*=\s*{_Q}\s*(?:;[^,]*)?(?:,|$)"


def _range_without_q(media_range: str) -> str:
    escaped = re.escape(media_range)
    return rf"(?:^|,)\s*{escaped}(?:\s*;\s*(?![qQ]\s*=)[^,;]*)*\s*(?:,|$)"


def _q_rules(ext: str) -> list[str]:
    """Set ``CARNK_Q_EXT`` to the q-value the header gives ``ext``'s media type and the range's specificity.

    The value is ``Q-S``: Q the q-value without trailing zeros, S 0 for ``*/*``, 1 for ``text/*``
    or ``application/*``, 2 for the media type itself. As '-' sorts before digits and '.',
    string order is the order of q-values, then of specificity (a type named outranks one matched
    by ``*/*`` at the same q-value). Unset: the header accepts no range that matches.
    """
    media_type = mime(ext)
    var = f"CARNK_Q_{ext.upper()}"
    lines = []
    # Least specific first: each more specific range listed overrides what a wider one set.
    for specificity, media_range in enumerate(("*/*", media_type.split("/")[0] + "/*", media_type)):
        lines += [
            f"RewriteCond %{{HTTP:Accept}} {_range_without_q(media_range)} [NC]",
            f"RewriteRule ^ - [E={var}:1-{specificity}]",
            f"RewriteCond %{{HTTP:Accept}} {_range(media_range)} [NC]",
            f"RewriteRule ^ - [E={var}:%1-{specificity}]",
        ]
    return lines


def htaccess(target: str) -> str:
    """The ``.htaccess`` for w3id.org's ``carnk/`` folder, redirecting to ``target`` (see the module docstring)."""
    target = check_target(target)
    exts = "|".join(MEDIA_TYPES)
    lines = [
        f"# Redirect rules for {BASE}, written by `carnk-ld w3id --target {target}`.",
        "# Each IRI answers 303 See Other to the format its Accept header asks for (q-values count):",
        "# " + ", ".join(f"{mime(ext)} .{ext}" for ext in MEDIA_TYPES) + ".",
        "# HTML when nothing else is asked for; PATH.EXT redirects to that file.",
        "RewriteEngine on",
        "",
        "<IfModule mod_headers.c>",
        "Header always merge Vary Accept",
        "</IfModule>",
        "",
        "# The q-value the Accept header gives each format.",
    ]
    for ext in MEDIA_TYPES:
        lines += _q_rules(ext)
    lines += [
        "",
        "# The format: the RDF one with the highest q-value above that of HTML (HTML wins ties), else HTML.",
        "RewriteRule ^ - [E=CARNK_EXT:html,E=CARNK_Q:%{ENV:CARNK_Q_HTML}]",
    ]
    for ext in RDF_EXTENSIONS:
        var = f"CARNK_Q_{ext.upper()}"
        lines += [
            f"RewriteCond %{{ENV:{var}}} !^(?:0-|$)",
            f'RewriteCond expr "%{{env:{var}}} > %{{env:CARNK_Q}}"',
            f"RewriteRule ^ - [E=CARNK_EXT:{ext},E=CARNK_Q:%{{ENV:{var}}}]",
        ]
    lines += [
        "",
        "# The namespace: the home page.",
        f"RewriteRule ^$ {target} [R=303,L]",
        "",
        "# A release's files (download URLs, the ontology's versionIRI): the files themselves, published",
        "# under the target's releases/VERSION/ (302: the IRI names the file, not a thing it describes).",
        f"RewriteRule ^(releases/[^/]+/[^/]+)$ {target}$1 [R=302,L]",
        "",
        "# A file of the site, by its extension.",
        rf"RewriteRule ^(.+\.(?:{exts}))$ {target}$1 [R=303,L]",
        "",
        "# An IRI that belongs to a described resource: in HTML the owner's page at the fragment",
        "# (the rest of the path, '/' written '-'), in RDF the owner's file.",
    ]
    for owner in OWNERS:
        for depth in range(1, MAX_DEPTH + 1):
            segments = "/".join(["([^/]+)"] * depth)
            fragment = "-".join(f"${n}" for n in range(2, depth + 2))
            lines += [
                "RewriteCond %{ENV:CARNK_EXT} =html",
                f"RewriteRule ^({owner})/{segments}$ {target}$1.html#{fragment} [R=303,NE,L]",
            ]
        lines.append(f"RewriteRule ^({owner})/.+$ {target}$1.%{{ENV:CARNK_EXT}} [R=303,L]")
    lines += [
        "",
        "# Any other IRI: the file of the negotiated format.",
        f"RewriteRule ^(.+)$ {target}$1.%{{ENV:CARNK_EXT}} [R=303,L]",
    ]
    return "\n".join(lines) + "\n"
