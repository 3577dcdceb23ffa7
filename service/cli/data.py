"""The newsroom's data: ``srs seed``, ``import``, ``export``, ``rescore`` and ``scores``;
``srs backup``, ``restore`` and ``check`` (the whole database as one file, and its
consistency)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from models.database import make_engine
from scoring.interchange import RecordError
from seeds.loader import read_seed_story
from service.cli.common import fail, open_uow
from service.newsroom.wording import count_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.newsroom.recording import RecordingSummary


def load_seed_story(session: Session) -> RecordingSummary:
    """The seed story, read and validated whole before anything is written; idempotent.
    The one place the service imports ``seeds`` (an import-linter contract holds that)."""
    from service.operations.importing import record_seed_story

    story = read_seed_story()
    return record_seed_story(session, story.outlets, story.reports)


@click.command()
@click.pass_obj
def seed(obj: dict) -> None:
    """Load the seed story (outlets, claims, reports); running it twice changes nothing."""
    try:
        with open_uow(obj["url"]) as uow:
            summary = load_seed_story(uow.session)
            uow.commit()
    except RecordError as error:
        fail(f"seed data: {error}")
    click.echo(
        f"seed story: {summary.outlets_created} outlets, {summary.claims_created} claims, "
        f"{summary.reports_created} reports created; {summary.reports_unchanged} already there"
    )


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    help="Lines per transaction (bigger batches import faster; each holds its claims' "
    "row locks until it commits).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option(
    "--bulk/--row-by-row",
    default=True,
    show_default=True,
    help="Check and write each batch in set operations (COPY on PostgreSQL), or record "
    "line by line as the API does; both store the same rows.",
)
@click.pass_obj
def import_(obj: dict, path: str, batch_size: int, progress: bool | None, bulk: bool) -> None:
    """Import reports from a JSON Lines file in the interchange format.

    Streams the file; each batch of lines is stored all or nothing. The first bad line
    stops the import with its line number and field; batches before it stay stored. Each
    batch emits one import.batch_recorded event, not a report.recorded per report.
    """
    from service.operations.importing import import_file

    show = sys.stderr.isatty() if progress is None else progress
    try:
        summary = import_file(obj["url"], path, batch_size=batch_size, progress=show, bulk=bulk)
    except RecordError as error:
        fail(f"{path}: {error}")
    click.echo(
        f"imported {summary.reports_created} reports ({summary.reports_unchanged} already "
        f"there, {summary.reports_duplicate} the same report again), "
        f"{summary.claims_created} new claims, {summary.outlets_created} new outlets, "
        f"{summary.verdicts_created} verdicts; {summary.echoes_inferred} reports stored as "
        "echoes of the earlier report they nearly repeat"
    )
    if summary.new_outlets:
        click.echo(
            f"{len(summary.new_outlets)} outlets were not known and were created unvetted "
            "(no prior of their own; give them one, or an alias of a known outlet, with "
            "the outlets API):"
        )
        for name in summary.new_outlets:
            click.echo(f"  {name}")


@click.command()
@click.option("--out", "out_path", default="-", help="File to write (default: stdout).")
@click.pass_obj
def export(obj: dict, out_path: str) -> None:
    """Export every report in the interchange format (JSON Lines), streaming; retracted
    reports carry their retraction, and ``srs import`` stores them retracted."""
    from scoring.interchange import write_records
    from service.newsroom.stored_reports import export_records

    with click.open_file(out_path, "w", encoding="utf-8") as stream, open_uow(obj["url"]) as uow:
        count = write_records(export_records(uow.session, retracted=True), stream)
    # One line on success: on stderr when the records go to stdout, else naming the file.
    where = "" if out_path == "-" else f" to {out_path}"
    click.echo(f"exported {count_of(count, 'report')}{where}", err=out_path == "-")


@click.command()
@click.pass_obj
def rescore(obj: dict) -> None:
    """Recompute every claim's score from its reports with the active model."""
    from service.operations.importing import rescore_all

    with open_uow(obj["url"]) as uow:
        count, changed = rescore_all(uow.session, cause="batch rescore")
        uow.commit()
    click.echo(f"rescored {count} claims; {changed} changed")


