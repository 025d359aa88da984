"""The strict YAML reader refuses what would silently change a curator's data.

What a facts file may not contain (duplicate keys, anchors and aliases, tags, a raw U+0085, a
billion-laughs bomb, quoted, negative or zero-padded numbers, unknown keys) is in the catalogue
of tests/bad_inputs/; these tests cover the reader's other refusals and what it keeps as written.
"""

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
        ("a: hello\nb: *x\n", "alias *x", 2),
        ("a: !custom x\n", "YAML tag !custom", 1),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "anchor &b", 1),
        ("--- a\n--- b\n", "exactly one YAML document", None),
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
