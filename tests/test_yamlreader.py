"""The strict YAML reader refuses what would silently change a curator's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.errors import InputError
from carnk_ld.yamlreader import Reader, YMap, YScalar, load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first defined on line 1)", 3),
        ("a: &x hello\nb: *x\n", "anchor &x", 1),
        ("a: hello\nb: *x\n", "", 2),
        ("a: !!str 12\n", "YAML tag tag:yaml.org,2002:str", 1),
        ("a: !custom x\n", "YAML tag !custom", 1),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "anchor &b", 1),
        ("a: [1, 2\n", "YAML syntax error", 2),
        ("--- a\n--- b\n", "exactly one YAML document", None),
    ],
)
def test_rejected_constructs_name_the_line(tmp_path: Path, text: str, fragment: str, line: int | None) -> None:
    with pytest.raises(InputError) as info:
        load_yaml(write(tmp_path, text))
    assert fragment in str(info.value)
    if line is not None:
        assert info.value.location.line == line


def test_yaml_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(InputError, match="anchor"):
        load_yaml(write(tmp_path, "\n".join(lines) + "\n"))


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
    [("11", True), ("0", True), ("0777", False), ("'11'", False), ("1e3", False), ("-1", False), ("0x1f", False)],
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


def test_unknown_keys_get_a_suggestion(tmp_path: Path) -> None:
    node = load_yaml(write(tmp_path, "quote: x\nsubjct: y\n"))
    with pytest.raises(InputError) as info:
        Reader(Path("f.yaml")).mapping(node, "a fact", {"quote"}, {"subject"})
    assert "unknown key 'subjct'" in info.value.message
    assert info.value.hint == "did you mean 'subject'?"
    assert info.value.location.line == 2


def test_raw_next_line_character_is_refused_not_folded(tmp_path: Path) -> None:
    """PyYAML folds a raw U+0085 into a space; the curator's text would change silently."""
    with pytest.raises(InputError) as info:
        load_yaml(write(tmp_path, "a: ok\nnote: 'x\x85y'\n"))
    assert info.value.location.line == 2
    assert "U+0085" in info.value.message
    escaped = load_yaml(write(tmp_path, 'note: "x\\Ny"\n'))
    assert isinstance(escaped, YMap)
    assert escaped.items["note"][1].value == "x\x85y"
