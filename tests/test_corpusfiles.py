"""Which entries of a corpus directory are read, ignored or refused, and unreadable input files.

Hidden files and editor leftovers in a whole build are cases of tests/bad_inputs/ (doc-dotfile,
shapes-dotfile, doc-editor-swap-file); these tests cover each documented name and unreadable files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from carnk_ld.corpusfiles import corpus_files, ignored_entries, read_input
from carnk_ld.errors import InputError
from tests.conftest import PROJECT, tree_bytes

LEFTOVERS = {
    ".a.txt.swp": "editor swap file",
    ".a.txt.swo": "editor swap file",
    "a.txt~": "editor backup file",
    "#a.txt#": "editor auto-save file",
    ".DS_Store": "macOS Finder metadata file",
}


def test_editor_leftovers_are_ignored_and_each_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A.", encoding="utf-8")
    (tmp_path / "README.md").write_text("About.", encoding="utf-8")
    for name in LEFTOVERS:
        (tmp_path / name).write_bytes(b"\x00leftover")
    os.symlink("root@host.1234", tmp_path / ".#a.txt")  # emacs' lock: a dangling symbolic link
    assert corpus_files(tmp_path, (".txt",), Path("documents")) == [tmp_path / "a.txt"]
    found = {path.as_posix(): what for path, what in ignored_entries(tmp_path, Path("documents"))}
    assert found == {f"documents/{name}": what for name, what in {**LEFTOVERS, ".#a.txt": "editor lock file"}.items()}


@pytest.mark.parametrize("name", [".gitkeep", ".hidden.txt", ".a.txt.bak", ".swp", "~"])
def test_any_other_hidden_or_unexpected_entry_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "a.txt").write_text("A.", encoding="utf-8")
    (tmp_path / name).write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="unexpected entry in documents/") as info:
        corpus_files(tmp_path, (".txt",), Path("documents"))
    assert info.value.location.path == Path("documents") / name


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.txt").mkdir()
    with pytest.raises(InputError, match="cannot read the file") as info:
        read_input(tmp_path / "a.txt", Path("documents/a.txt"))
    assert info.value.location.path == Path("documents/a.txt")


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unreadable_document_is_named_by_check_and_build(
    command: str, sample_corpus: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = sample_corpus / "documents" / "sample.txt"
    os_open = os.open

    def unreadable(path: object, *args: object, **kwargs: object) -> int:
        if path == document:  # as with permissions 000, which do not stop root
            raise PermissionError(13, "Permission denied", str(path))
        return os_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", unreadable)
    out = tmp_path / "release"
    args = ["--out", str(out)] if command == "build" else []
    result = cli(command, "--root", str(sample_corpus), *args)
    assert result.exit_code == 2, result.output
    assert "documents/sample.txt: error: cannot read the file: Permission denied" in result.output
    assert "Traceback" not in result.output
    assert "cannot write the release" not in result.output
    assert not out.exists()


@contextlib.contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail, instead of hanging the suite, if the block does not end in time (a blocking read would not)."""

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s: a read blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def make_special(path: Path, kind: str) -> None:
    """Replace ``path`` by a named pipe nobody writes, or by a symbolic link to a device.

    The device is /dev/null: /dev/zero would never end either, but a regression would then fill
    the memory of the machine running the tests rather than fail.
    """
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/null", path)


@pytest.mark.parametrize(("kind", "what"), [("fifo", "a named pipe"), ("device", "a device or socket")])
def test_only_regular_files_are_read(tmp_path: Path, kind: str, what: str) -> None:
    make_special(tmp_path / "a.txt", kind)
    with within(20), pytest.raises(InputError, match=f"cannot read the file: it is {what}, not a regular file") as info:
        read_input(tmp_path / "a.txt", Path("documents/a.txt"))
    assert info.value.location.path == Path("documents/a.txt")
    (tmp_path / "b.txt").write_text("B.", encoding="utf-8")
    os.symlink("b.txt", tmp_path / "c.txt")
    assert read_input(tmp_path / "c.txt", Path("documents/c.txt")) == b"B.", "a link to a regular file is read"


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("name", ["ontology/carnk.ttl", "mappings/carnk.sssom.tsv"])
def test_check_refuses_a_pipe_or_device_as_an_input_file(
    sample_corpus: Path, cli, kind: str, name: str
) -> None:
    make_special(sample_corpus / name, kind)
    with within(120):
        result = cli("check", "--root", str(sample_corpus))
    assert result.exit_code == 2, result.output
    assert f"{name}: error: cannot read the file: it is a" in result.output
    assert "Traceback" not in result.output


def test_a_build_refuses_a_pipe_as_the_mappings_and_leaves_nothing(
    sample_corpus: Path, sample_release: Path, tmp_path: Path, cli
) -> None:
    out = tmp_path / "release"
    shutil.copytree(sample_release, out)
    before = tree_bytes(out)
    make_special(sample_corpus / "mappings" / "carnk.sssom.tsv", "fifo")
    with within(120):
        result = cli("build", "--root", str(sample_corpus), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "mappings/carnk.sssom.tsv: error: cannot read the file: it is a named pipe" in result.output
    assert tree_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release", "sample"], "no lock, cache or staging left"


@pytest.mark.parametrize("name", ["queries/cq-01-therapy-kind.rq", "queries/answers/cq-01-therapy-kind.tsv"])
def test_cq_refuses_a_pipe_as_a_question_or_answer(sample_corpus: Path, sample_release: Path, cli, name: str) -> None:
    shutil.copytree(PROJECT / "queries", sample_corpus / "queries", dirs_exist_ok=True)
    make_special(sample_corpus / name, "fifo")
    with within(120):
        result = cli("cq", "--root", str(sample_corpus), "--out", str(sample_release))
    assert result.exit_code == 2, result.output
    assert f"{name}: error: cannot read the file: it is a named pipe" in result.output
    assert "Traceback" not in result.output


def test_check_names_the_files_it_ignored_as_build_does(sample_corpus: Path, cli) -> None:
    (sample_corpus / "documents" / ".sample.txt.swp").write_bytes(b"b0VIM 9.0")
    result = cli("check", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output
    assert "ignored:    documents/.sample.txt.swp (editor swap file)" in result.output
