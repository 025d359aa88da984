"""The strict YAML reader refuses what would silently change a curator's data.

What a facts file may not contain (duplicate keys, anchors and aliases, tags, a raw U+0085, a
billion-laughs bomb, quoted, negative or zero-padded numbers, unknown keys) is in the catalogue
of tests/bad_inputs/; these tests cover the reader's other refusals and what it keeps as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.errors import InputError
from carnk_ld.yamlreader import MAX_COUNT, Reader, YMap, YScalar, load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("a: hello\nb: *x\n", "alias *x", 2),
        ("a: !custom x\n", "YAML tag !custom", 1),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "anchor &b", 1),
        ("--- a\n--- b\n", "a second YAML document starts here", 2),
        ("a: 1\n...\n---\nb: 2\n", "a second YAML document starts here", 3),
        ("", "expected exactly one YAML document, found none", 1),
        ("a: 1\nb: x\x0by\n", "character U+000B is not allowed", 2),
    ],
)
def test_rejected_constructs_name_the_line(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    with pytest.raises(InputError) as info:
        load_yaml(write(tmp_path, text))
    assert fragment in str(info.value)
    if line is not None:
        assert info.value.location.line == line


def test_yaml_11_words_stay_the_text_written(tmp_path: Path) -> None:
    node = load_yaml(write(tmp_path, "a: no\nb: on\nc: 0777\nd: 1e3\ne: '11'\n"))
    assert isinstance(node, YMap)
    values = {k: v[1] for k, v in node.items.items()}
    assert values["a"] == YScalar("no", 1, True)
    assert values["b"].value == "on"
    assert values["c"].value == "0777"
    assert values["d"].value == "1e3"
    assert values["e"] == YScalar("11", 5, False)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("11", True), ("0", True), ("1e3", False), ("0x1f", False), ("1_000", False)],
)
def test_integers_are_plain_decimal_only(tmp_path: Path, raw: str, ok: bool) -> None:
    node = load_yaml(write(tmp_path, f"n: {raw}\n"))
    assert isinstance(node, YMap)
    reader = Reader(Path("f.yaml"))
    if ok:
        assert reader.integer(node.items["n"][1], "n") == int(raw)
    else:
        with pytest.raises(InputError, match="non-negative whole number"):
            reader.integer(node.items["n"][1], "n")


@pytest.mark.parametrize(
    ("text", "name", "line", "column"),
    [
        ('a: 1\nb: "x\u2028y"\n', "U+2028 (LINE SEPARATOR)", 2, 6),
        ("a: x\u2029y\n", "U+2029 (PARAGRAPH SEPARATOR)", 1, 5),
        ('a: "x\x85y"\n', "U+0085 (NEXT LINE)", 1, 6),
        ('a: 1\r\nb: "x\ry"\r\n', "U+000D (CARRIAGE RETURN)", 2, 6),
        ("# a comment\u2028b: hidden\na: 1\n", "U+2028 (LINE SEPARATOR)", 1, 12),
    ],
)
def test_raw_line_breaks_yaml_would_fold_are_refused_at_their_place(
    tmp_path: Path, text: str, name: str, line: int, column: int
) -> None:
    with pytest.raises(InputError) as info:
        load_yaml(write(tmp_path, text))
    assert f"raw {name} character" in str(info.value)
    assert "inside a double-quoted string" in str(info.value)
    assert (info.value.location.line, info.value.location.column) == (line, column)


def test_crlf_line_ends_read_like_lf(tmp_path: Path) -> None:
    text = 'a: one\nb: "two\n  lines"\nc: |\n  block\n'
    lf = load_yaml(write(tmp_path, text))
    crlf = load_yaml(write(tmp_path, text.replace("\n", "\r\n")))
    assert crlf == lf
    assert isinstance(crlf, YMap)
    assert crlf.items["b"][1].value == "two lines"
    assert crlf.items["c"][1].value == "block\n"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [(str(MAX_COUNT), True), (str(MAX_COUNT + 1), False), ("1" + "0" * 30, False), ("9" * 100_000, False)],
)
def test_counts_are_bounded_by_what_stores_compare(tmp_path: Path, raw: str, ok: bool) -> None:
    node = load_yaml(write(tmp_path, f"n: {raw}\n"))
    assert isinstance(node, YMap)
    reader = Reader(Path("f.yaml"))
    if ok:
        assert reader.integer(node.items["n"][1], "n") == MAX_COUNT
        return
    with pytest.raises(InputError) as info:
        reader.integer(node.items["n"][1], "n")
    assert f"({len(raw)} digits) is over the limit of {MAX_COUNT:,}" in str(info.value)
    assert info.value.location.line == 1
    assert len(str(info.value)) < 400, "the message quotes a long number cut short"


def test_max_count_fits_64_bit_stores_and_javascript_numbers() -> None:
    assert MAX_COUNT < 2**53 < 2**63 - 1


#: (YAML text or bytes, line, column, message fragment, hint fragment or None)
SYNTAX_ERRORS = [
    pytest.param("a: 1\n\tb: 2\n", 2, 1, "tab", "indent with spaces", id="tab-indentation"),
    pytest.param("a:\n\t- 1\n", 2, 1, "cannot start any token", "indent with spaces", id="tab-before-an-item"),
    pytest.param("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key", "check the indentation", id="indentation"),
    pytest.param('a: "abc\nb: 2\n', 3, 1, "quoted scalar at line 1, column 4", "close the quote", id="unclosed-double"),
    pytest.param("a: 'abc\n", 2, 1, "quoted scalar at line 1, column 4", "close the quote", id="unclosed-single"),
    pytest.param("a: [1, 2\n", 2, 1, "flow sequence at line 1, column 4", None, id="unclosed-bracket"),
    pytest.param('a: "\\q"\n', 1, 5, "unknown escape character", None, id="bad-escape"),
    pytest.param("a: b: c\n", 1, 5, "mapping values are not allowed", None, id="colon-in-a-value"),
    pytest.param(
        "a: 1\nb:\n  c: 2\n  c: 3\n",
        4,
        3,
        "duplicate key 'c' (first defined on line 3)",
        "remove one",
        id="duplicate-key",
    ),
    pytest.param("x: 1\nb: *x\n", 2, 4, "alias *x", None, id="alias"),
    pytest.param(b"a: 1\nb: caf\xe9 ok\n", 2, 7, "byte 0xE9 at line 2, column 7", "iconv", id="latin-1-byte"),
    pytest.param(b"a: \xc3\xa9\xff\n", 1, 5, "byte 0xFF at line 1, column 5", None, id="bad-byte-after-a-character"),
    pytest.param("a: 1\nb: x\x07\n", 2, 5, "character U+0007 is not allowed", None, id="control-character"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment", "hint"), SYNTAX_ERRORS)
def test_yaml_errors_name_line_and_column_never_a_character_position(
    tmp_path: Path, text: str | bytes, line: int, column: int, fragment: str, hint: str | None
) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(InputError) as info:
        load_yaml(path, display_path=Path("facts/f.yaml"))
    rendered = info.value.render()
    assert rendered.startswith(f"facts/f.yaml:{line}:{column}: error: "), rendered
    assert fragment in rendered
    assert "position" not in rendered and "offset" not in rendered and "<unicode string>" not in rendered
    if hint is not None:
        assert info.value.hint is not None and hint in info.value.hint, rendered


def test_every_wrong_key_of_a_mapping_is_reported_with_the_allowed_keys(tmp_path: Path) -> None:
    node = load_yaml(write(tmp_path, "idd: x\nqoute: y\ncolour: z\n"))
    errors = Reader(Path("f.yaml")).key_errors(node, "a fact", {"id", "quote"}, {"note"})  # type: ignore[arg-type]
    assert [(e.location.line, e.message) for e in errors] == [
        (1, "unknown key 'idd' in a fact"),
        (2, "unknown key 'qoute' in a fact"),
        (3, "unknown key 'colour' in a fact"),
        (1, "a fact is missing the required key 'id'"),
        (1, "a fact is missing the required key 'quote'"),
    ]
    assert [e.hint for e in errors[:3]] == [
        "did you mean 'id'? allowed keys: id, note, quote",
        "did you mean 'quote'? allowed keys: id, note, quote",
        "allowed keys: id, note, quote",
    ]
