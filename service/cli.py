"""The ``srs`` command line: serve, worker, migrate, seed, rescore, keys, import and export.

Every command reads the database from ``DATABASE_URL`` (default: the embedded SQLite file
under ``instance/``), so the same commands drive SQLite and PostgreSQL.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from models.database import UnitOfWork, default_database_url, make_engine, make_session_factory
from scoring.interchange import RecordError
from scoring.stories import STORY_RULES

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _uow(url: str) -> UnitOfWork:
    return UnitOfWork(make_session_factory(make_engine(url)))


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--database-url",
    envvar="DATABASE_URL",
    default=None,
    help="Database to use (env DATABASE_URL; default: the embedded SQLite file).",
)
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Source-reliability scoring: how confident to be that a reported claim is true."""
    from models.database import normalize_url

    ctx.obj = {"url": normalize_url(database_url) if database_url else default_database_url()}


# -- serving ---------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", type=int, help="gunicorn workers (default: SRS_WORKERS, else one per core)."
)
@click.option("--threads", type=int, help="Threads per worker (default: SRS_THREADS, else 4).")
@click.pass_obj
def serve(obj: dict, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the API under gunicorn until interrupted (production settings: see the
    README, "Serving in production").

    Logs are JSON lines on stderr (SRS_LOG_FORMAT=text for plain text, SRS_LOG_LEVEL for the
    level), one access line per request with its X-Request-ID; metrics are at /metrics.
    """
    from service.config import load_config
    from service.serving import run_gunicorn

    config = load_config()
    run_gunicorn(
        obj["url"],
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        log_level=config["LOG_LEVEL"],
        log_format=config["LOG_FORMAT"],
    )


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll-interval", default=1.0, show_default=True, help="Seconds between polls when idle."
)
@click.option("--batch-size", default=10, show_default=True, help="Deliveries claimed at once.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for a reply.")
@click.option(
    "--max-attempts", default=10, show_default=True, help="Attempts before a delivery fails."
)
@click.option(
    "--backoff-base", default=5.0, show_default=True, help="Seconds before the first retry."
)
@click.option("--backoff-max", default=3600.0, show_default=True, help="Longest retry delay (s).")
@click.option(
    "--retention-days",
    default=14.0,
    show_default=True,
    help="Delete events that owe nothing after this many days (0: keep them).",
)
@click.pass_obj
def worker(
    obj: dict,
    once: bool,
    poll_interval: float,
    batch_size: int,
    timeout: float,
    max_attempts: int,
    backoff_base: float,
    backoff_max: float,
    retention_days: float,
) -> None:
    """Deliver subscribed events to their webhooks: signed, retried with backoff, at least
    once. Stops cleanly on SIGTERM or Ctrl-C after the requests in flight.

    Logs one line per delivery attempt on stderr (JSON unless SRS_LOG_FORMAT=text).
    """
    import logging.config
    from datetime import timedelta

    from service.config import load_config
    from service.observability import logging_config
    from service.worker import WorkerSettings, run_worker

    for name, value in (("--batch-size", batch_size), ("--max-attempts", max_attempts)):
        if value < 1:
            _fail(f"{name} must be at least 1")
    for name, value in (("--poll-interval", poll_interval), ("--timeout", timeout)):
        if value <= 0:
            _fail(f"{name} must be positive")
    config = load_config()
    logging.config.dictConfig(logging_config(config["LOG_LEVEL"], config["LOG_FORMAT"]))
    settings = WorkerSettings(
        poll_interval=poll_interval,
        batch_size=batch_size,
        timeout=timeout,
        max_attempts=max_attempts,
        backoff_base=backoff_base,
        backoff_max=backoff_max,
        retention=timedelta(days=retention_days) if retention_days > 0 else None,
    )
    delivered = run_worker(obj["url"], settings, once=once)
    if once:
        click.echo(f"worked through {delivered} deliveries")


# -- database --------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(obj: dict, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from models.migrate import current_revision, upgrade

    upgrade(obj["url"], revision)
    click.echo(f"database at revision {current_revision(obj['url'])}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(obj: dict, revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from models.migrate import current_revision, downgrade

    downgrade(obj["url"], revision)
    click.echo(f"database at revision {current_revision(obj['url']) or 'base'}")


@db.command("current")
@click.pass_obj
def db_current(obj: dict) -> None:
    """Print the database's current revision."""
    from models.migrate import current_revision

    click.echo(current_revision(obj["url"]) or "base")


# -- data ------------------------------------------------------------------------------------
@main.command()
@click.pass_obj
def seed(obj: dict) -> None:
    """Load the seed story (outlets, claims, reports); running it twice changes nothing."""
    from service.importing import load_seed_story

    try:
        with _uow(obj["url"]) as uow:
            summary = load_seed_story(uow.session)
            uow.commit()
    except RecordError as error:
        _fail(f"seed data: {error}")
    click.echo(
        f"seed story: {summary.outlets_created} outlets, {summary.claims_created} claims, "
        f"{summary.reports_created} reports created; {summary.reports_unchanged} already there"
    )


@main.command("import")
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
    stops the import with its line number and field; batches before it stay stored.
    """
    from service.importing import import_file

    show = sys.stderr.isatty() if progress is None else progress
    try:
        summary = import_file(obj["url"], path, batch_size=batch_size, progress=show, bulk=bulk)
    except RecordError as error:
        _fail(f"{path}: {error}")
    click.echo(
        f"imported {summary.reports_created} reports ({summary.reports_unchanged} already "
        f"there), {summary.claims_created} new claims, {summary.outlets_created} new outlets, "
        f"{summary.verdicts_created} verdicts"
    )


@main.command()
@click.option("--out", "out_path", default="-", help="File to write (default: stdout).")
@click.pass_obj
def export(obj: dict, out_path: str) -> None:
    """Export every live report in the interchange format (JSON Lines), streaming."""
    from scoring.interchange import write_records
    from service.importing import export_records

    with click.open_file(out_path, "w", encoding="utf-8") as stream, _uow(obj["url"]) as uow:
        count = write_records(export_records(uow.session), stream)
    click.echo(f"exported {count} reports", err=True)


@main.command()
@click.pass_obj
def rescore(obj: dict) -> None:
    """Recompute every claim's score from its reports with the active model."""
    from service.importing import rescore_all

    with _uow(obj["url"]) as uow:
        count, changed = rescore_all(uow.session, cause="batch rescore")
        uow.commit()
    click.echo(f"rescored {count} claims; {changed} changed")


@main.command()
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

    with _uow(obj["url"]) as uow:
        for claim in uow.session.scalars(select(Claim).order_by(Claim.id)):
            if claim.confidence is None:
                click.echo(f"{claim.key}: not scored yet")
                continue
            status = "" if claim.status == "open" else f" [{claim.status.replace('_', ' ')}]"
            click.echo(
                f"{claim.key}: {claim.confidence:.2f} ({claim.confidence_lower:.2f}–"
                f"{claim.confidence_upper:.2f}) {claim.label}, grade {claim.grade}, "
                f"{claim.n_reports} reports in {claim.n_clusters} clusters{status}"
            )
            if explain:
                for part in claim.explanation or []:
                    click.echo(
                        f"    {part['log_odds']:+.2f} log-odds ({part['probability_points']:+.1f}"
                        f" pts)  {part['reason']}"
                    )


# -- learning --------------------------------------------------------------------------------
@main.command()
@click.pass_obj
def fit(obj: dict) -> None:
    """Learn outlet and attribution reliability from resolved claims; activate the result.

    Stores a new model version (parameters, calibration, training summary), makes it
    active, then rescores every open claim with it, naming the version in their history.
    """
    from service.learning import NotEnoughHistory, activate, fit_model_version, rescore_open_claims

    engine = make_engine(obj["url"])
    factory = make_session_factory(engine)
    try:
        with UnitOfWork(factory) as uow:
            stored = fit_model_version(uow.session)
            activate(uow.session, stored.version)
            uow.commit()
            version, summary = stored.version, stored.training_summary
    except NotEnoughHistory as error:
        _fail(str(error))
    click.echo(
        f"model {version} fitted on {summary['resolved_claims']} resolved claims "
        f"({summary['reports']} reports) and activated"
    )
    count = rescore_open_claims(factory, cause=f"model {version} activated")
    click.echo(f"rescored {count} open claims")


@main.command()
@click.option("--claims", "n_claims", default=2000, show_default=True, help="Claims to draw.")
@click.option("--outlets", "n_outlets", default=100, show_default=True, help="Outlets to draw.")
@click.option(
    "--echo-outlets", default=0, show_default=True, help="Unreliable outlets that others copy."
)
@click.option(
    "--copies-per-echo",
    default=0,
    show_default=True,
    help="Copying outlets per echoed outlet (copies carry 'cites').",
)
@click.option(
    "--unlabelled",
    default=0.0,
    show_default=True,
    help="Share of claims whose verdict is left null.",
)
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--out", "out_path", default="-", help="File to write (default: stdout).")
def synth(n_claims, n_outlets, echo_outlets, copies_per_echo, unlabelled, seed, out_path):
    """Write a synthetic dataset in the interchange format, from a known hidden model
    (outlet reliabilities, attribution effects, echo chains, interested-party denials)."""
    from scoring.interchange import write_records
    from scoring.synth import generate

    try:
        dataset = generate(
            n_claims,
            n_outlets,
            seed,
            echo_outlets=echo_outlets,
            copies_per_echo=copies_per_echo,
            unlabelled_fraction=unlabelled,
        )
    except ValueError as error:
        _fail(str(error))
    with click.open_file(out_path, "w", encoding="utf-8") as stream:
        count = write_records(dataset.records, stream)
    click.echo(f"wrote {count} reports of {n_claims} claims", err=True)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option("--seed", default=0, show_default=True, help="Seed of the first fold split.")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Repeat the folds with seeds SEED, SEED+1, …; metrics are mean ± sd over them "
    "(default: 5 for files under 5,000 claims, else 1).",
)
@click.option(
    "--split",
    type=click.Choice(["claim", "story", "outlet"]),
    default=None,
    help="claim: folds grouped by claim (default); story: whole stories held out; outlet: "
    "test claims' outlets removed from training (unseen outlets).",
)
@click.option(
    "--group-by",
    type=click.Choice(["claim", "story"]),
    default=None,
    help="Same as --split claim / --split story.",
)
@click.option(
    "--derive-story",
    type=click.Choice(sorted(STORY_RULES)),
    default=None,
    help="Give claims without a story the one named in their text. parenthesised: the "
    "name in parentheses ending the claim text, e.g. RumourEval's 'Rumour thread … "
    "(charliehebdo)' → charliehebdo.",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write metrics.json, reliability_diagram.png and roc.png here.",
)
def evaluate(
    path: str,
    folds: int,
    seed: int,
    seeds: int | None,
    split: str | None,
    group_by: str | None,
    derive_story: str | None,
    out_dir: str | None,
) -> None:
    """Cross-validate the deployed scorer against baselines on FILE.

    In each fold the model is fitted as `srs fit` deploys it, calibrator included, on the
    training claims only, and the test claims are scored from their reports alone by the
    engine with those parameters (the model row: what the service would store). Prints
    accuracy, ROC AUC, Brier, log loss and ECE (mean ± sd over seeds) for the model, the
    model without calibration, and the baselines: majority of stances, logistic regression
    on raw stance counts, logistic regression and gradient boosting on log counts, shares
    and an any-denial flag, and the unlearned prior model. Then the paired bootstrap 95 %
    interval of model minus the best baseline (lowest Brier) for AUC and Brier, the
    model's ECE interval, and the coverage of the 90 % interval on time-ordered reports.
    Claims with a null verdict help fitting only.
    """
    import json
    from pathlib import Path

    from scoring.evaluation import evaluate_records, format_report, write_plots
    from scoring.interchange import check_consistency, read_records
    from scoring.stories import derive_stories

    if split and group_by and split != group_by:
        _fail(f"--split {split} and --group-by {group_by} disagree")
    try:
        with open(path, encoding="utf-8") as lines:
            records = check_consistency(read_records(lines))
        if derive_story:
            records = derive_stories(records, derive_story)
        result = evaluate_records(
            records, folds=folds, seed=seed, seeds=seeds, split=split or group_by or "claim"
        )
    except RecordError as error:
        _fail(f"{path}: {error}")
    except ValueError as error:
        _fail(f"{path}: {error}")
    metrics = result.to_json()
    for line in format_report(metrics):
        click.echo(line)
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        for written in write_plots(result, out):
            click.echo(f"wrote {written}", err=True)
        click.echo(f"wrote {out / 'metrics.json'}", err=True)


