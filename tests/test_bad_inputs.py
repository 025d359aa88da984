"""The bad-input catalogue: every broken or hostile input gives a clear error and never a traceback.

Each ``tests/bad_inputs/<case>.yaml`` patches a copy of the sample corpus (tests/fixtures/corpus
with the project's ontology, shapes, mappings and checks) and states what must happen: the exit
code, the file and line named (``line``, or ``line_of`` the first line containing a text), the
column where the error is (``column``, ``column_of`` a text in that line, or ``end`` for the line
break), and one or more message fragments (and ``absent``: fragments the output must not hold). For
failures, the previous release must stay byte-identical; inputs that are handled deliberately (BOM,
CRLF, literals that must round-trip exactly) must build, and their literals must read back
identically from every serialisation. ``slow: true`` keeps a case that takes seconds out of ``make
test-fast``. A patch with ``in: release`` edits the previous release instead of the corpus (an
expectation with ``in: release`` names a release file); the release is then compared with its
patched self. ``resum: NAME`` rewrites NAME's line of a release's ``SHA256SUMS`` to match NAME as
patched. A ``content`` patch creates the folders it needs.

A case may give ``command:``, the command and its options: ``build``, ``check`` and ``cq`` run with
``--root`` and ``--out`` of the case's corpus and release, ``query`` and ``load`` with
``--release``; ``{root}`` and ``{out}`` in an option stand for those two folders. A failure leaves
the corpus as well as the release exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyld.jsonld
import pyoxigraph as ox
import pytest
import yaml

from carnk_ld.pipeline import cache_dir
from tests.conftest import line_of, tree_bytes

CASES = sorted((Path(__file__).resolve().parent / "bad_inputs").glob("*.yaml"))


def case_param(path: Path):
    """A case as a test parameter; ``slow: true`` (cases that run the reasoner or build in full) marks it slow."""
    slow = yaml.safe_load(path.read_text(encoding="utf-8")).get("slow", False)
    return pytest.param(path, id=path.stem, marks=[pytest.mark.slow] if slow else [])


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


def apply(root: Path, patch: dict) -> None:
    path = root / patch["file"]
    if "old" in patch:
        text = path.read_text(encoding="utf-8")
        assert patch["old"] in text, f"{patch['old']!r} not in {patch['file']}"
        new = bytes.fromhex(patch["new_hex"]).decode("utf-8") if "new_hex" in patch else patch["new"]
        path.write_text(text.replace(patch["old"], new, 1), encoding="utf-8")
    elif "content" in patch:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(patch["content"], encoding="utf-8")
    elif "bytes" in patch:
        path.write_bytes(bytes.fromhex(patch["bytes"]))
    elif "prepend_bytes" in patch:
        path.write_bytes(bytes.fromhex(patch["prepend_bytes"]) + path.read_bytes())
    elif "append" in patch:  # a text, or [[text, times], ...] as for repeat
        extra = patch["append"]
        if not isinstance(extra, str):
            extra = "".join(text * times for text, times in extra)
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    elif patch.get("crlf"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    elif patch.get("cr"):  # classic Mac line ends: the RDF parsers end a line at a lone CR too
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    elif "size_mb" in patch:
        with open(path, "wb") as handle:  # sparse: the size is what matters
            handle.truncate(patch["size_mb"] * 1024 * 1024)
    elif "symlink" in patch:
        os.symlink(patch["symlink"], path)
    elif "rename" in patch:
        path.rename(root / patch["rename"])
    elif "repeat" in patch:  # [[text, times], ...]: inputs too large to spell out, such as deep nesting
        path.write_text("".join(text * times for text, times in patch["repeat"]), encoding="utf-8")
    elif "resum" in patch:  # the SHA256SUMS line of a release file patched before, so only that file is wrong
        name = patch["resum"]
        digest = hashlib.sha256((root / name).read_bytes()).hexdigest()
        lines = [f"{digest}  {name}" if line.endswith(f"  {name}") else line for line in path.read_text().splitlines()]
        assert lines != path.read_text().splitlines(), f"{name} is not listed in {patch['file']}"
        path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    elif "resha" in patch:
        digest = hashlib.sha256((root / patch["resha"]).read_bytes()).hexdigest()
        text = path.read_text(encoding="utf-8")
        old = text.split("sha256: ", 1)[1].split("\n", 1)[0]
        path.write_text(text.replace(f"sha256: {old}", f"sha256: {digest}"), encoding="utf-8")
    else:
        raise AssertionError(f"unknown patch {patch}")


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root``: a link's target, a file's digest (over 1 MiB: its size), else its kind."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = ("link", os.readlink(path))
        elif path.is_file():
            size = path.stat().st_size
            found[name] = ("size", size) if size > 1 << 20 else hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "folder" if path.is_dir() else "other"
    return found


def literals(release: Path) -> dict[str, set[str]]:
    """Literal values as read back from each serialisation."""
    found: dict[str, set[str]] = {}
    for name, fmt in (
        ("carnk.nt", ox.RdfFormat.N_TRIPLES),
        ("carnk.ttl", ox.RdfFormat.TURTLE),
        ("carnk.nq", ox.RdfFormat.N_QUADS),
    ):
        found[name] = {
            q.object.value for q in ox.parse(path=str(release / name), format=fmt) if isinstance(q.object, ox.Literal)
        }
    document = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))
    nquads = pyld.jsonld.to_rdf(document, {"format": "application/n-quads"})
    found["carnk.jsonld"] = {
        q.object.value
        for q in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)
        if isinstance(q.object, ox.Literal)
    }
    return found


def where(root: Path, expect: dict) -> str:
    """``file``, ``file:line:`` or ``file:line:column:`` as the error must name it."""
    text = expect["file"]
    if "line_of" in expect:
        line = line_of(root / expect["file"], expect["line_of"])
    elif "line" in expect:
        line = expect["line"]
    else:
        return text
    text += f":{line}:"
    if "column" in expect or "column_of" in expect:
        lines = (root / expect["file"]).read_text(encoding="utf-8").splitlines()
        content = lines[line - 1] if line <= len(lines) else ""
        if "column_of" in expect:
            assert expect["column_of"] in content, f"{expect['column_of']!r} not in line {line}"
            column = content.index(expect["column_of"]) + 1
        elif expect["column"] == "end":
            column = len(content) + 1
        else:
            column = expect["column"]
        text += f"{column}:"
    return text


def stat_signature(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry's inode, size and modification time: any write to a file changes them."""
    found = {}
    for folder, folders, files in os.walk(directory):
        for name in folders + files:
            info = os.lstat(os.path.join(folder, name))
            found[os.path.join(folder, name)] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return found


