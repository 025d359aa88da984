"""The command line: exit codes, the summary, and that failures never touch the last release.

Every broken input and the error it must give is a case of the catalogue in tests/bad_inputs/;
these tests cover what a single case cannot: the summary, several errors at once, the output
directory, and ``check``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carnk_ld.release import check_release
from tests.conftest import PROJECT, copy_release, edit, place_of, run_process


def build(cli, root: Path, out: Path):
    return cli("build", "--root", str(root), "--out", str(out))


def test_help_documents_the_exit_codes(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "0 ok; 1 SHACL validation failed or a quality gate failed" in result.output
    assert "2 bad input" in result.output
    words = " ".join(result.output.split())  # the epilog is wrapped to the terminal's width
    assert "3 the command did its work (build: the release was published) but its output could not be written" in words
    assert "130 interrupted (Ctrl-C)" in words and "141 the reader closed the output early" in words


def test_build_into_build_under_the_root_prints_a_summary(cli, sample_corpus: Path) -> None:
    result = cli("build", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    assert (sample_corpus / "build" / "SHA256SUMS").is_file()
    assert not list(sample_corpus.glob(".build.staging-*")), "staging directories must not be left behind"
    # Counted by hand in tests/fixtures/corpus. Segments: sample.txt has 17 lines, one of them two
    # sentences, 3 list items, and excludes its heading, a summary and the list's introduction;
    # trial.txt has 2 sentences. Statements: 21 + 2 facts, plus the study's intervention, cell
    # source, population, outcome, and for each of its 2 adverse events not observed the observation
    # and the negated claim; negated: 1 fact and the 2 absent events. Plain triples: the 18 firm facts
    # (not the is_a, negated, possible, uncommon or minimal ones) and the study's 6, less one claim
    # both documents state (CAR NK given intravenously).
    assert "documents:  2\n" in result.output
    assert "segments:   20 (3 list items, 17 sentences); 3 excluded with a reason\n" in result.output
    assert "facts:      31 statements (3 negated), 23 published as plain triples; 1 clinical studies\n" in (
        result.output
    )
    assert "validation: conforms" in result.output
    assert "time:" in result.output and "triples:" in result.output


def test_python_dash_m_works() -> None:
    result = run_process("--version")
    assert result.returncode == 0 and "carnk-ld" in result.stdout


def test_errors_in_several_facts_are_reported_together_and_nothing_is_written(
    cli, sample_corpus: Path, tmp_path: Path
) -> None:
    facts = sample_corpus / "facts" / "sample.yaml"
    edit(facts, '"NK cell lines"', '"NK cell line s"')
    edit(facts, "object: UmbilicalCordBlood\n", "object: UmbilicalCordBlod\n")
    result = build(cli, sample_corpus, tmp_path / "out")
    assert result.exit_code == 2
    assert f"facts/sample.yaml:{place_of(facts, 'UmbilicalCordBlod')}: error: object" in result.output
    quote = place_of(facts, '"NK cell line s')  # a quote is named where its value starts, at the quote mark
    assert f"facts/sample.yaml:{quote}: error: quote not found" in result.output
    assert "build failed: bad input; the previous release is untouched" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("command", "footer"),
    [
        ("check", "check failed: bad input; nothing was written"),
        ("guide", "guide failed: bad input; CURATING.md is unchanged"),
        ("mappings", "mappings failed: bad input; nothing was written"),
    ],
)
def test_a_command_that_fails_says_which_command_failed_and_what_it_left(
    cli, sample_corpus: Path, command: str, footer: str
) -> None:
    ontology = sample_corpus / "ontology" / "carnk.ttl"
    ontology.write_text(ontology.read_text(encoding="utf-8") + "\ncarnk:Broken a owl:Class ;\n", encoding="utf-8")
    result = cli(command, "--root", str(sample_corpus))
    assert result.exit_code == 2, result.output
    assert result.output.rstrip().endswith(footer), result.output
    assert "release" not in result.output.splitlines()[-1]


def test_out_directory_that_is_not_a_release_is_not_replaced(cli, sample_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = build(cli, sample_corpus, out)
    assert result.exit_code == 2
    assert f"refusing to replace {out}: not a carnk-ld release" in result.output
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_check_writes_nothing(cli, sample_corpus: Path) -> None:
    result = cli("check", "--root", str(sample_corpus))
    assert result.exit_code == 0, result.output
    assert "SHACL conforms" in result.output
    assert not (sample_corpus / "build").exists()


def stage_names(path: Path) -> list[str]:
    records = json.loads(path.read_text(encoding="utf-8"))
    assert all({"stage", "seconds", "peak_rss_mib"} <= set(record) for record in records)
    return [record["stage"] for record in records]


def test_timings_are_written_when_the_command_succeeds_and_replace_only_timings(
    cli, sample_corpus: Path, sample_release: Path, tmp_path: Path
) -> None:
    timings = tmp_path / "timings.json"
    timings.write_bytes(b"")  # as `mktemp` or benchmarks/run.py leave it: empty, nothing to lose
    timings.chmod(0o640)
    copy_release(sample_release, tmp_path / "out")
    result = cli("build", "--root", str(sample_corpus), "--out", str(tmp_path / "out"), "--timings", str(timings))
    assert result.exit_code == 0, result.output
    assert "load" in stage_names(timings) and "write SHA256SUMS" not in stage_names(timings)
    assert timings.stat().st_mode & 0o777 == 0o640, "replacing the file keeps its permissions"
    result = cli("check", "--root", str(sample_corpus), "--out", str(tmp_path / "out"), "--timings", str(timings))
    assert result.exit_code == 0, result.output
    assert "validate" in stage_names(timings)
    assert [p.name for p in tmp_path.iterdir() if "timings" in p.name] == ["timings.json"], "no temporary file is left"


def test_a_failed_command_writes_no_timings_and_keeps_earlier_ones(cli, sample_corpus: Path, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.json"
    earlier.write_text('[{"stage": "load", "seconds": 1.5, "peak_rss_mib": 80.0}]\n', encoding="utf-8")
    before = earlier.read_bytes()
    edit(sample_corpus / "facts" / "sample.yaml", "object: UmbilicalCordBlood\n", "object: UmbilicalCordBlod\n")
    for command in ("build", "check"):
        for timings in (earlier, tmp_path / "new.json"):
            result = cli(command, "--root", str(sample_corpus), "--timings", str(timings))
            assert result.exit_code == 2, result.output
    assert earlier.read_bytes() == before
    assert not (tmp_path / "new.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.json", "sample"]


def carnk_ld(*args: str, env_extra: dict[str, str | None] | None = None, **kwargs) -> subprocess.Popen[bytes]:
    """``python -m carnk_ld`` in a process of its own, its stdout as ``kwargs`` say (a pipe by default)."""
    env = dict(os.environ)
    for name, value in (env_extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "carnk_ld", *args], stderr=subprocess.PIPE, env=env, **kwargs)


def output_commands(corpus: Path, release: Path) -> dict[str, list[str]]:
    return {
        "query": ["query", "--release", str(release), "-e", "SELECT * WHERE { ?s ?p ?o } LIMIT 3"],
        "mappings": ["mappings", "--root", str(corpus)],
        "cq": ["cq", "--root", str(corpus), "--out", str(release)],
        "--help": ["--help"],
        "--version": ["--version"],
        "query --help": ["query", "--help"],
        "annotate": ["annotate", "--root", str(corpus), "documents/trial.txt"],
        "suggest": ["suggest", "--root", str(corpus), str(corpus / "documents" / "trial.txt")],
    }


@pytest.mark.parametrize(
    "command",
    # each runs a fresh interpreter: query stays in the fast suite
    [
        "query",
        *(
            pytest.param(c, marks=pytest.mark.slow)
            for c in ("mappings", "cq", "--help", "--version", "query --help", "annotate", "suggest")
        ),
    ],
)
def test_a_full_disk_on_stdout_is_one_line_on_stderr_and_exit_3(
    command: str, sample_corpus: Path, sample_release: Path
) -> None:
    with open("/dev/full", "wb") as full:
        process = carnk_ld(*output_commands(sample_corpus, sample_release)[command], stdout=full)
        _, stderr = process.communicate(timeout=120)
    assert stderr.decode() == "error: cannot write the output: No space left on device\n"
    assert process.returncode == 3


def test_a_full_disk_on_the_build_summary_says_the_release_was_published(
    sample_corpus: Path, sample_release: Path, tmp_path: Path
) -> None:
    out = copy_release(sample_release, tmp_path / "release")
    edit(sample_corpus / "facts" / "sample.yaml", "Implied by the contrast", "Implied only by the contrast")
    before = (out / "carnk.nt").read_bytes()
    with open("/dev/full", "wb") as full:
        process = carnk_ld("build", "--root", str(sample_corpus), "--out", str(out), stdout=full)
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 3
    assert stderr.decode() == (
        "error: cannot write the output: No space left on device\n"
        f"the release was published in {out}; only its summary could not be printed\n"
    )
    assert check_release(out), "exit 3: the work is done, only its output is lost"
    assert (out / "carnk.nt").read_bytes() != before, "the new release is the one published"


#: Starts the command line as ``python -m carnk_ld`` does, sending itself SIGINT (a Ctrl-C) when the
#: command line module is being imported: before click or any handler of the command itself exists.
_CTRL_C_DURING_IMPORTS = """
import os, runpy, signal, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "carnk_ld.cli":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["carnk-ld", "--version"]
runpy.run_module("carnk_ld", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_while_the_command_line_is_imported_is_one_line_and_exit_130() -> None:
    process = subprocess.run(
        [sys.executable, "-c", _CTRL_C_DURING_IMPORTS], capture_output=True, text=True, timeout=120, cwd=PROJECT
    )
    assert (process.returncode, process.stderr, process.stdout) == (130, "interrupted\n", "")


#: Runs a command as ``carnk-ld`` does and sends itself SIGTERM while the interpreter tears down,
#: after Python has reset its signal handlers: where a build that published its release was killed.
_SIGTERM_DURING_TEARDOWN = """
import os, signal, sys
from carnk_ld.__main__ import run

class SigtermWhenFreed:
    def __del__(self, kill=os.kill, pid=os.getpid(), number=signal.SIGTERM.value):
        kill(pid, number)

sys.late = SigtermWhenFreed()  # sys's attributes are freed late in the teardown
sys.argv = ["carnk-ld", "--version"]
run()
"""


def test_a_stop_signal_while_the_interpreter_tears_down_keeps_the_exit_code() -> None:
    process = subprocess.run(
        [sys.executable, "-c", _SIGTERM_DURING_TEARDOWN], capture_output=True, text=True, timeout=120, cwd=PROJECT
    )
    assert (process.returncode, process.stderr) == (0, "")


@pytest.mark.parametrize("unbuffered", [None, "1"], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_pipe_closed_early_ends_the_command_quietly_with_141(sample_release: Path, unbuffered: str | None) -> None:
    # CSV of every triple: about 0.5 MB, far more than a pipe holds, so the command must still be writing
    query = ["query", "--release", str(sample_release), "--format", "csv", "-e", "SELECT * WHERE { ?s ?p ?o }"]
    process = carnk_ld(*query, env_extra={"PYTHONUNBUFFERED": unbuffered})
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(1), "the first byte of the header"
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert stderr == b"", "no message, no traceback, no 'Exception ignored'"


def test_without_root_a_command_works_on_the_corpus_it_is_run_in(cli, sample_corpus: Path, monkeypatch) -> None:
    # as git finds its repository: from the corpus folder or any folder below it, not the package's checkout
    inner = sample_corpus / "documents"
    monkeypatch.chdir(inner)
    result = cli("new", "documents/new-one.txt")
    assert result.exit_code == 2 and "not a document of the corpus" in result.output
    (sample_corpus / "documents" / "new-one.txt").write_text("CAR NK cells are safe.\n", encoding="utf-8")
    result = cli("new", "new-one.txt")  # a path as the user typed it, relative to where they are
    assert result.exit_code == 0, result.output
    assert (sample_corpus / "facts" / "new-one.yaml").is_file()
    assert not (PROJECT / "facts" / "new-one.yaml").exists()


def test_outside_any_corpus_the_default_is_the_package_checkout(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("new", "absent.txt")
    assert result.exit_code == 2
    assert result.output.startswith(f"in corpus {PROJECT}:"), result.output  # the failure names the corpus used
