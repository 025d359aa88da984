"""Recognise a release, refuse any other output folder, and switch a new release in atomically.

A release folder identifies itself by two files (format 1):

- ``RELEASE.json``, exactly ``{"format": 1, "tool": "carnk-ld"}`` and a line break (no
  timestamp or version, so rebuilds stay byte-identical), and
- ``SHA256SUMS``, written last: one line ``<64 lowercase hex digits><two spaces><name>``
  for every other file of the folder, ``RELEASE.json`` included, sorted by name.

A folder is a previous release, which a build may replace, only when the marker is valid
and the folder holds exactly the files ``SHA256SUMS`` lists (plus ``SHA256SUMS``), each
with its listed digest: a file a user added or changed inside it is named and the build
refused, so nothing the user wrote is ever deleted. :func:`release_target` applies these
rules (and refuses ``/``, files, devices and folders holding the corpus) before any work
starts; :func:`publish_release` applies them again just before the swap.

:func:`publish_release` writes all files into a staging directory next to the release,
fsyncs them, writes ``SHA256SUMS`` last, and only then swaps the directory in, so a failed
or interrupted build leaves the previous release as it was. :func:`release_lock` keeps two
builds from writing the same release.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil
import signal
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from carnk_ld.corpusfiles import read_input
from carnk_ld.errors import InputError, Location
from carnk_ld.progress import Progress
from carnk_ld.stopping import STOPPING_SIGNALS, switching

#: The file that says "this folder is a carnk-ld release", and the format it is written in.
RELEASE_MARKER = "RELEASE.json"
RELEASE_FORMAT = 1
RELEASE_TOOL = "carnk-ld"
#: The checksum list: every other file of the release, the marker included.
CHECKSUMS = "SHA256SUMS"

#: A line of ``SHA256SUMS``: a digest, two spaces and a file's path in the release folder: a plain
#: file name, or names joined by ``/`` for the files of its folders (``site/ontology.html``).
_CHECKSUM_LINE_RE = re.compile(r"([0-9a-f]{64})  (.*)")
_FILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._~-]*)*")
_REPLACE_HINT = "move it away, or choose a new or empty folder with --out"


def marker_bytes() -> bytes:
    """The content of ``RELEASE.json``: the same bytes in every release of this format."""
    return (json.dumps({"format": RELEASE_FORMAT, "tool": RELEASE_TOOL}, sort_keys=True) + "\n").encode("ascii")


def resolve_out(out: Path) -> Path:
    """``out`` as an absolute path with every symlink followed: a symlinked release is its target.

    A build writes the target and leaves the symlink as it is (never replaced by a folder).
    """
    try:
        return out.resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise InputError(out, f"cannot follow the path: {exc}", "point --out at a folder") from None


def read_checksums(release: Path) -> dict[str, str]:
    """The digests ``SHA256SUMS`` lists, by file name; any malformed line is an error at its line."""
    path = release / CHECKSUMS
    if not os.path.lexists(path):
        raise InputError(release, f"not a carnk-ld release: there is no {CHECKSUMS}", "run `carnk-ld build`")
    if not _is_regular(path):  # a named pipe would be read forever; a build never writes a symlink
        raise InputError(path, "not a regular file: a release's checksum list always is", "rebuild the release")
    data = read_input(path, path)
    lines = data.split(b"\n")
    digests: dict[str, str] = {}
    for number, raw in enumerate(lines if lines[-1] else lines[:-1], start=1):
        where = Location(path, number, 1)
        try:
            line = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            where = Location(path, number, exc.start + 1)
            raise InputError(where, "not ASCII: a release's checksum list never is", "rebuild the release") from None
        match = _CHECKSUM_LINE_RE.fullmatch(line)
        if match is None:
            raise InputError(
                where,
                f"not a checksum line (64 lowercase hex digits, two spaces, a file name): {line[:80]!r}",
                "rebuild the release",
            )
        digest, name = match.groups()
        if not _FILE_NAME_RE.fullmatch(name) or name == CHECKSUMS:
            raise InputError(
                Location(path, number, 67),
                f"{name[:80]!r} is not the name of a file in the release folder",
                "rebuild the release",
            )
        if name in digests:
            raise InputError(Location(path, number, 67), f"{name} is listed twice", "rebuild the release")
        digests[name] = digest
    if lines[-1]:
        where = Location(path, len(lines), len(lines[-1]) + 1)
        raise InputError(where, "the last line has no line break", "rebuild the release")
    return digests


#: What identifies one state of a file: device, inode, size, and modification and change
#: times in nanoseconds (writing a file, or setting its times, moves its change time).
FileState = tuple[int, int, int, int, int]


def file_state(path: Path) -> FileState:
    """:data:`FileState` of ``path`` (symlinks not followed)."""
    return _state_of(path.lstat())


def _state_of(info: os.stat_result) -> FileState:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def check_release(
    release: Path, *, verify: bool = True, verified: dict[str, FileState] | None = None
) -> dict[str, str]:
    """Check that ``release`` is a carnk-ld release as the module docstring defines it; its digests.

    ``verify`` also hashes every file against ``SHA256SUMS``. ``verified`` remembers the
    state of each file found intact, and a file still in the state remembered is not hashed
    again (a build checks its release when it starts and again before replacing it). Every
    problem is an :class:`InputError` naming the file (and line) at fault.
    """
    marker = release / RELEASE_MARKER
    if not _is_regular(marker):
        raise InputError(
            release,
            f"not a carnk-ld release: there is no {RELEASE_MARKER}",
            "build it with `carnk-ld build` (a release written before format 1 has no marker: build it again)",
        )
    _check_marker(marker)
    digests = read_checksums(release)
    if RELEASE_MARKER not in digests:
        raise InputError(release / CHECKSUMS, f"{RELEASE_MARKER} is not listed", "rebuild the release")
    present = set(_files_in(release)) - {CHECKSUMS}
    for name in sorted(present - set(digests)):
        raise InputError(
            release / name,
            f"not part of the release (not listed in {CHECKSUMS}), a file of yours?",
            "move it out of the release folder",
        )
    for name in sorted(digests):
        path = release / name
        try:
            info = path.lstat()  # once: a release of a large corpus has a site of many files
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            raise InputError(path, f"listed in {CHECKSUMS} but missing or not a regular file", "rebuild the release")
        if not verify:
            continue
        key = f"{path}\n{digests[name]}"
        state = _state_of(info)
        if verified is not None and verified.get(key) == state:
            continue
        if sha256_file(path) != digests[name]:
            raise InputError(
                path,
                f"does not match {CHECKSUMS}: changed since it was built",
                "rebuild the release (copy any changes of yours elsewhere first)",
            )
        if verified is not None and file_state(path) == state:  # not changed while it was read
            verified[key] = state
    return digests


#: How much of a marker is read: the format 1 marker and more than any marker a later format
#: would need. A longer file is not a marker, and is never read whole or parsed.
_MARKER_LIMIT = 1024


def _check_marker(marker: Path) -> None:
    """Accept exactly the bytes of :func:`marker_bytes`: anything else is not a marker of this format.

    The bytes are compared, not the parsed JSON, so a marker that merely means the same
    (``1e0``, a BOM, other spacing) is refused, as the README promises the same bytes in
    every release. A short marker is parsed only to name another format of this tool.
    """
    try:
        with open(marker, "rb") as handle:
            data = handle.read(_MARKER_LIMIT + 1)
    except OSError as exc:
        raise InputError(marker, f"cannot read the release marker: {exc.strerror}") from None
    if data == marker_bytes():
        return
    version = _other_format(data)
    if version is not None:
        raise InputError(
            marker,
            f"release format {version}; this version of carnk-ld reads and replaces format {RELEASE_FORMAT} only",
            "build the release again with this version",
        )
    expected = marker_bytes().decode().strip()
    raise InputError(marker, f"not a carnk-ld release marker (expected {expected})", "build the release again")


def _other_format(data: bytes) -> int | None:
    """The format number of a well-formed marker of this tool in another format, else None."""
    if len(data) > _MARKER_LIMIT:
        return None
    try:
        content = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays, even within the limit
        return None
    if not isinstance(content, dict) or set(content) != {"format", "tool"} or content["tool"] != RELEASE_TOOL:
        return None
    version = content["format"]
    # bool is an int in Python, and 1.0 == 1: only a plain integer names a format
    if type(version) is not int or version == RELEASE_FORMAT:
        return None
    return version


def _files_in(release: Path) -> Iterator[str]:
    """Every entry of the release, as ``SHA256SUMS`` names it: folders (the site) are walked, not listed.

    A symlink to a folder is an entry, not walked: a build never writes one.
    """
    todo = [""]
    while todo:
        prefix = todo.pop()
        with os.scandir(release / prefix if prefix else release) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    todo.append(name + "/")
                else:
                    yield name


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_KEPT_BESIDE = re.compile(r"\.(.+)\.(?:lock|cache|store|staging-.*|old-.*)")


def release_area(path: Path) -> str | None:
    """Where ``path`` (resolved) lies if in a carnk-ld release or in the folders one keeps beside it; else None.

    A folder inside a release is one whose ancestor holds ``RELEASE.json``; beside a release
    ``NAME`` are its lock, staging, cache and query store, ``.NAME.SUFFIX``.
    """
    for folder in path.parents:
        if (folder / RELEASE_MARKER).is_file():
            return f"inside the carnk-ld release {folder}"
    for folder in (path, *path.parents):
        kept = _KEPT_BESIDE.fullmatch(folder.name)
        if kept and (folder.parent / kept.group(1) / RELEASE_MARKER).is_file():
            return f"inside {folder}, which the release {folder.parent / kept.group(1)} keeps beside it"
    return None


def release_target(
    out: Path,
    *,
    corpus: Path | None = None,
    inputs: Iterable[Path] = (),
    verified: dict[str, FileState] | None = None,
) -> Path:
    """The folder a build may write for ``--out`` (symlinks followed), or an :class:`InputError` saying why not.

    Refused: the file system root; ``corpus`` or a folder holding it; a folder inside a
    release (an ancestor holding ``RELEASE.json``); one of ``inputs``, a folder holding one,
    or a folder inside one; anything that is not a folder; a non-empty folder that is not a
    release (:func:`check_release`, given ``verified``). Creates nothing.
    """
    target = resolve_out(out)
    shown = out if Path(os.path.abspath(out)) == target else Path(f"{out} (-> {target})")  # a symlink followed
    if target.parent == target:
        raise InputError(shown, "the file system root cannot be a release folder", "choose a new folder with --out")
    if corpus is not None:
        root = resolve_out(corpus)
        if target == root or root.is_relative_to(target):
            message = f"this folder holds the corpus {corpus}; a build would replace it"
            raise InputError(shown, message, "choose a new folder with --out")
    # A release lists every file it holds: a folder written inside one (with the lock and cache
    # kept beside it), or inside what one keeps beside it, would alter that release or its cache.
    area = release_area(target)
    if area:
        raise InputError(
            shown,
            f"{area}; a build would alter that release",
            "choose a folder outside any release with --out (and outside the folders kept beside one)",
        )
    for folder in inputs:
        source = resolve_out(folder)
        if target == source or source.is_relative_to(target) or target.is_relative_to(source):
            raise InputError(
                shown,
                f"the release folder would overlap the corpus input {folder}",
                "choose a folder outside the corpus inputs with --out (the default is build/ under the root)",
            )
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise InputError(shown, f"cannot inspect the release folder: {exc.strerror}") from None
    if not stat.S_ISDIR(mode):
        what = "a file" if stat.S_ISREG(mode) else "not a folder (a device, socket or pipe)"
        raise InputError(shown, f"the output is {what}; refusing to replace it", _REPLACE_HINT)
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        raise InputError(shown, f"cannot read the release folder: {exc.strerror}") from None
    if not empty:
        try:
            check_release(target, verified=verified)
        except InputError as exc:
            raise InputError(exc.location, f"refusing to replace {shown}: {exc.message}", _REPLACE_HINT) from None
    return target


def _write_synced(path: Path, data: bytes | list[bytes]) -> str:
    """Write, fsync and return the SHA-256 of the bytes, or of the chunks in order (never joined in memory)."""
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for chunk in [data] if isinstance(data, bytes) else data:
            handle.write(chunk)
            digest.update(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BuildLocked(InputError):
    """Another build holds the lock on the same output directory."""


@contextlib.contextmanager
def release_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` for a whole build; a second build fails fast, naming the holder.

    The lock is an ``flock`` on ``.<out>.lock`` next to the release (symlinks followed), so
    it dies with the process that holds it. The holder removes the file when it is done,
    and so do the folders above the release that did not exist and are still empty: a
    failed build leaves the release's parent as it found it.
    """
    target = resolve_out(out)
    created = _make_parents(target.parent)
    path = target.parent / f".{target.name}.lock"
    try:
        # A stop signal's handler raises wherever the code is; between creating the lock file and
        # entering the block that removes it there would be no one to remove it. The stop signals
        # wait (blocked, not lost) until that block is entered, then act inside it. (A mask is per
        # thread: a build takes its lock before it starts any thread.)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING_SIGNALS)
        try:
            fd = _acquire(path, out)
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode())
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)  # while still locked, so no other build holds a lock on this file
            os.close(fd)
    finally:
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # fails, as it should, once it holds the release


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing ancestors; those created, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
    return missing


