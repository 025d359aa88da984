"""Where a SPARQL check or shape may be evaluated: per document, or only on the whole graph.

Each QC check (``queries/checks/*.rq``) and each SPARQL target or constraint of a shape
may declare, in a comment line of its query, ``# scope: document``: its answer over the
whole graph is the union of its answers over the shards (the global graphs plus one
document's part; see :mod:`carnk_ld.pipeline`), so it is evaluated shard by shard and a
rebuild re-evaluates only the shards that changed. Without a declaration (or with
``# scope: graph``) it runs on the whole graph, which is always correct.
``tests/test_scopes.py`` proves the declaration for every document-scoped query of the
project on a corpus with injected violations.

A whole-graph query may also declare which named graphs of the release its solutions read,
``# graphs: ontology mappings facts``: it then runs on a store of just those graphs, which
is smaller and quicker to build than one of everything. The same test proves that
declaration too.
"""

from __future__ import annotations

import re
from typing import Literal

Scope = Literal["document", "graph"]
SCOPES: tuple[Scope, ...] = ("document", "graph")

_SCOPE_LINE = re.compile(r"^[ \t]*#[ \t]*scope[ \t]*:[ \t]*(\S*)[ \t]*$", re.MULTILINE)
_GRAPHS_LINE = re.compile(r"^[ \t]*#[ \t]*graphs[ \t]*:(.*)$", re.MULTILINE)
#: The named graphs of the release a query may declare, by the last segment of their IRIs.
GRAPH_NAMES = ("ontology", "facts", "provenance", "mappings", "metadata")

# The tokens of SPARQL 1.1 inside which a keyword is not a keyword (grammar productions
# IRIREF, STRING_LITERAL1/2, STRING_LITERAL_LONG1/2 and comments). No parser at hand
# reports its tokens (Oxigraph's is not exposed to Python; rdflib's drops comments), so
# they are matched here.
_ECHAR = r"""\\[tbnrf\\"']"""
_TOKENS = re.compile(
    "|".join(
        (
            r"""(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)""",
            rf"""(?P<long1>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*''')""",
            rf'''(?P<long2>"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*""")''',
            rf"""(?P<short1>'(?:[^'\\\n\r]|{_ECHAR})*')""",
            rf"""(?P<short2>"(?:[^"\\\n\r]|{_ECHAR})*")""",
            # A comment ends at the first line end, CR or LF: parsers disagree on a lone CR,
            # and ending it early keeps what follows visible to a keyword search.
            r"(?P<comment>#[^\n\r]*)",
        )
    )
)
_BLANK = {"iri": "<>", "long1": "''", "long2": "''", "short1": "''", "short2": "''", "comment": " "}


def query_code(query: str) -> str:
    r"""The query with comments removed and IRIs and strings emptied: what is left are its keywords.

    >>> query_code('SELECT ?g # the GRAPH\nWHERE { ?s <http://x/#GRAPH> "GRAPH" }')
    "SELECT ?g  \nWHERE { ?s <> '' }"
    >>> query_code("# hidden\rSERVICE <x> {}")
    ' \rSERVICE <> {}'
    >>> query_code("SELECT * { ?s ?p '''a ' # b''' } # GRAPH")
    "SELECT * { ?s ?p '' }  "
    """
    return _TOKENS.sub(lambda match: _BLANK[match.lastgroup or "comment"], query)


def declared_scope(query: str) -> tuple[Scope, int | None, str]:
    """The scope a query declares, the line of its declaration and what is wrong with it ("" if nothing).

    >>> declared_scope("# scope: document\\nSELECT * WHERE { ?s ?p ?o }")[:2]
    ('document', 1)
    >>> declared_scope("SELECT * WHERE { ?s ?p ?o }")
    ('graph', None, '')
    >>> declared_scope("# scope: everything\\nSELECT * {}")[2]
    "unknown scope 'everything' (write 'document' or 'graph')"
    """
    found = list(_SCOPE_LINE.finditer(query))
    if not found:
        return "graph", None, ""
    line = query.count("\n", 0, found[0].start()) + 1
    if len(found) > 1:
        return "graph", line, "more than one '# scope:' line"
    value = found[0].group(1)
    if value not in SCOPES:
        return "graph", line, f"unknown scope {value!r} (write 'document' or 'graph')"
    return value, line, ""


def declared_graphs(query: str) -> tuple[tuple[str, ...] | None, int | None, str]:
    r"""The named graphs a whole-graph query declares it reads (None: all), the declaration's line, a problem.

    >>> declared_graphs("# scope: graph\n# graphs: facts ontology\nSELECT * {}")[:2]
    (('facts', 'ontology'), 2)
    >>> declared_graphs("SELECT * {}")
    (None, None, '')
    >>> declared_graphs("# graphs: facts\nSELECT * {}")[2]
    "'# graphs:' is for whole-graph queries ('# scope: graph'); a document-scoped query reads its shards"
    >>> declared_graphs("# scope: graph\n# graphs: facts stuff\nSELECT * {}")[2]
    "unknown graph 'stuff' (write some of ontology, facts, provenance, mappings, metadata)"
    """
    found = list(_GRAPHS_LINE.finditer(query))
    if not found:
        return None, None, ""
    line = query.count("\n", 0, found[0].start()) + 1
    scope, scope_line, _ = declared_scope(query)
    if len(found) > 1:
        return None, line, "more than one '# graphs:' line"
    if scope != "graph" or scope_line is None:
        return (
            None,
            line,
            ("'# graphs:' is for whole-graph queries ('# scope: graph'); a document-scoped query reads its shards"),
        )
    names = tuple(found[0].group(1).split())
    unknown = [name for name in names if name not in GRAPH_NAMES]
    if unknown or not names:
        what = f"unknown graph {unknown[0]!r}" if unknown else "no graph named"
        return None, line, f"{what} (write some of {', '.join(GRAPH_NAMES)})"
    return names, line, ""


__all__ = ["GRAPH_NAMES", "SCOPES", "Scope", "declared_graphs", "declared_scope", "query_code"]