@click.command()
@click.option(
    "--explain/--no-explain",
    default=True,
    show_default=True,
    help="Print each provenance cluster's contribution and reason.",
)
@click.pass_obj
def scores(obj: dict, explain: bool) -> None:
    """Print every claim's stored score: confidence, interval, label and explanation."""
    from models import Claim

    with open_uow(obj["url"]) as uow:
        for claim in uow.session.scalars(select(Claim).order_by(Claim.id)):
            if claim.confidence is None:
                click.echo(f"{claim.key}: not scored yet")
                continue
            status = "" if claim.status == "open" else f" [{claim.status.replace('_', ' ')}]"
            click.echo(
                f"{claim.key}: {claim.confidence:.2f} ({claim.confidence_lower:.2f}–"
                f"{claim.confidence_upper:.2f}) {claim.label}, grade {claim.grade}, "
                f"{count_of(claim.n_reports, 'report')} in "
                f"{count_of(claim.n_clusters, 'cluster')}{status}"
            )
            if explain:
                for part in claim.explanation or []:
                    click.echo(
                        f"    {part['log_odds']:+.2f} log-odds ({part['probability_points']:+.1f}"
                        f" pts)  {part['reason']}"
                    )


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--without-key-hashes",
    is_flag=True,
    help="Leave out API-key hashes: restored keys are then revoked and must be reissued.",
)
@click.pass_obj
def backup(obj: dict, path: str, without_key_hashes: bool) -> None:
    """Write the whole database to PATH ('-': stdout) as JSON Lines.

    One consistent snapshot (a REPEATABLE READ transaction on PostgreSQL), safe to take
    while the service runs: model versions, API-key metadata (hashes, never keys),
    outlets with their priors, claims with their scores, verdicts, every report as an
    interchange-format record (retracted ones too), score history and the audit log.
    """
    from service.operations.backup import backup_to

    engine = make_engine(obj["url"])
    try:
        with click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as stream:
            counts = backup_to(engine, stream, key_hashes=not without_key_hashes)
    finally:
        engine.dispose()
    nouns = {
        "score_history": ("score history row", None),
        "audit": ("audit entry", "audit entries"),
        "delivery": ("delivery", "deliveries"),
    }
    summary = ", ".join(
        count_of(count, *nouns.get(kind, (kind.replace("_", " "), None)))
        for kind, count in counts.items()
    )
    where = "" if path == "-" else f" to {path}"
    click.echo(f"backed up {summary}{where}", err=path == "-")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--replace",
    is_flag=True,
    help="Delete what the database holds first (in the same transaction).",
)
@click.pass_obj
def restore(obj: dict, path: str, replace: bool) -> None:
    """Restore a backup written by 'srs backup' into an empty, migrated database.

    All or nothing: every line is checked, the first bad one stops the restore naming its
    line and field, and the database is left as it was. A database that holds any row
    is refused unless --replace is given. Afterwards the stored scores are compared with
    a batch recompute ('srs check').
    """
    from service.operations.backup import NotEmpty, restore_from

    engine = make_engine(obj["url"])
    try:
        with click.open_file(path, "r", encoding="utf-8") as stream:
            counts = restore_from(engine, stream, replace=replace)
    except NotEmpty as error:
        fail(str(error))
    except RecordError as error:
        fail(f"{path}: {error}; nothing was restored")
    finally:
        engine.dispose()
    summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())
    click.echo(f"restored {summary}")
    _report_consistency(obj["url"])


@click.command()
@click.pass_obj
def check(obj: dict) -> None:
    """Check that the database is whole: every claim's stored score equals a batch
    recompute, its history ends at its score, every idempotent response names stored
    rows. Exits 1 and lists what is wrong otherwise (e.g. after a crash or a restore)."""
    if not _report_consistency(obj["url"]):
        sys.exit(1)


def _report_consistency(url: str) -> bool:
    from service.operations.consistency import check_consistency

    with open_uow(url) as uow:
        report = check_consistency(uow.session)
    checked = ", ".join(f"{count} {name}" for name, count in report.checked.items())
    click.echo(f"checked {checked}: {len(report.findings)} problems")
    for finding in report.findings[:50]:
        click.echo(f"  {finding.check}: {finding.subject}: {finding.message}", err=True)
    return report.ok