def _acquire(path: Path, out: Path) -> int:
    """An open, exclusively locked descriptor of the lock file at ``path`` (emptied for the holder's line)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "unknown process"
                raise BuildLocked(
                    out,
                    f"another build is writing this release ({holder})",
                    f"wait for it, or remove {path} if it is gone",
                ) from None
            # The holder before us may have unlinked the file after we opened it: lock the file the path names.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                return fd
        except BuildLocked:
            os.close(fd)
            raise
        except BaseException:
            # Stopped (a signal) between creating the lock file and holding it: the caller never
            # gets the descriptor to clean up, so remove the file here if no other build holds it.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    os.unlink(path)
            os.close(fd)
            raise
        os.close(fd)


@dataclass(frozen=True)
class AfterOthers:
    """A release file rendered after every other (but ``SHA256SUMS``), from their sizes and digests.

    ``render`` is given ``name -> (size in bytes, SHA-256 hex digest)`` of each file written
    before it (``RELEASE.json`` included).
    """

    render: Callable[[dict[str, tuple[int, str]]], bytes]


@dataclasses.dataclass(frozen=True)
class Tree:
    """A folder of the release: ``entries`` gives each of its files (:class:`TreeFile`), one at a time.

    Its files are listed in ``SHA256SUMS`` as ``FOLDER/PATH``. A folder of many small files
    (the site) is synced once, with the file system, not one fsync per file.
    """

    entries: Callable[[], Iterable[TreeFile]]


@dataclass(frozen=True)
class TreeFile:
    """A file of a :class:`Tree`: its path inside the folder, its SHA-256 (hex) and its bytes.

    ``data`` is None for a file the release being replaced holds, intact, under the same name
    and digest: the writer takes that one.
    """

    path: str
    digest: str
    data: bytes | None


#: A file of the release being replaced that was found intact: its digest and its state then.
Reusable = dict[str, tuple[str, FileState]]


def _write_tree(
    folder: Path, name: str, tree: Tree, digests: dict[str, str], previous: Path, reusable: Reusable
) -> int:
    """Write a :class:`Tree` under ``folder / name``; its digests go in ``digests``; the bytes written.

    A file the release being replaced (``previous``) holds intact with the same digest is
    hard-linked from it instead of written: a rebuild after a small edit then writes only
    the files that changed (the old release is removed after the switch; the new one keeps
    the inode). Where the file system cannot link, its bytes are copied.
    """
    made: set[str] = set()
    size = 0
    for entry in tree.entries():
        key = f"{name}/{entry.path}"
        if not _FILE_NAME_RE.fullmatch(key) or key in digests:
            raise ValueError(f"not a new file name inside a release: {key!r}")
        parent = posixpath.dirname(key)
        if parent not in made:
            (folder / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        data = entry.data
        old = reusable.get(key)
        if old is not None and old[0] == entry.digest:
            linked = _link_intact(previous / key, folder / key, old)
            if linked is not None:
                digests[key] = entry.digest
                size += linked
                continue
        if data is None:
            data = _read_intact(previous / key, entry.digest, old)
        with open(folder / key, "wb") as handle:
            handle.write(data)
        digests[key] = entry.digest
        size += len(data)
    (folder / name).mkdir(exist_ok=True)
    _sync_tree(folder / name, sorted(made))
    return size


def _link_intact(source: Path, target: Path, old: tuple[str, FileState]) -> int | None:
    """Hard-link ``source`` to ``target`` if it is still as found intact; its size, else None."""
    try:
        if file_state(source) != old[1]:
            return None
        os.link(source, target)
    except OSError:
        return None
    return old[1][2]


def _read_intact(source: Path, expected: str, old: tuple[str, FileState] | None) -> bytes:
    """The bytes of a file of the release being replaced, which must still have the digest it was found with."""
    try:
        data = source.read_bytes() if old is not None else None
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != expected:
        raise InputError(source, "the release changed while the build ran", "build again")
    return data


def _sync_tree(top: Path, folders: list[str]) -> None:
    """Make a folder's files durable: ``syncfs`` of its file system (Linux), else every file and folder fsynced."""
    fd = os.open(top, os.O_RDONLY)
    try:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syncfs(fd) == 0:
                return
        except (OSError, AttributeError):
            pass
    finally:
        os.close(fd)
    for path in sorted(top.rglob("*")):  # pragma: no cover - systems without syncfs
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for folder in folders:  # pragma: no cover
        _fsync_dir(top.parent / folder)