# -- keys ------------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """API keys: create, list, revoke."""


@keys.command("create")
@click.option("--scope", type=click.Choice(["read", "write", "verdict", "admin"]), required=True)
@click.option("--name", required=True, help="Who holds the key, e.g. 'newsroom cms'.")
@click.pass_obj
def keys_create(obj: dict, scope: str, name: str) -> None:
    """Create a key and print it once; only its hash is stored."""
    from service.keys import issue_key

    with _uow(obj["url"]) as uow:
        issued = issue_key(uow.session, name, scope)
        uow.commit()
    click.echo(f"key {issued.id} ({issued.scope}, {issued.name}): {issued.key}")
    click.echo("Store it now: it cannot be shown again.", err=True)


@keys.command("bootstrap")
@click.pass_obj
def keys_bootstrap(obj: dict) -> None:
    """Create and print an admin key if no live key exists yet (first start)."""
    from models import ApiKey
    from service.keys import issue_key

    with _uow(obj["url"]) as uow:
        live = uow.session.scalars(select(ApiKey.id).where(ApiKey.revoked_at.is_(None))).first()
        if live is not None:
            click.echo("API keys exist already; create more with 'srs keys create'.")
            return
        issued = issue_key(uow.session, "first admin (make run)", "admin")
        uow.commit()
    click.echo(f"Admin API key (shown once): {issued.key}")


