"""Which entries of a corpus directory are read, which are ignored, and reading an input file.

Every entry of ``ontology/``, ``mappings/``, ``documents/``, ``facts/``, ``shapes/`` and
``queries/checks/`` (read by a build), and of ``queries/`` and ``queries/answers/`` (read by
``carnk-ld cq``), is either read, ignored because it is a documented editor or desktop leftover
(and then named in the command's summary), or refused: an unexpected file is never skipped
without a word, since a curator may have meant it to be read. A file that cannot be read is an
input error naming it.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, Literal

from carnk_ld.errors import InputError, Location

#: Names ignored in every corpus directory, with what they are. Editors write these next to the
#: file being edited; nothing a curator means to publish is named like them.
IGNORED_NAMES: tuple[tuple[str, str], ...] = (
    (r"\..+\.sw[a-p]", "editor swap file"),  # vim: .name.swp, .name.swo, ...
    (r".+~", "editor backup file"),  # vim, emacs, gedit: name~
    (r"\.#.+", "editor lock file"),  # emacs: .#name (a dangling symbolic link)
    (r"#.+#", "editor auto-save file"),  # emacs: #name#
    (r"\.DS_Store", "macOS Finder metadata file"),
)
_IGNORED = tuple((re.compile(pattern), what) for pattern, what in IGNORED_NAMES)
#: A directory's own documentation, read by people and expected in any corpus directory.
README = "README.md"


def ignored_reason(name: str) -> str | None:
    """What an ignored entry is (``"editor swap file"``), or None when the name is not ignored."""
    for pattern, what in _IGNORED:
        if pattern.fullmatch(name):
            return what
    return None


def _entries(directory: Path, shown: Path) -> list[Path]:
    if not directory.is_dir():
        raise InputError(shown, f"missing {shown.as_posix()}/ directory", f"create {shown.as_posix()}/")
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise InputError(shown, f"cannot read the directory: {exc.strerror or exc}") from None
    for path in entries:
        # A name is shown in messages and summaries and becomes part of output names (an approved
        # answer's file): a line break or control character in it would split or garble them.
        odd = next((char for char in path.name if not char.isprintable()), None)
        if odd is not None:
            raise InputError(
                shown / printable_name(path.name),
                f"unexpected entry in {shown.as_posix()}/: its name holds U+{ord(odd):04X}, "
                "a control or other unprintable character",
                "rename it with printable characters only (letters, digits, '-', '_', '.')",
            )
    return entries


def printable_name(name: str) -> str:
    r"""``name`` with each unprintable character written as a Python escape, as messages show it.

    >>> printable_name("cq-01-x\nb.rq")
    'cq-01-x\\nb.rq'
    >>> printable_name("caf\u00e9\u2028")
    'café\\u2028'
    """
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in name)


def corpus_files(directory: Path, suffixes: tuple[str, ...], shown: Path) -> list[Path]:
    """The files of a corpus directory whose names end in one of ``suffixes``, sorted by name.

    ``README.md`` and the names in :data:`IGNORED_NAMES` are skipped; any other hidden entry, or
    entry that is not a regular file (symbolic links included) with one of the suffixes, is an error.
    """
    wanted = " or ".join(f"*{suffix}" for suffix in suffixes)
    files = []
    for path in corpus_entries(directory, shown):
        if path.is_symlink() or not path.is_file() or not path.name.endswith(suffixes):
            raise InputError(
                shown / path.name,
                f"unexpected entry in {shown.as_posix()}/: only regular {wanted} files are read",
                f"move it out of {shown.as_posix()}/ or rename it to {wanted}",
            )
        files.append(path)
    return files


def corpus_file(directory: Path, name: str, shown: Path) -> Path:
    """The one file a corpus directory holds (``ontology/carnk.ttl``), refusing any other entry.

    ``README.md`` and the names in :data:`IGNORED_NAMES` are skipped as in :func:`corpus_files`.
    The file itself may be missing (or not a regular file): the reader of the file reports that.
    """
    for path in corpus_entries(directory, shown):
        if path.name != name:
            raise InputError(
                shown / path.name,
                f"unexpected entry in {shown.as_posix()}/: only {name} is read",
                f"move it out of {shown.as_posix()}/; the corpus has one {name}",
            )
    return directory / name


def corpus_entries(directory: Path, shown: Path) -> list[Path]:
    """The entries of a corpus directory that are meant to be read: not README.md, not a known leftover.

    Any other hidden entry is an error; what the entries may be is the caller's to check.
    """
    found = []
    for path in _entries(directory, shown):
        if path.name == README or ignored_reason(path.name):
            continue
        if path.name.startswith("."):
            # Hidden but not a known leftover: the curator may expect it read, or expect it not to be.
            raise InputError(
                shown / path.name,
                f"unexpected entry in {shown.as_posix()}/: a hidden file, neither read nor a known editor file",
                "rename it without the leading '.' to have it read, or move it out of the corpus",
            )
        found.append(path)
    return found


def ignored_entries(directory: Path, shown: Path) -> list[tuple[Path, str]]:
    """The ignored entries of a corpus directory (as ``shown``/name) with what each is."""
    if not directory.is_dir():
        return []
    found = []
    for path in _entries(directory, shown):
        what = ignored_reason(path.name)
        if what:
            found.append((shown / path.name, what))
    return found


def ignored_in(root: Path, names: Iterable[str]) -> list[str]:
    """The leftovers ignored in these directories of ``root``, as a summary names them: ``path (what it is)``."""
    return [
        f"{shown.as_posix()} ({what})" for name in names for shown, what in ignored_entries(root / name, Path(name))
    ]


def ignored_lines(ignored: list[str]) -> list[str]:
    """The summary's lines naming the files a command ignored (a curator may have meant one)."""
    return [f"ignored:    {entry}" for entry in ignored]


