"""A build killed, interrupted or out of disk never damages the release; builds stay offline."""

from __future__ import annotations

import faulthandler
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from unittest import mock

import pytest

from carnk_ld import release, stopping
from carnk_ld.netguard import NetworkBlocked, network_blocked
from carnk_ld.release import check_release, publish_release, release_lock
from tests.conftest import PROJECT, copy_release, edit, line_of, run_process, tree_bytes


def build_process(corpus: Path, out: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """``carnk-ld build`` in its own process, interrupted at ``kill_at`` (see tests/fault_injection.py)."""
    args = ("build", "--root", str(corpus), "--out", str(out))
    if kill_at:
        return run_process(kill_at, *args, module="tests.fault_injection", cwd=PROJECT)
    return run_process(*args)


def leftovers(out: Path) -> list[str]:
    """Staging or swapped-out release directories, or a lock file, next to ``out`` (only the cache belongs there)."""
    prefixes = (f".{out.name}.staging-", f".{out.name}.old-", f".{out.name}.lock")
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(prefixes))


@pytest.fixture
def built(sample_corpus: Path, sample_release: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """The sample corpus and its release (with its build cache), the corpus then edited so that a rebuild differs."""
    out = copy_release(sample_release, tmp_path / "release")
    # change an input so that a completed rebuild would differ
    edit(sample_corpus / "facts" / "sample.yaml", "Implied by the contrast", "Implied only by the contrast")
    return sample_corpus, out, tree_bytes(out)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["staging-written", "before-swap"])
def test_sigkill_before_the_switch_leaves_the_release_byte_identical(built, point: str) -> None:
    corpus, out, before = built
    result = build_process(corpus, out, kill_at=point)
    assert result.returncode == -9, result.stderr
    assert tree_bytes(out) == before
    assert leftovers(out), "the killed build should have left its staging directory"
    again = build_process(corpus, out)
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == [], "the next build cleans up stale staging directories"
    assert tree_bytes(out) != before


@pytest.mark.slow
def test_sigkill_after_the_switch_leaves_the_complete_new_release(built) -> None:
    corpus, out, before = built
    result = build_process(corpus, out, kill_at="after-swap")
    assert result.returncode == -9
    after = tree_bytes(out)
    assert after != before
    from hashlib import sha256

    sums = dict(reversed(line.split("  ", 1)) for line in after["SHA256SUMS"].decode().splitlines())
    assert {name: sha256(after[name]).hexdigest() for name in sums} == sums


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "code", "fragment"), [("SIGINT", 130, "interrupted\n"), ("ENOSPC", 2, "No space left on device")]
)
def test_ctrl_c_and_full_disk_leave_the_release_and_no_staging(built, how: str, code: int, fragment: str) -> None:
    corpus, out, before = built
    result = build_process(corpus, out, kill_at=f"staging-written:{how}")
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr + result.stdout
    assert tree_bytes(out) == before
    assert leftovers(out) == []


@pytest.mark.parametrize(("how", "said"), [("SIGTERM", "stopped by SIGTERM"), ("SIGINT", "interrupted")])
def test_a_stop_signal_after_the_switch_is_a_success_naming_the_new_release(built, how: str, said: str) -> None:
    corpus, out, before = built
    result = build_process(corpus, out, kill_at=f"after-swap:{how}")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"{said}; the new release is complete in {out}\n"
    after = tree_bytes(out)
    assert after != before
    assert check_release(out)
    assert leftovers(out) == []


@pytest.mark.parametrize(("fails", "code"), [(False, 0), (True, 143)])
def test_a_stop_signal_during_the_switch_waits_for_its_outcome(tmp_path: Path, fails: bool, code: int) -> None:
    out = tmp_path / "release"
    publish_release({"a.txt": lambda: b"old\n"}, out)
    exchange = release._exchange

    def signalled_while_switching(*args: object) -> None:
        exchange(*args)  # type: ignore[arg-type]
        os.kill(os.getpid(), signal.SIGTERM)  # its handler runs here, before the switch has returned
        if fails:
            raise OSError("the exchange failed")

    previous = stopping.install()
    try:
        with mock.patch.object(release, "_exchange", signalled_while_switching), pytest.raises(SystemExit) as stopped:
            publish_release({"a.txt": lambda: b"new\n"}, out)
    finally:
        stopping.restore(previous)
    assert stopped.value.code == code, "0 once the new release is in place, a failure if the switch failed"


