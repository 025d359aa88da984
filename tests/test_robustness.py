"""A build killed, interrupted or out of disk never damages the release; builds stay offline."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from carnk_ld.netguard import NetworkBlocked, network_blocked
from carnk_ld.release import release_lock
from tests.conftest import PROJECT, edit, run_process, tree_bytes


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
def built(sample_corpus: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    out = tmp_path / "release"
    result = build_process(sample_corpus, out)
    assert result.returncode == 0, result.stderr
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
@pytest.mark.parametrize(("how", "fragment"), [("SIGINT", "Aborted"), ("ENOSPC", "No space left on device")])
def test_ctrl_c_and_full_disk_leave_the_release_and_no_staging(built, how: str, fragment: str) -> None:
    corpus, out, before = built
    result = build_process(corpus, out, kill_at=f"staging-written:{how}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr + result.stdout
    assert tree_bytes(out) == before
    assert leftovers(out) == []


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
