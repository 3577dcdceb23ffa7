"""The scoring model: ``srs fit`` (learn from verdicts, activate), ``srs synth`` (a synthetic
dataset) and ``srs evaluate`` (cross-validation against baselines)."""

from __future__ import annotations

import click

from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import RecordError
from service.cli.common import fail


@click.command()
@click.pass_obj
def fit(obj: dict) -> None:
    """Learn outlet and attribution reliability from resolved claims; activate the result.

    Stores a new model version (parameters, calibration, training summary), makes it
    active, then rescores every open claim with it, naming the version in their history.
    """
    from service.newsroom.learning import (
        NotEnoughHistory,
        activate,
        fit_model_version,
        rescore_open_claims,
    )

    engine = make_engine(obj["url"])
    factory = make_session_factory(engine)
    try:
        with UnitOfWork(factory) as uow:
            stored = fit_model_version(uow.session)
            activate(uow.session, stored.version)
            uow.commit()
            version, summary = stored.version, stored.training_summary
    except NotEnoughHistory as error:
        fail(str(error))
    click.echo(
        f"model {version} fitted on {summary['resolved_claims']} resolved claims "
        f"({summary['reports']} reports) and activated"
    )
    count = rescore_open_claims(factory, cause=f"model {version} activated")
    click.echo(f"rescored {count} open claims")


@click.command()
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
        fail(str(error))
    with click.open_file(out_path, "w", encoding="utf-8") as stream:
        count = write_records(dataset.records, stream)
    click.echo(f"wrote {count} reports of {n_claims} claims", err=True)


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option("--seed", default=0, show_default=True, help="Seed of the fold split.")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write metrics.json, reliability_diagram.png and roc.png here.",
)
def evaluate(path: str, folds: int, seed: int, out_dir: str | None) -> None:
    """Cross-validate the model against baselines on FILE (grouped by claim).

    Fits on the training folds' verdicts, scores the test claims from their reports
    alone, and prints accuracy, ROC AUC, Brier, log loss and ECE for the model and the
    baselines (majority of stances, stance counts through logistic regression, the
    unlearned prior model). Claims with a null verdict help fitting only.
    """
    import json
    from pathlib import Path

    from scoring.evaluation import evaluate_records, write_plots
    from scoring.interchange import check_consistency, read_records

    try:
        with open(path, encoding="utf-8") as lines:
            records = check_consistency(read_records(lines))
        result = evaluate_records(records, folds=folds, seed=seed)
    except RecordError as error:
        fail(f"{path}: {error}")
    except ValueError as error:
        fail(f"{path}: {error}")
    metrics = result.to_json()
    rows = [
        ("model", metrics["model"]),
        *metrics["variants"].items(),
        *metrics["baselines"].items(),
    ]
    click.echo(
        f"{'':22s}{'accuracy':>9s}{'roc_auc':>9s}{'brier':>8s}{'log_loss':>9s}"
        f"{'ece':>7s}{'claims':>8s}"
    )
    for name, row in rows:
        click.echo(
            f"{name:22s}{row['accuracy']:9.3f}{row['roc_auc']:9.3f}{row['brier']:8.3f}"
            f"{row['log_loss']:9.3f}{row['ece']:7.3f}{row['n_claims']:8d}"
        )
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        for written in write_plots(result, out):
            click.echo(f"wrote {written}", err=True)
        click.echo(f"wrote {out / 'metrics.json'}", err=True)