def read_input(path: Path, shown: Path) -> bytes:
    """A regular file's bytes (a symbolic link is followed); anything else is an error naming ``shown``.

    Every corpus file a build, ``check`` or ``cq`` reads comes through here. A named pipe or a
    device would block forever or never end (``/dev/zero``), so the kind is checked before the
    file is opened, and again on the open descriptor (opened without blocking), in case the
    entry was replaced in between.
    """
    try:
        _require_regular(os.stat(path).st_mode, shown)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _unreadable(shown, exc) from None
    with os.fdopen(fd, "rb") as handle:
        _require_regular(os.fstat(fd).st_mode, shown)
        try:
            return handle.read()
        except OSError as exc:
            raise _unreadable(shown, exc) from None


def read_input_text(path: Path, shown: Path, *, line_breaks: Literal["any", "lf"] = "any") -> str:
    """A regular file's text (:func:`read_input`); bytes that are not UTF-8 are an error at their line.

    Line breaks are read as ``open()`` reads them in text mode (CRLF and a lone CR become LF), so
    lines are counted as they always were, and as an editor counts them; with ``line_breaks="lf"``
    only CRLF becomes LF, and a lone CR stays for a format where it is not a line break.
    """
    data = read_input(path, shown)
    try:
        text = data.decode("utf-8").replace("\r\n", "\n")
        return text.replace("\r", "\n") if line_breaks == "any" else text
    except UnicodeDecodeError as exc:
        raise not_utf8(data, exc, shown) from None


def not_utf8(data: bytes, exc: UnicodeDecodeError, shown: Path, what: str = "file") -> InputError:
    """The error for bytes that are not UTF-8: the first bad byte, at its line and column as an editor shows them.

    >>> bad = UnicodeDecodeError("utf-8", b"", 11, 12, "invalid continuation byte")
    >>> print(not_utf8(b"a: 1\\nb: caf\\xe9\\n", bad, Path("f.yaml")).render())
    f.yaml:2:7: error: file is not valid UTF-8: byte 0xE9 at line 2, column 7
      hint: convert the file to UTF-8, for example with iconv -f latin1 -t utf-8
    """
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
    return InputError(
        Location(shown, line, column),
        f"{what} is not valid UTF-8: byte 0x{data[exc.start]:02X} at line {line}, column {column}",
        "convert the file to UTF-8, for example with iconv -f latin1 -t utf-8",
    )


def _require_regular(mode: int, shown: Path) -> None:
    if stat.S_ISREG(mode):
        return
    what = "a directory" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
    raise InputError(shown, f"cannot read the file: it is {what}, not a regular file", "replace it with a regular file")


def _unreadable(shown: Path, exc: OSError) -> InputError:
    return InputError(shown, f"cannot read the file: {exc.strerror or exc}", "check that it exists and is readable")


def replace_file(target: Path, data: bytes) -> None:
    """Replace ``target`` (a file the user owns) with ``data`` atomically: a reader sees the old file or the new one.

    A temporary file beside it is written, fsynced and renamed over it, keeping the old file's
    permissions (a new file gets the umask's); the temporary file never outlives a failure.
    """
    replace_file_with(target, lambda handle: handle.write(data))


def replace_file_with(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """:func:`replace_file` for content that ``write`` streams into the temporary file (an exception discards it)."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def create_file(target: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``target`` atomically; FileExistsError if it exists (even if it just appeared).

    A temporary file beside it is written, fsynced and hard-linked to ``target`` (a link never
    replaces a file), with the permissions the umask gives a new file.
    """
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(name, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _umask() -> int:
    """The process's umask (read by setting it, the only way; the command runs one thread by now)."""
    current = os.umask(0)
    os.umask(current)
    return current