def terminate_mid_build(corpus: Path, out: Path, number: int) -> subprocess.CompletedProcess[str]:
    """``carnk-ld build`` sent ``number`` once it holds its lock (it is then past start-up, inside the build)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "carnk_ld", "build", "--root", str(corpus), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = out.parent / f".{out.name}.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, number)
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize(
    ("number", "said"),
    [(signal.SIGTERM, "stopped by SIGTERM"), (signal.SIGHUP, "stopped by SIGHUP"), (signal.SIGINT, "interrupted")],
)
def test_a_stop_signal_ends_a_first_build_leaving_nothing(sample_corpus: Path, tmp_path: Path, number, said) -> None:
    out = tmp_path / "release"
    result = terminate_mid_build(sample_corpus, out, number)
    assert result.returncode == 128 + number, result.stderr
    assert said in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"], "no release, lock, cache or staging"


@pytest.mark.slow
def test_sigterm_leaves_the_previous_release_byte_identical(built) -> None:
    corpus, out, before = built
    result = terminate_mid_build(corpus, out, signal.SIGTERM)
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(out) == before
    assert leftovers(out) == []


STOP_AFTER_LOCK = """
import os, signal, sys
from pathlib import Path
from carnk_ld import release, stopping

real = release._acquire

def acquire_then_stopped(path, shown):
    fd = real(path, shown)
    os.kill(os.getpid(), signal.SIGTERM)  # the stop arrives before the caller holds the descriptor
    return fd

release._acquire = acquire_then_stopped
stopping.install()
with release.release_lock(Path(sys.argv[1])):
    pass