@pytest.fixture
def previous_release(sample_release: Path, tmp_path: Path) -> Iterator[Path]:
    """The sample release as a user has it after a first build: the release, and its build cache beside it.

    Their files are hard links to the session's ``sample_release`` and its cache: a release holds
    some 1,500 files, and creating that many files costs about a second here, linking them a few
    milliseconds. A build never writes into a file of the previous release or of its cache (it
    swaps in a new release folder, and replaces a cache file by renaming a new one over it), a
    patch with ``in: release`` replaces the file it edits by a copy first (:func:`unshare`), and the
    session's release and cache are checked to be unchanged after every case, so a command that
    did write into one of their files would fail the case that did it.
    """
    out = tmp_path / "release"
    shutil.copytree(sample_release, out, copy_function=os.link)
    shutil.copytree(cache_dir(sample_release), cache_dir(out), copy_function=os.link)
    pristine = stat_signature(sample_release), stat_signature(cache_dir(sample_release))
    yield out
    after = stat_signature(sample_release), stat_signature(cache_dir(sample_release))
    assert after == pristine, "a command wrote into a file of the previous release or its cache"


def unshare(root: Path, patch: dict) -> None:
    """Replace the release file a patch edits (a hard link to the session's release) by a private copy."""
    path = root / patch["file"]
    if path.is_file() and not path.is_symlink() and path.stat().st_nlink > 1:
        copy = path.with_name(f".{path.name}.copy")
        shutil.copy2(path, copy)
        os.replace(copy, path)


@pytest.mark.parametrize("case_path", [case_param(p) for p in CASES])
def test_bad_input(case_path: Path, sample_corpus: Path, previous_release: Path, cli) -> None:
    case = yaml.safe_load(case_path.read_text(encoding="utf-8"))
    out = previous_release
    for patch in case["patch"]:
        if patch.get("in") == "release":
            unshare(out, patch)
        apply(out if patch.get("in") == "release" else sample_corpus, patch)
    before = tree_bytes(out)
    corpus_before = snapshot(sample_corpus)
    command = case.get("command") or ["build"]
    options = [option.replace("{root}", str(sample_corpus)).replace("{out}", str(out)) for option in command[1:]]
    if command[0] in ("build", "check", "cq"):
        result = cli(command[0], "--root", str(sample_corpus), "--out", str(out), *options)
    else:
        result = cli(command[0], "--release", str(out), *options)
    builds = command[0] == "build"
    expect = case["expect"]
    assert result.exit_code == expect["exit"], result.output
    messages = expect["message"] if isinstance(expect["message"], list) else [expect["message"]]
    for message in messages:
        assert message, f"{case_path.name}: an empty message fragment would match any output"
        assert message in result.output, result.output
    for message in expect.get("absent", []):  # follow-on errors and misleading hints the case must not give
        assert message not in result.output, result.output
    assert "Traceback" not in result.output
    # a file of the corpus is named relative to its root; the header names the root once, and a
    # message about an option's path (--timings) names it as the user typed it
    typed = [o for o in options if str(sample_corpus) in o]
    lines = [line for line in result.output.splitlines() if line != f"in corpus {sample_corpus}:"]
    leaked = [line for line in lines if str(sample_corpus) in line and not any(o in line for o in typed)]
    assert not leaked, f"absolute corpus paths in messages: {leaked}"
    if "file" in expect:
        place = where(out if expect.get("in") == "release" else sample_corpus, expect)
        assert place in result.output, f"expected {place!r} in:\n{result.output}"
    if expect["exit"] != 0:
        assert tree_bytes(out) == before, "a failed build must leave the previous release untouched"
        assert snapshot(sample_corpus) == corpus_before, "a failed command must leave the corpus untouched"
        if builds:
            assert "the previous release is untouched" in result.output
    elif builds:
        assert tree_bytes(out) != before
        for value in case.get("roundtrip", []):
            for name, values in literals(out).items():
                assert value in values, f"{value!r} did not round-trip through {name}"
    assert not [p for p in out.parent.iterdir() if ".staging-" in p.name or ".old-" in p.name]