def publish_release(
    files: dict[str, Callable[[], bytes | list[bytes]] | AfterOthers | Tree],
    out: Path,
    progress: Progress | None = None,
    checkpoint: Callable[[str], None] = lambda name: None,
    verified: dict[str, FileState] | None = None,
) -> None:
    """Write ``files`` and the marker to ``out`` atomically; refuse to replace a folder that is not a release.

    Call with :func:`release_lock` held. ``out`` is checked again by :func:`release_target`
    (a folder may have changed while the build ran). Every file is written and fsynced
    into a staging directory next to ``out``, ``SHA256SUMS`` last; then the staging
    directory and ``out`` are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, so at
    every instant ``out`` is either the complete old release or the complete new one.
    ``checkpoint`` is called with ``staging-written``, ``before-swap`` and ``after-swap``
    (robustness tests inject faults there); ``verified`` is what checking ``out`` when the
    build started found intact (see :func:`check_release`).
    """
    target = resolve_out(out)
    parent = target.parent
    _remove_stale(parent, target.name)  # first: it may restore the release a killed build swapped out
    verified = {} if verified is None else verified
    release_target(target, verified=verified)
    files = {**files, RELEASE_MARKER: marker_bytes}
    reusable = _reusable(target, verified)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=parent))
    try:
        digests: dict[str, str] = {}
        written: dict[str, tuple[int, str]] = {}
        progress = progress or Progress()
        later = sorted(name for name, render in files.items() if isinstance(render, AfterOthers))
        first = sorted(name for name in files if name not in later)
        for index, name in enumerate(first + later):
            with progress.stage(f"write {name}") as counts:
                render = files[name]
                if isinstance(render, Tree):
                    counts["bytes"] = _write_tree(staging, name, render, digests, target, reusable)
                else:
                    data = render.render(dict(written)) if isinstance(render, AfterOthers) else render()
                    digests[name] = _write_synced(staging / name, data)
                    size = len(data) if isinstance(data, bytes) else sum(len(chunk) for chunk in data)
                    counts["bytes"] = size
                    written[name] = (size, digests[name])
                    del data
            if index == 0:
                checkpoint("staging-written")
        sums = "".join(f"{digests[n]}  {n}\n" for n in sorted(digests))
        _write_synced(staging / CHECKSUMS, sums.encode("ascii"))
        os.chmod(staging, 0o755)
        _fsync_dir(staging)
        checkpoint("before-swap")
        with switching(target):
            if target.exists():
                _exchange(staging, target, parent)
            else:
                os.rename(staging, target)
        _fsync_dir(parent)
        checkpoint("after-swap")
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after an exchange it holds the old release