@keys.command("list")
@click.pass_obj
def keys_list(obj: dict) -> None:
    """List keys: id, prefix, scope, name, state (never the keys themselves)."""
    from models import ApiKey

    with _uow(obj["url"]) as uow:
        for row in uow.session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            click.echo(f"{row.id}\t{row.prefix}…\t{row.scope}\t{row.name}\t{state}")


@keys.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
def keys_revoke(obj: dict, key_id: int) -> None:
    """Revoke the key with id KEY_ID; requests with it are refused from now on."""
    from service.keys import revoke_key

    with _uow(obj["url"]) as uow:
        row = revoke_key(uow.session, key_id)
        if row is None:
            _fail(f"no key with id {key_id}")
        uow.commit()
    click.echo(f"key {key_id} revoked")


# -- backup, restore, check --------------------------------------------------------------------
@main.command()
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
    from service.backup import backup_to

    engine = make_engine(obj["url"])
    try:
        with click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as stream:
            counts = backup_to(engine, stream, key_hashes=not without_key_hashes)
    finally:
        engine.dispose()
    summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())
    click.echo(f"backed up {summary}", err=True)


@main.command()
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
    from service.backup import NotEmpty, restore_from

    engine = make_engine(obj["url"])
    try:
        with click.open_file(path, "r", encoding="utf-8") as stream:
            counts = restore_from(engine, stream, replace=replace)
    except NotEmpty as error:
        _fail(str(error))
    except RecordError as error:
        _fail(f"{path}: {error}; nothing was restored")
    finally:
        engine.dispose()
    summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())
    click.echo(f"restored {summary}")
    _report_consistency(obj["url"])


@main.command()
@click.pass_obj
def check(obj: dict) -> None:
    """Check that the database is whole: every claim's stored score equals a batch
    recompute, its history ends at its score, every idempotent response names stored
    rows. Exits 1 and lists what is wrong otherwise (e.g. after a crash or a restore)."""
    if not _report_consistency(obj["url"]):
        sys.exit(1)


def _report_consistency(url: str) -> bool:
    from service.consistency import check_consistency

    with _uow(url) as uow:
        report = check_consistency(uow.session)
    checked = ", ".join(f"{count} {name}" for name, count in report.checked.items())
    click.echo(f"checked {checked}: {len(report.findings)} problems")
    for finding in report.findings[:50]:
        click.echo(f"  {finding.check}: {finding.subject}: {finding.message}", err=True)
    return report.ok


if __name__ == "__main__":  # pragma: no cover
    main()
