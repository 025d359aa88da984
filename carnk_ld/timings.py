"""Where ``--timings FILE`` may write, and writing it.

The file is the user's, so it must never cost them another file or break what the build
owns. Before any work starts, :func:`timings_target` refuses (symlinks followed) a path inside
the release folder (a file there is not listed in ``SHA256SUMS``, so the folder is no longer a
release), inside the folders a build keeps beside the release (``.<release>.*``: staging, lock,
cache, query store), inside any carnk-ld release, or inside a corpus input folder, and a file
that exists but is not a timings file: a mistyped path must not replace a document, a script
or a result. :func:`write_timings` writes only after the command succeeded, through a
temporary file in the same folder, so a reader never sees half a file and a failure leaves the
previous timings file as it was.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from carnk_ld.corpusfiles import replace_file
from carnk_ld.errors import InputError
from carnk_ld.release import release_area, resolve_out

#: How much of an existing file is read to recognise it as timings; a larger one is not replaced.
#: A build of a large corpus writes a few hundred stage records, far below this.
_TIMINGS_LIMIT = 16 * 1024 * 1024
_HINT = "choose a path outside the corpus and the release, e.g. --timings timings.json"


def timings_target(path: Path, *, release: Path, inputs: Iterable[Path]) -> Path:
    """The file ``--timings path`` will replace (symlinks followed), or an :class:`InputError` saying why not.

    ``release`` is the folder the command writes or reads its cache beside; ``inputs`` are the
    corpus input folders (:func:`carnk_ld.pipeline.corpus_inputs`). Creates nothing.
    """
    return output_target(
        path,
        option="--timings",
        release=release,
        inputs=inputs,
        replaceable=is_timings_file,
        what="a carnk-ld timings file",
        hint=_HINT,
    )


def output_target(
    path: Path,
    *,
    option: str,
    release: Path,
    inputs: Iterable[Path],
    replaceable: Callable[[Path], bool],
    what: str,
    hint: str,
) -> Path:
    """The file an output option (``--timings``, ``annotate --output``) will replace, or an :class:`InputError`.

    Refused (symlinks followed): a path inside ``release`` or the folders a build keeps beside it,
    inside any carnk-ld release, inside one of the corpus ``inputs``, a folder or special file, and
    an existing file that ``replaceable`` does not recognise as this option's own output
    (``what`` names that in the error). Creates nothing.
    """
    try:
        target = path.resolve()  # a dangling symlink resolves to where it points: that is what would be written
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise InputError(path, f"{option}: cannot follow the path: {exc}", hint) from None
    shown = path if Path(os.path.abspath(path)) == target else Path(f"{path} (-> {target})")
    release = resolve_out(release)
    if target.is_relative_to(release.parent) and target != release.parent:
        first = target.relative_to(release.parent).parts[0]
        if first == release.name:
            raise InputError(
                shown,
                f"{option}: inside the release folder {release}, which holds only the files SHA256SUMS lists",
                hint,
            )
        if first.startswith(f".{release.name}."):
            raise InputError(
                shown,
                f"{option}: inside {release.parent / first}, which the build keeps beside the release {release}",
                hint,
            )
    for folder in inputs:
        source = resolve_out(folder)
        if target == source or target.is_relative_to(source):
            # the folder as the corpus names it (facts/), not the absolute path it was resolved to
            raise InputError(shown, f"{option}: inside the corpus input {folder.name}/, which the build reads", hint)
    area = release_area(target)  # any release's, and its companions', not only this command's
    if area:
        raise InputError(shown, f"{option}: {area}, which holds only its own files", hint)
    if not target.parent.is_dir():
        raise InputError(shown, f"{option}: the folder {target.parent} does not exist", "create it first")
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(shown, f"{option}: cannot inspect the file: {exc.strerror or exc}", hint) from None
    if mode is not None:
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, socket or pipe)"
            raise InputError(shown, f"{option}: the path is {kind}; refusing to replace it", hint)
        if not replaceable(target):
            raise InputError(
                shown,
                f"{option}: the file exists and is not {what}; refusing to replace it",
                "move it away, or choose another path",
            )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise InputError(shown, f"{option}: cannot write in the folder {target.parent}", hint)
    return target


def is_timings_file(path: Path) -> bool:
    """Whether ``path`` is empty (a new temporary file) or holds stage records as :func:`write_timings` writes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_TIMINGS_LIMIT + 1)
    except OSError:
        return False
    if not data:
        return True
    if len(data) > _TIMINGS_LIMIT:
        return False
    try:
        records = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(records, list) and all(_is_stage_record(record) for record in records)


def _is_stage_record(record: object) -> bool:
    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    return (
        isinstance(record, dict)
        and isinstance(record.get("stage"), str)
        and number(record.get("seconds"))
        and number(record.get("peak_rss_mib"))
    )


def write_timings(target: Path, stages: list[dict[str, object]]) -> None:
    """Replace ``target`` with the stage records as JSON, atomically (:func:`carnk_ld.corpusfiles.replace_file`)."""
    replace_file(target, (json.dumps(stages, indent=1) + "\n").encode("utf-8"))
