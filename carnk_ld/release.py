"""Switch a release into place atomically, one build at a time.

:func:`publish_release` writes all files into a staging directory next to the release,
fsyncs them, writes ``SHA256SUMS`` last, and only then swaps the directory in, so a failed
or interrupted build leaves the previous release as it was. :func:`release_lock` keeps two
builds from writing the same release.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from carnk_ld.errors import InputError
from carnk_ld.progress import Progress

RELEASE_MARKER = "SHA256SUMS"


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

    The lock is an ``flock`` on ``.<out>.lock`` next to the release, so it dies with the
    process that holds it: a killed build never leaves a stale lock behind.
    """
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f".{out.name}.lock"
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise BuildLocked(
                out, f"another build is writing this release ({holder})", f"wait for it, or remove {path} if it is gone"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def publish_release(
    files: dict[str, Callable[[], bytes | list[bytes]]],
    out: Path,
    progress: Progress | None = None,
    checkpoint: Callable[[str], None] = lambda name: None,
) -> None:
    """Write ``files`` to ``out`` atomically; refuse to replace a directory that is not a release.

    Call with :func:`release_lock` held. Every file is written and fsynced into a staging
    directory next to ``out``, ``SHA256SUMS`` last; then the staging directory and ``out``
    are exchanged in one ``renameat2(RENAME_EXCHANGE)`` call, so at every instant ``out``
    is either the complete old release or the complete new one. ``checkpoint`` is called
    with ``staging-written``, ``before-swap`` and ``after-swap`` (robustness tests inject
    faults there).
    """
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / RELEASE_MARKER).is_file())):
        raise InputError(
            out,
            "the output exists and is not a carnk-ld release (no SHA256SUMS); refusing to replace it",
            "choose an empty or new directory with --out",
        )
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(parent, out.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=parent))
    try:
        digests = {}
        progress = progress or Progress()
        for index, name in enumerate(sorted(files)):
            with progress.stage(f"write {name}") as counts:
                data = files[name]()
                digests[name] = _write_synced(staging / name, data)
                counts["bytes"] = len(data) if isinstance(data, bytes) else sum(len(chunk) for chunk in data)
                del data
            if index == 0:
                checkpoint("staging-written")
        sums = "".join(f"{digests[n]}  {n}\n" for n in sorted(files))
        _write_synced(staging / RELEASE_MARKER, sums.encode("ascii"))
        os.chmod(staging, 0o755)
        _fsync_dir(staging)
        checkpoint("before-swap")
        if out.exists():
            _exchange(staging, out.absolute(), parent)
        else:
            os.rename(staging, out)
        _fsync_dir(parent)
        checkpoint("after-swap")
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after an exchange it holds the old release


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
    olds = sorted(parent.glob(f".{name}.old-*"))
    if olds and not (parent / name).exists():
        os.rename(olds[0], parent / name)
    for stale in [*parent.glob(f".{name}.staging-*"), *parent.glob(f".{name}.old-*")]:
        with contextlib.suppress(OSError):
            shutil.rmtree(stale)


__all__ = ["RELEASE_MARKER", "BuildLocked", "publish_release", "release_lock"]