"""


def test_a_stop_arriving_just_after_the_lock_is_taken_still_removes_the_lock_file(tmp_path: Path) -> None:
    # In a process of its own: a signal mask is per thread, and the build takes its lock before it
    # starts any thread, while a test runner's process may have threads that would take the signal.
    folder = tmp_path / "parent"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", STOP_AFTER_LOCK, str(folder / "release")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [], "the lock file is removed"


def test_second_build_fails_fast_naming_the_lock_holder(sample_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "release"
    with release_lock(out):
        result = build_process(sample_corpus, out)
    assert result.returncode == 2
    assert "another build is writing this release (pid" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"], "the holder removes its lock file"


def test_network_is_blocked_and_the_url_named() -> None:
    with network_blocked():
        with pytest.raises(NetworkBlocked, match=r"http://example\.org/context\.jsonld"):
            urllib.request.urlopen("http://example.org/context.jsonld")
        with pytest.raises(NetworkBlocked, match=r"127\.0\.0\.1"):
            socket.create_connection(("127.0.0.1", 9))
    # outside the block the hook stays quiet (load and the server tests need HTTP)
    with pytest.raises(OSError) as info:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert not isinstance(info.value, NetworkBlocked)


def test_libraries_that_fetch_are_stopped(tmp_path: Path) -> None:
    import pyld.jsonld
    import rdflib

    document = {"@context": "http://example.org/remote-context.jsonld", "@id": "http://e/x", "p": "v"}
    with network_blocked():
        with pytest.raises(pyld.jsonld.JsonLdError) as jsonld_error:
            pyld.jsonld.expand(document)
        causes, error = [], jsonld_error.value
        while error is not None:
            causes.append(error)
            error = error.__cause__ or error.__context__
        blocked = [e for e in causes if isinstance(e, NetworkBlocked)]
        assert blocked and "example.org" in str(blocked[0])
        with pytest.raises(NetworkBlocked):
            rdflib.Graph().parse("http://example.org/ontology.owl")


def test_every_command_but_load_runs_offline(cli, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a real command try to fetch (as a library would) and see the CLI refuse it, naming the URL."""
    import carnk_ld.cli

    def fetching(*args: object, **kwargs: object) -> None:
        urllib.request.urlopen("http://example.org/imported.owl")

    monkeypatch.setattr(carnk_ld.cli, "check_tree", fetching)
    result = cli("check", "--root", str(sample_corpus))
    assert result.exit_code == 2
    assert "network access blocked: something tried to reach http://example.org/imported.owl" in result.output


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                connection, address = self.socket.accept()
            except OSError:
                continue
            self.connections.append(address)
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.mark.slow  # about 9 s: builds, checks and queries a corpus several times
def test_service_never_reaches_a_listener_from_build_check_or_query(
    listener: Listener, sample_corpus: Path, sample_release: Path, tmp_path: Path
) -> None:
    service = f"SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?this ?p ?o }}"
    shape = sample_corpus / "shapes" / "ontology.shapes.ttl"
    check = sample_corpus / "queries" / "checks" / "missing-label-violation.rq"
    shape_text, check_text = shape.read_text(encoding="utf-8"), check.read_text(encoding="utf-8")
    # A namespace that opens a long string which the shape's query closes: checked apart,
    # neither text shows SERVICE; joined as the engines run them, the SERVICE is code.
    split = sample_corpus / "shapes" / "split.shapes.ttl"
    split_text = "\n".join(
        (
            "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
            "@prefix ex: <https://example.org/evil/> .",
            'ex:prefixes sh:declare [ sh:prefix "p" ;',
            "  sh:namespace \"http://a/> SELECT $this WHERE { BIND('''\"^^xsd:anyURI ] .",
            "ex:Shape a sh:NodeShape ;",
            "  sh:target [ a sh:SPARQLTarget ; sh:prefixes ex:prefixes ;",
            f"    sh:select \"\"\">''' AS ?z) {service} }} #'''\"\"\" ] ;",
            '  sh:property [ sh:path <http://www.w3.org/2000/01/rdf-schema#label> ; sh:minCount 0 ; sh:message "x" ] .',
            "",
        )
    )
    out = tmp_path / "release"
    quoted = f"  BIND (carnk:a\\' AS ?n) {service} FILTER (?n != 'x')\n"
    cases = [
        (
            shape,
            shape_text.replace("?this a ?kind .\n", f"?this a ?kind . {service}\n", 1),
            "SERVICE <http",
            "SERVICE is refused",
        ),
        (
            check,
            check_text.replace("# scope: document\n", f"# scope: document\n# note\r{service}\n", 1),
            "SERVICE <http",
            "SERVICE is refused",
        ),
        (split, split_text, "sh:namespace", "sh:namespace"),
        # carnk:a\# and carnk:a\' are prefixed names (the Turtle string spells the backslash
        # twice): neither the '#' nor the quote starts a comment or string for Oxigraph.
        (
            shape,
            shape_text.replace("?this a ?kind .\n", f"?this a ?kind . BIND (carnk:a\\\\# AS ?n) {service}\n", 1),
            "SERVICE <http",
            "SERVICE is refused",
        ),
        (
            check,
            check_text.replace("  BIND (rdfs:label", quoted + "  BIND (rdfs:label", 1),
            "SERVICE <http",
            "SERVICE is refused",
        ),
    ]
    for path, text, line_text, message in cases:
        path.write_text(text, encoding="utf-8", newline="")
        for command in ("build", "check"):
            args = (command, "--root", str(sample_corpus)) + (("--out", str(out)) if command == "build" else ())
            result = run_process(*args)
            assert result.returncode == 2, result.stderr
            output = result.stderr + result.stdout
            assert f"{path.relative_to(sample_corpus)}:{line_of(path, line_text)}: error: {message}" in output
            assert "Traceback" not in output
        if path == split:
            path.unlink()
        else:
            path.write_text(shape_text if path == shape else check_text, encoding="utf-8")
    query = tmp_path / "hidden.rq"
    escaped = service.replace("SERVICE", "\\u0053ERVICE")
    for text in (
        f"SELECT * WHERE {{ ?this ?q ?v # a remark\r{service} }}",
        f"SELECT * WHERE {{ ?this ?q ?v . {escaped} }}",
        f"SELECT * WHERE {{ ?this ?q ?v FILTER(?v<'x)>'){service}#'\n}}",
        f"PREFIX c: <https://w3id.org/carnk/> SELECT * WHERE {{ ?this ?q ?v BIND (c:a\\# AS ?n) {service} }}",
        f"PREFIX c: <https://w3id.org/carnk/> SELECT * WHERE {{ BIND (c:a\\' AS ?n) {service} FILTER (?n != 'x') }}",
    ):
        query.write_text(text, encoding="utf-8", newline="")
        result = run_process("query", "--release", str(sample_release), str(query))
        assert result.returncode == 2, result.stderr
        assert f"{query}:1: error: SERVICE is refused" in result.stderr
    time.sleep(0.5)
    assert listener.connections == []


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads children from /proc (Linux)")
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL])
def test_the_query_process_dies_with_carnk_ld_query(sample_release: Path, signal_number: int) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    process = subprocess.Popen(
        [sys.executable, "-m", "carnk_ld", "query", "--release", str(sample_release), "-e", query, "--timeout", "600"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _children(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        children = _children(process.pid)
        assert children, "the query did not start its child process"
        os.kill(process.pid, signal_number)
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(child) for child in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(child) for child in children), "the query's child outlived carnk-ld query"
    finally:
        process.kill()
        process.wait()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_query_process_killed_by_a_signal_is_reported(sample_release: Path) -> None:
    from carnk_ld.errors import InputError
    from carnk_ld.query import run_query
    from carnk_ld.store import store_path

    store = store_path(sample_release)

    def crash(*args: object, **kwargs: object) -> None:  # stands in for a crash of the engine in the child
        faulthandler.disable()  # pytest's handler would print the child's stack
        os.kill(os.getpid(), signal.SIGSEGV)

    with mock.patch("carnk_ld.query.check_query", crash), pytest.raises(InputError) as raised:
        run_query(store, "ASK {}", timeout=60, source="-e")
    assert "-e: error: the query process died with signal SIGSEGV" in str(raised.value)
    assert raised.value.exit_code == 2


class _Finalised:
    """An object whose finaliser is where the stop signal's handler runs."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs inside this finaliser
        sum(range(10))


def test_a_stop_whose_exit_is_lost_in_a_finaliser_still_stops_before_the_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "release"
    publish_release({"a.txt": lambda: b"old\n"}, out)
    previous = stopping.install()
    try:
        _Finalised()  # dropped at once: Python reports the handler's SystemExit as unraisable and goes on
        with pytest.raises(SystemExit) as stopped:
            publish_release({"a.txt": lambda: b"new\n"}, out)
    finally:
        stopping.restore(previous)
    assert stopped.value.code == 143
    assert (out / "a.txt").read_bytes() == b"old\n", "a stopped build never publishes"
    said = capsys.readouterr().err
    assert said.splitlines() == ["stopped by SIGTERM"], "one line, no 'Exception ignored' traceback"


def test_a_command_whose_stop_was_lost_in_a_finaliser_ends_with_the_stop_s_code(
    sample_corpus: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from carnk_ld import cli

    coverage = cli.coverage

    def finalised_then_coverage(*args: object) -> object:
        _Finalised()
        return coverage(*args)  # type: ignore[arg-type]

    with mock.patch.object(cli, "coverage", finalised_then_coverage):
        result = CliRunner().invoke(cli.main, ["mappings", "--root", str(sample_corpus)])
    assert result.exit_code == 143, result.output
    assert "stopped by SIGTERM" in result.output


def test_a_stop_while_the_lock_is_taken_leaves_no_lock_file(tmp_path: Path) -> None:
    """A stop signal right after the lock file is created (before the caller holds it) must not leave it behind."""
    out = tmp_path / "release"
    flock = release.fcntl.flock
    calls = []

    def stopped_once(fd: int, operation: int) -> None:
        calls.append(operation)
        if len(calls) == 1:
            raise SystemExit(143)  # what the stop handler raises, here in the middle of taking the lock
        flock(fd, operation)

    with mock.patch.object(release.fcntl, "flock", stopped_once), pytest.raises(SystemExit):
        with release_lock(out):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no lock file and no folder left"
