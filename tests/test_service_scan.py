"""The SERVICE scan of :mod:`carnk_ld.scopes` finds every SERVICE that Oxigraph would run.

Oxigraph's HTTP client refuses a ``SERVICE <urn:...>`` at once, before any connection (it
takes only http and https URLs), so whether Oxigraph parses a query and runs its SERVICE
can be asked of Oxigraph itself, on an empty store, without the network: the query then
fails with an OSError instead of a SyntaxError or no error. A SERVICE the scan misses while
Oxigraph runs it is the defect these tests look for: the table holds the forms that hid one
(escapes in prefixed names and IRIs), the property test tries generated neighbours of them.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnk_ld.scopes import code_lines, query_code, service_offset

SERVICE = "SERVICE <urn:carnk:nowhere> {}"
PREFIXES = "PREFIX c: <http://c.example/> PREFIX : <http://d.example/>\n"


def oxigraph_runs_service(query: str) -> bool:
    """Whether Oxigraph parses the query and calls its SERVICE (refused before connecting)."""
    try:
        list(ox.Store().query(query))  # type: ignore[arg-type]  # any of its three result kinds iterates
    except SyntaxError:
        return False
    except OSError:  # an empty store in memory fails only at the SERVICE's URL
        return True
    return False


# Each hides the SERVICE after it from a scan that reads comments, strings and IRIs but not
# the escapes the grammar allows in them (a prefixed name's \# and \', an IRI's \uXXXX).
HIDING = [
    pytest.param(f"BIND (c:a\\# AS ?x) {SERVICE}", id="escaped-hash-in-local-name"),
    pytest.param(f"BIND (c:\\# AS ?x) {SERVICE}", id="escaped-hash-first-in-local-name"),
    pytest.param(f"BIND (c:a.\\#b AS ?x) {SERVICE}", id="escaped-hash-after-dot"),
    pytest.param(f"BIND (:a\\' AS ?x) {SERVICE} BIND ('y' AS ?y)", id="escaped-quote-in-local-name"),
    pytest.param(f'BIND ("t"^^c:t\\# AS ?x) {SERVICE}', id="escaped-hash-in-datatype"),
    pytest.param(f"VALUES ?x {{ c:a\\'b\\#c }} {SERVICE}", id="escaped-quote-then-hash"),
    pytest.param(f"BIND (c:\u00e9\u0300\u00b7\\# AS ?x) {SERVICE}", id="escaped-hash-after-non-ascii"),
    # U+2118 and U+200C are name characters that Python's \w does not match.
    pytest.param(f"BIND (c:\u2118\u200c\\# AS ?x) {SERVICE}", id="escaped-hash-after-symbol-and-joiner"),
    # The IRI holds '#' only when its \u escape is read as Oxigraph reads it; with the escape
    # applied (rdflib's reading) the string's \\\u0027 becomes \\' and runs past the SERVICE.
    pytest.param(
        f"VALUES (?x ?y) {{ (<http://a/\\u0041#> '\\\\\\u0027') }} {SERVICE} FILTER (?y != 'x')",
        id="uchar-in-iri-and-string",
    ),
]


@pytest.mark.parametrize("body", HIDING)
def test_a_service_oxigraph_runs_is_found_at_its_keyword(body: str) -> None:
    query = f"{PREFIXES}SELECT * WHERE {{ {body} }}"
    assert oxigraph_runs_service(query), "not a real case: Oxigraph does not run this SERVICE"
    assert service_offset(query) == query.index(SERVICE)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"BIND (c:a\\\\# AS ?x) {SERVICE}", id="escaped-backslash-is-no-local-escape"),
        pytest.param(f"BIND (c:a\\u0023 AS ?x) {SERVICE}", id="codepoint-escape-in-local-name"),
        pytest.param(f"BIND (_:b\\# AS ?x) {SERVICE}", id="escape-in-blank-node-label"),
    ],
)
def test_escapes_the_grammar_refuses_make_the_query_fail(text: str) -> None:
    # Read as a comment or not, these never reach Oxigraph's SERVICE.
    assert not oxigraph_runs_service(f"{PREFIXES}SELECT * WHERE {{ {text} }}")


def test_names_keep_their_words_and_lose_their_escapes() -> None:
    assert query_code("SELECT * { ?s c:a\\#b 'x' } # c") == "SELECT * { ?s c:a__b '' }  "
    assert code_lines("c:s c:p c:a\\# ~ c:r .\nc:t c:p :it\\'s .") == "c:s c:p c:a__ ~ c:r .\nc:t c:p :it__s ."


# Generated queries: terms built from pieces that open or escape comments, strings and IRIs,
# placed before and after a SERVICE. Most do not parse; those Oxigraph runs must be found.
LOCAL_PIECES = ["a", "1", ".", "-", ":", "_", "%23", "\u00e9", "\u00b7", "\u2118", "\u00b2", "'", "#"]
LOCAL_PIECES += ["\\#", "\\'", "\\.", "\\~", "\\\\"]
IRI_PIECES = ["x", "/", "#", "'", '"', "\\u0041", "\\u0027", "\\u0023", "\\u003E", "\\\\", " "]
STRING_PIECES = ["a", " ", "#", "'", '"', "\\'", '\\"', "\\u0027", "\\u0022", "\\\\", "\\n", "\n", "\r", "'''", "<"]
JUNK = ["#", "'", '"', "\\", "\n", "\r", "<", ">", "'''", '"""', " . ", "}", "{", "?s ?p ?o"]


def _joined(pieces: list[str], most: int = 5) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=most).map("".join)


TERMS = st.one_of(
    st.tuples(st.sampled_from(["c:", ":"]), _joined(LOCAL_PIECES)).map("".join),
    _joined(IRI_PIECES).map(lambda text: f"<http://a/{text}>"),
    st.tuples(st.sampled_from(["'", '"', "'''", '"""']), _joined(STRING_PIECES)).map(lambda p: p[0] + p[1] + p[0]),
    st.tuples(st.sampled_from(["'a'^^", "'a'@en"]), st.sampled_from(["c:t\\#", "<http://t/\\u0023>", ""])).map("".join),
    st.sampled_from(["?v", "$v", "1", "1.5e3", "true"]),
)
ITEMS = st.one_of(
    TERMS.map(lambda term: f"BIND ({term} AS ?x)"),
    TERMS.map(lambda term: f"VALUES ?x {{ {term} }}"),
    TERMS.map(lambda term: f"FILTER ({term} != ?y)"),
    st.sampled_from(JUNK),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.lists(ITEMS, max_size=3), after=st.lists(ITEMS, max_size=3), gap=st.sampled_from([" ", "\n", "\r"]))
def test_no_generated_query_runs_a_service_the_scan_misses(before: list[str], after: list[str], gap: str) -> None:
    query = f"{PREFIXES}SELECT * WHERE {{ {' '.join(before)}{gap}{SERVICE}{gap}{' '.join(after)} }}"
    if oxigraph_runs_service(query):
        assert service_offset(query) is not None, query
