"""The ``carnk-ld`` command line: argument parsing and exit codes only.

Exit codes: 0 ok, 1 SHACL validation failed, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from carnk_ld.constants import DEFAULT_OUT, VERSION, project_root
from carnk_ld.errors import CarnkError, QualityGateFailed, ValidationFailed
from carnk_ld.mappings import coverage
from carnk_ld.pipeline import check_corpus, load_corpus, run_build

ROOT_OPTION = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Corpus tree to build (ontology/, shapes/, documents/, facts/). Default: this checkout.",
)


@click.group(
    epilog="Exit codes: 0 ok; 1 SHACL validation failed or a quality gate failed (reasoner, ontology QC); "
    "2 bad input (file, line and problem are printed)."
)
@click.version_option(VERSION, prog_name="carnk-ld")
def main() -> None:
    """Publish CAR-NK cell therapy knowledge as validated linked data."""


def _fail(exc: CarnkError, root: Path) -> None:
    if root.resolve() != Path.cwd().resolve():
        click.echo(f"in corpus {root}:", err=True)
    if isinstance(exc, ValidationFailed):
        click.echo(exc.report_text.rstrip(), err=True)
        click.echo(f"build failed: {exc.violations} SHACL results; the previous release is untouched", err=True)
    elif isinstance(exc, QualityGateFailed):
        click.echo(str(exc), err=True)
        click.echo("build failed: quality gate; the previous release is untouched", err=True)
    else:
        click.echo(str(exc), err=True)
        click.echo("build failed: bad input; the previous release is untouched", err=True)
    sys.exit(exc.exit_code)


@main.command()
@ROOT_OPTION
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Release directory. Default: {DEFAULT_OUT}/ under the root.",
)
def build(root: Path | None, out: Path | None) -> None:
    """Load, assemble, validate and publish the release.

    Example: carnk-ld build --root my-corpus --out /tmp/release
    """
    root = root or project_root()
    out = out or root / DEFAULT_OUT
    try:
        summary = run_build(root, out)
    except CarnkError as exc:
        _fail(exc, root)
    click.echo(summary.render())


@main.command()
@ROOT_OPTION
def mappings(root: Path | None) -> None:
    """Report how the ontology's classes are covered by mappings, per vocabulary.

    Example: carnk-ld mappings
    """
    root = root or project_root()
    try:
        corpus = load_corpus(root)
    except CarnkError as exc:
        _fail(exc, root)
    overall, rows = coverage(corpus.mappings, corpus.ontology)
    click.echo(
        f"{overall['classes']} classes: {overall['exact']} with an exact match, "
        f"{overall['close_or_broad_only']} with only close/broad/narrow/related matches, "
        f"{overall['no_term']} with no term found (sssom:NoTermFound)"
    )
    click.echo(f"{'vocabulary':<12}{'exact':>8}{'other only':>12}{'classes':>9}")
    for vocab, exact, other, total in rows:
        click.echo(f"{vocab:<12}{exact:>8}{other:>12}{total:>9}")


@main.command()
@ROOT_OPTION
def check(root: Path | None) -> None:
    """Run every gate (inputs, assembly, SHACL) without writing a release.

    Example: carnk-ld check --root my-corpus
    """
    root = root or project_root()
    try:
        checked = check_corpus(root)
    except CarnkError as exc:
        _fail(exc, root)
    counts = ", ".join(f"{sum(1 for f in checked.findings if f.severity == s)} {s}" for s in ("WARN", "INFO"))
    click.echo(
        f"ok: {len(checked.graph.all_triples())} triples; reasoning coherent; SHACL conforms; "
        f"ontology QC 0 ERROR, {counts}"
    )
