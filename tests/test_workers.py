"""Per-document work spread over processes or a Dask cluster gives the single-process release."""

from __future__ import annotations

import multiprocessing
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from carnk_ld.errors import InputError
from carnk_ld.options import BuildOptions
from carnk_ld.pipeline import run_build
from carnk_ld.workers import Workers, scheduler_address
from tests.conftest import run_process, tree_bytes


def _square_plus(shared: int, item: int) -> int:
    return item * item + shared


def test_results_come_back_in_item_order_from_worker_processes(monkeypatch) -> None:
    monkeypatch.setattr("carnk_ld.workers.PARALLEL_FROM", 1)
    items = list(range(40))
    assert Workers(jobs=2).map(_square_plus, 7, items) == [i * i + 7 for i in items]
    assert Workers(jobs=1).map(_square_plus, 7, items) == [i * i + 7 for i in items]


def _slowly(shared: None, item: int) -> int:
    time.sleep(0.2)
    return item


class _Stop(BaseException):
    """Stands in for the SystemExit a SIGTERM raises in ``carnk-ld`` (or Ctrl-C's KeyboardInterrupt)."""


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")  # no traceback on stderr
def test_a_stopped_map_kills_its_workers_at_once(monkeypatch) -> None:
    def stop(number: int, frame: object) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(_Stop):
            Workers(jobs=2).map(_slowly, None, list(range(400)))  # 40 s of work, 8 s queued to each worker
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 4, "the work already queued to the workers was waited for"
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("address", ["127.0.0.1:8786", "http://h:1", "tcp://h", "tcp://h:port", "tcp://:8786"])
def test_a_malformed_scheduler_address_is_a_clear_error(address: str) -> None:
    with pytest.raises(InputError, match="tcp://HOST:PORT"):
        scheduler_address(address)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as local:
        yield local.scheduler_address


@pytest.mark.slow
def test_a_dask_cluster_builds_the_single_process_release(
    cluster: str, generated_corpus: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("carnk_ld.workers.PARALLEL_FROM", 1)
    root = tmp_path / "corpus"
    shutil.copytree(generated_corpus, root)
    summary = run_build(root, tmp_path / "dask", BuildOptions(scheduler=cluster, cache=False))
    assert summary.ran_on == f"Dask scheduler {cluster}"
    run_build(root, tmp_path / "single", BuildOptions(jobs=1, cache=False))
    assert tree_bytes(tmp_path / "dask") == tree_bytes(tmp_path / "single")


@pytest.mark.slow
def test_the_command_line_reaches_its_scheduler_and_nothing_else(cluster: str, tmp_path: Path) -> None:
    from tests.conftest import PROJECT

    result = run_process("build", "--root", str(PROJECT), "--out", str(tmp_path / "out"), "--scheduler", cluster)
    assert result.returncode == 0, result.stderr
    assert f"workers:    Dask scheduler {cluster}" in result.stdout
    assert tree_bytes(tmp_path / "out") == tree_bytes(PROJECT / "build")


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from tests.conftest import PROJECT

    result = run_process(
        "check", "--root", str(PROJECT), "--scheduler", "tcp://127.0.0.1:9", "--no-cache"
    )
    assert result.returncode == 2, result.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
