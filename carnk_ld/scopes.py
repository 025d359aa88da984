"""Where a SPARQL check or shape may be evaluated: per document, or only on the whole graph.

Each QC check (``queries/checks/*.rq``) and each SPARQL target or constraint of a shape
may declare, in a comment line of its query, ``# scope: document``: its answer over the
whole graph is the union of its answers over the shards (the global graphs plus one
document's part; see :mod:`carnk_ld.pipeline`), so it is evaluated shard by shard and a
rebuild re-evaluates only the shards that changed. Without a declaration (or with
``# scope: graph``) it runs on the whole graph, which is always correct.
``tests/test_scopes.py`` proves the declaration for every document-scoped query of the
project on a corpus with injected violations.
"""

from __future__ import annotations

import re
from typing import Literal

Scope = Literal["document", "graph"]
SCOPES: tuple[Scope, ...] = ("document", "graph")

_SCOPE_LINE = re.compile(r"^[ \t]*#[ \t]*scope[ \t]*:[ \t]*(\S*)[ \t]*$", re.MULTILINE)


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


__all__ = ["SCOPES", "Scope", "declared_scope"]
