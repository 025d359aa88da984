"""How a command ends when it is asked to stop (Ctrl-C, SIGTERM, SIGHUP): exit codes and the release switch.

A stop signal ends a command as a failure would, so every ``finally`` runs (the build's
lock, cache and staging are removed, worker pools shut down, a query's child killed), and
the process exits with 128 + the signal's number, after one line on stderr. Once a build
has switched its new release in, the build has succeeded: a stop signal from then on ends
it with exit 0, saying that the new release is in place, since the exit code must tell
which release the folder holds.

Only the command line installs the handler (:func:`install`), before its heavy imports;
this module imports nothing of the package, so that it can. Library code only marks the
switch (:func:`switching`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: The signals that stop a command; Ctrl-C among them, so that it is reported as they are, not as
#: click's "Aborted!" (exit 1, the code of a failed quality gate) or a KeyboardInterrupt traceback.
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _State:
    """What the handler needs to know: whose process this is, and where the release switch stands."""

    owner = 0
    switching = False  # the switch is in progress: whether it happened is known only when it returns
    pending: int | None = None  # a signal that arrived while switching
    published: Path | None = None  # the new release is in place: the command has succeeded
    stopped: int | None = None  # the signal that stopped the command, once the handler has acted on it
    unraisable: Callable[[Any], object] = sys.unraisablehook  # the hook for other errors in finalisers


def _stop(number: int, frame: object) -> None:
    if _State.switching:
        _State.pending = number  # acted on as soon as it is known which release the folder holds
        return
    for each in STOPPING_SIGNALS:  # a second signal must not cut the clean-up short (SIGKILL still does)
        signal.signal(each, signal.SIG_IGN)
    if os.getpid() == _State.owner:  # forked workers inherit the handler; the command says it once
        name = "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
        if _State.published is not None:
            sys.stderr.write(f"{name}; the new release is complete in {_State.published}\n")
        else:
            sys.stderr.write(f"{name}\n")
        sys.stderr.flush()
    _State.stopped = number
    raise SystemExit(_exit_code(number))


def _exit_code(number: int) -> int:
    return 0 if _State.published is not None else 128 + number


def checkpoint() -> None:
    """End the command now if a stop signal's exit was lost on the way.

    Python runs a handler between bytecodes, wherever the main thread is; when that is a
    finaliser (``__del__``, a weakref callback), the interpreter prints the handler's
    ``SystemExit`` as "Exception ignored" and carries on. The command would then finish
    and publish although the user stopped it; the release switch and the end of every
    command call this, so a lost stop still ends the command with its exit code.
    """
    if _State.stopped is not None and os.getpid() == _State.owner:
        raise SystemExit(_exit_code(_State.stopped))


def install() -> dict[int, object]:
    """Handle the stop signals in this (main) thread from now on; the handlers replaced, for :func:`restore`."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        return {}
    _State.owner = os.getpid()
    _State.switching = False
    _State.pending = None
    _State.published = None
    _State.stopped = None
    if sys.unraisablehook is not _unraisable:
        _State.unraisable = sys.unraisablehook
        sys.unraisablehook = _unraisable
    return {number: signal.signal(number, _stop) for number in STOPPING_SIGNALS}


def _unraisable(unraisable: Any) -> None:
    # The stop already said its one line; the exit lost in a finaliser is taken up by checkpoint().
    if isinstance(unraisable.exc_value, SystemExit) and _State.stopped is not None:
        return
    _State.unraisable(unraisable)


def restore(previous: dict[int, object]) -> None:
    """Put back the handlers :func:`install` replaced; the command is over, so is its stop."""
    for number, handler in previous.items():
        signal.signal(number, handler)  # type: ignore[arg-type]
    if previous:
        _State.stopped = None
        _State.published = None
        if sys.unraisablehook is _unraisable:
            sys.unraisablehook = _State.unraisable


def ignore() -> None:
    """Ignore the stop signals from now on: for a process whose command has ended, its exit code decided.

    The interpreter resets Python handlers to the default action before it tears down (freeing
    a large graph takes a while), so a signal then would kill the process and replace that code
    with 128 + N, although a build may have published its release; an ignored signal stays
    ignored. SIGKILL still ends a teardown that hangs.
    """
    if threading.current_thread() is threading.main_thread():
        for number in STOPPING_SIGNALS:
            signal.signal(number, signal.SIG_IGN)


@contextlib.contextmanager
def switching(release: Path) -> Iterator[None]:
    """Around the call that puts a new ``release`` in place: from its return on, the build has succeeded.

    A stop signal arriving during the call waits for it, then ends the command as a
    success if the call returned, as a failure if it raised.
    """
    checkpoint()
    _State.switching = True
    try:
        yield
    except BaseException:
        _State.switching = False
        _act_on_pending()
        raise
    _State.published = release
    _State.switching = False
    _act_on_pending()


def _act_on_pending() -> None:
    number, _State.pending = _State.pending, None
    if number is not None:
        _stop(number, None)


__all__ = ["STOPPING_SIGNALS", "checkpoint", "ignore", "install", "restore", "switching"]
