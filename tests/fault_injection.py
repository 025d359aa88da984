"""Test-only wrapper: ``python -m tests.fault_injection POINT[:SIGNAME|:ENOSPC] carnk-ld-args...``.

Runs the command line with the options' checkpoint hook set to interrupt the build at
``POINT`` (see :func:`carnk_ld.release.publish_release`): killed as ``kill -9`` or a power cut would,
sent a signal (``:SIGINT`` as by Ctrl-C, ``:SIGTERM``), or failing as on a full disk. Production code has no such hook
of its own; it only calls the checkpoint it is given.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import signal
import sys

from carnk_ld import cli


def checkpoint(wanted: str, name: str) -> None:
    """Interrupt the process when the build reaches ``wanted`` (``POINT[:HOW]``)."""
    point, _, how = wanted.partition(":")
    if point != name:
        return
    if how == "ENOSPC":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.kill(os.getpid(), getattr(signal, how) if how.startswith("SIG") else signal.SIGKILL)


def main() -> None:
    wanted, *args = sys.argv[1:]
    options = cli._options

    def with_checkpoint(*given: object) -> object:
        return dataclasses.replace(options(*given), checkpoint=functools.partial(checkpoint, wanted))  # type: ignore

    cli._options = with_checkpoint  # type: ignore[assignment]
    sys.argv = ["carnk-ld", *args]
    cli.main()


if __name__ == "__main__":
    main()
