"""Which entries of a corpus directory are read, ignored or refused, and unreadable input files.

Hidden files and editor leftovers in a whole build are cases of tests/bad_inputs/ (doc-dotfile,
shapes-dotfile, doc-editor-swap-file); these tests cover each documented name and unreadable files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carnk_ld.corpusfiles import corpus_files, ignored_entries, read_input
from carnk_ld.errors import InputError

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
    read_bytes = Path.read_bytes

    def unreadable(path: Path) -> bytes:
        if path == document:  # as with permissions 000, which do not stop root
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    out = tmp_path / "release"
    args = ["--out", str(out)] if command == "build" else []
    result = cli(command, "--root", str(sample_corpus), *args)
    assert result.exit_code == 2, result.output
    assert "documents/sample.txt: error: cannot read the file: Permission denied" in result.output
    assert "Traceback" not in result.output
    assert "cannot write the release" not in result.output
    assert not out.exists()