def _reusable(release: Path, verified: dict[str, FileState]) -> Reusable:
    """The files of the release at ``release`` found intact (in ``verified``): digest and state."""
    prefix = f"{release}/"
    found: Reusable = {}
    for key, state in verified.items():  # check_release's keys: path, a line break, digest
        path, _, sha = key.rpartition("\n")
        if path.startswith(prefix):
            found[path[len(prefix) :]] = (sha, state)
    return found


def reusable_digests(release: Path, verified: dict[str, FileState]) -> dict[str, str]:
    """The digests of the files of ``release`` found intact, by name: what a build may take from it."""
    return {name: sha for name, (sha, _) in _reusable(release, verified).items()}


def _exchange(staging: Path, out: Path, parent: Path) -> None:
    """Swap two directories atomically (Linux renameat2); fall back to two renames elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(staging), _AT_FDCWD, os.fsencode(out), _RENAME_EXCHANGE)
        if result == 0:
            return
        error = ctypes.get_errno()
        if error not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise OSError(error, os.strerror(error), str(out))
    # Fallback: a short window without ``out``; _remove_stale restores it if we die in it.
    old = parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    os.rename(staging, out)
    os.rename(old, staging)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _remove_stale(parent: Path, name: str) -> None:
    """Clean up after builds that were killed: restore a release caught mid-swap, drop the rest."""
    def entries(prefix: str) -> list[Path]:  # not a glob: the release's name may hold [ or *
        return sorted(path for path in parent.iterdir() if path.name.startswith(prefix))

    olds = entries(f".{name}.old-")
    if olds and not (parent / name).exists():
        os.rename(olds[0], parent / name)
    for stale in [*entries(f".{name}.staging-"), *entries(f".{name}.old-")]:
        with contextlib.suppress(OSError):
            shutil.rmtree(stale)


__all__ = [
    "CHECKSUMS",
    "RELEASE_FORMAT",
    "RELEASE_MARKER",
    "RELEASE_TOOL",
    "AfterOthers",
    "BuildLocked",
    "FileState",
    "Tree",
    "TreeFile",
    "check_release",
    "file_state",
    "marker_bytes",
    "publish_release",
    "read_checksums",
    "release_lock",
    "release_target",
    "resolve_out",
    "reusable_digests",
    "sha256_file",
]
