"""The README's ``carnk-ld query`` examples run as written on a small release (the sample corpus's).

The examples are read from README.md, not copied here, so an example that stops working (or a
new one that never did) fails this test. Each runs with ``--release`` of the sample release and
from the project's root, where the query files it names are; it must exit 0 and print an answer
of the form it asked for. Other commands of the README need a corpus root, a network endpoint or
write files, and are tested where their commands are.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from pathlib import Path

import pyoxigraph as ox
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE_RE = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def query_examples() -> list[list[str]]:
    """Every ``carnk-ld query`` command line of the README's code blocks, as arguments (synopses left out)."""
    found = []
    for block in FENCE_RE.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("carnk-ld query "):
                words = shlex.split(line, comments=True)
                if "|" not in words:  # "FILE.rq | -e QUERY": the command-line synopsis, not an example
                    found.append(words[1:])
    return found


EXAMPLES = query_examples()


def test_the_readme_has_query_examples() -> None:
    assert len(EXAMPLES) >= 3


def _format(args: list[str]) -> str:
    return args[args.index("--format") + 1] if "--format" in args else "table"


@pytest.mark.parametrize("args", EXAMPLES, ids=[" ".join(a)[:60] for a in EXAMPLES])
def test_a_readme_query_example_runs(
    cli, sample_release: Path, project_root: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(project_root)
    result = cli(*args, "--release", str(sample_release))
    assert result.exit_code == 0, result.output
    out = result.output
    text = " ".join(args).upper()
    fmt = _format(args)
    if "CONSTRUCT" in text or "DESCRIBE" in text:
        rdf = {"turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "json": ox.RdfFormat.JSON_LD}
        triples = list(ox.parse(out.encode(), format=rdf.get(fmt, ox.RdfFormat.N_TRIPLES)))
        assert triples, out
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows and all(re.fullmatch(r"[A-Za-z_]\w*", name) for name in rows[0]), out
    elif fmt == "json":
        assert "head" in json.loads(out)
    else:  # the table: a header of variables, a rule, the rows and their count
        lines = out.splitlines()
        assert re.fullmatch(r"[-+]+", lines[1]) and re.fullmatch(r"\(\d+ rows?\)", lines[-1]), out
