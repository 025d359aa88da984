"""Run independent per-document tasks through a :class:`concurrent.futures.Executor`.

On one machine the executor is a :class:`~concurrent.futures.ProcessPoolExecutor` whose
workers are forked: the state every task reads (the ontology, the shapes, the parts) is
handed to them by the fork, not pickled, and only the small items and the results cross
process boundaries. With ``--scheduler tcp://HOST:PORT`` the executor is a Dask
distributed client's (``Client.get_executor``): the shared state is scattered to every
worker once and each task is sent with a reference to it. Either way results come back in
the order of the items, so the release does not depend on how the work was spread.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from carnk_ld.errors import InputError
from carnk_ld.netguard import allowed

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: Below this many tasks, starting worker processes costs more than it saves.
PARALLEL_FROM = 16
#: Local worker processes when the user does not say (``--jobs 0``).
DEFAULT_MAX_JOBS = 4
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = 30


class Workers:
    """``map(function, shared, items)``: ``[function(shared, item) for item in items]``, spread out.

    ``function`` must be a module-level function (it is sent by reference); ``shared`` is
    whatever every task reads; ``items`` should be small (ids, indices, file contents).
    """

    def __init__(self, jobs: int = 0, scheduler: str | None = None):
        self.scheduler = scheduler
        self.jobs = jobs if jobs > 0 else min(os.cpu_count() or 1, DEFAULT_MAX_JOBS)
        self._client: Any = None

    def describe(self) -> str:
        """Where tasks run, for the build summary."""
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        return f"{self.jobs} local process{'es' if self.jobs != 1 else ''}"

    def map(self, function: Callable[[S, T], R], shared: S, items: list[T]) -> list[R]:
        """The results of ``function(shared, item)`` for every item, in order."""
        return list(self.imap(function, shared, items))

    def imap(self, function: Callable[[S, T], R], shared: S, items: list[T]) -> Iterator[R]:
        """:meth:`map`'s results one by one, in order, each as soon as it and those before it are done.

        The caller's own work on a result (writing it to the cache) then overlaps the
        workers' work on the next ones instead of following all of it.
        """
        if self.scheduler:
            yield from self._imap_dask(function, shared, items)
            return
        if self.jobs < 2 or len(items) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
            for item in items:
                yield function(shared, item)
            return
        # Forked workers inherit every object of this process; without freezing, their
        # garbage collector walks (and so copies) all of those pages.
        gc.freeze()
        try:
            executor: Executor = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_install,
                initargs=(function, shared),
            )
            before = set(multiprocessing.active_children())
            with executor:
                size = max(1, len(items) // (self.jobs * 8))
                # Chunks are submitted here rather than by executor.map: map's iterator cancels its
                # futures when stopped, and on Python 3.11 the pool's manager thread then fails with a
                # traceback on stderr when it finds the killed workers (it sets an error on a cancelled future).
                futures = [executor.submit(_run_chunk, items[at : at + size]) for at in range(0, len(items), size)]
                try:
                    for future in futures:
                        yield from future.result()
                except BaseException:
                    # Stopped (Ctrl-C, SIGTERM), failed, or the caller gave up on the results: leaving
                    # the block would wait for every chunk already queued to the workers, minutes on a
                    # large corpus; they are of no use now.
                    for process in set(multiprocessing.active_children()) - before:
                        process.kill()
                    raise
        finally:
            gc.unfreeze()

    def _imap_dask(self, function: Callable[[S, T], R], shared: S, items: list[T]) -> Iterator[R]:
        client = self._connect()
        executor: Executor = client.get_executor(pure=False)
        reference = client.scatter(shared, broadcast=True, hash=False, direct=False)
        futures = [executor.submit(function, reference, item) for item in items]
        for future in futures:
            yield future.result()

    def _connect(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client
            except ImportError:
                raise InputError(
                    "--scheduler", "Dask distributed is not installed", "pip install 'carnk-ld[distributed]'"
                ) from None
            host, port = scheduler_address(self.scheduler or "")
            try:  # a refused connection answers at once; Dask's client would retry until its timeout
                socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
            except OSError as exc:
                raise InputError(
                    "--scheduler", f"cannot reach the Dask scheduler at {self.scheduler}: {exc.strerror or exc}"
                ) from None
            try:
                self._client = Client(
                    self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False, direct_to_workers=False
                )
            except (OSError, TimeoutError) as exc:
                raise InputError(
                    "--scheduler", f"cannot reach the Dask scheduler at {self.scheduler}: {exc}"
                ) from None
        return self._client

    def close(self) -> None:
        """Disconnect from the Dask scheduler (local pools end with each map)."""
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def workers(jobs: int = 0, scheduler: str | None = None) -> Iterator[Workers]:
    """Workers for one build, closed at its end; a build that blocks the network may reach its scheduler."""
    with ExitStack() as stack:
        if scheduler:
            stack.enter_context(allowed(*scheduler_address(scheduler)))
        pool = Workers(jobs, scheduler)
        stack.callback(pool.close)
        yield pool


def scheduler_address(address: str) -> tuple[str, int]:
    """Host and port of a ``tcp://HOST:PORT`` scheduler address; anything else is a clear error.

    >>> scheduler_address("tcp://127.0.0.1:8786")
    ('127.0.0.1', 8786)
    """
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise InputError("--scheduler", f"not a Dask scheduler address: {address!r}", "write tcp://HOST:PORT")
    return parts.hostname, port


_INSTALLED: list[Any] = []  # in a forked worker: (function, shared), set once by the pool's initializer


def _install(function: Callable[[Any, Any], Any], shared: Any) -> None:
    _INSTALLED[:] = [function, shared]


def _run_chunk(items: list[Any]) -> list[Any]:
    function, shared = _INSTALLED
    return [function(shared, item) for item in items]


__all__ = ["PARALLEL_FROM", "Workers", "scheduler_address", "workers"]
