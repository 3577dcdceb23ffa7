"""The scoring model: ``srs fit`` (learn from verdicts, activate), ``srs synth`` (a synthetic
dataset) and ``srs evaluate`` (cross-validation against baselines)."""

from __future__ import annotations

import click

from models.database import UnitOfWork, make_engine, make_session_factory
from scoring.interchange import RecordError
from scoring.stories import STORY_RULES
from service.cli.common import fail


@click.command()
@click.option(
    "--force",
    is_flag=True,
    help="Activate even when fitted on fewer than --min-resolved resolved claims (or "
    "--min-each-verdict of either verdict), or worse than the active model beyond noise.",
)
@click.option(
    "--min-resolved", default=30, show_default=True, help="Resolved claims needed to activate."
)
@click.option(
    "--min-each-verdict",
    default=10,
    show_default=True,
    help="True and false claims each needed to activate.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fit and compare, store nothing: print how many open claims would change label "
    "and the largest moves (claim id and key, old → new confidence).",
)
@click.option(
    "--wording",
    is_flag=True,
    help="Fit with the wording model on (hedging and assertion cues in reports' quotes; off "
    "by default: no real data here shows it helps, see the README).",
)
@click.pass_obj
def fit(
    obj: dict, force: bool, min_resolved: int, min_each_verdict: int, dry_run: bool, wording: bool
) -> None:
    """Learn outlet and attribution reliability from resolved claims; activate the result.

    Stores a new model version (parameters, training summary, comparison) and makes it
    active, then rescores every open claim with it, naming the version in their history.

    Before activating, the new version is compared with the active one on the resolved
    claims: its out-of-fold confidences against the active model's on the claims whose
    verdicts the active model has not seen (all of them for the documented priors), by
    Brier score with a paired bootstrap 95 % interval of the difference. The figures are
    printed. A version fitted on too few verdicts, or whose interval lies wholly above 0
    (worse beyond noise), is stored but not activated, and the command exits with status 2,
    unless --force is given. `prior-1` can always be activated again through the API.
    """
    from service.newsroom.learning import NotEnoughHistory

    engine = make_engine(obj["url"])
    factory = make_session_factory(engine)
    try:
        if dry_run:
            _dry_run(factory, wording)
            return
        _fit_and_activate(factory, force, min_resolved, min_each_verdict, wording)
    except NotEnoughHistory as error:
        fail(str(error))


def _print_comparison(metrics: dict) -> None:
    from scoring.rollout import ModelComparison

    comparison = metrics.get("comparison")
    if comparison is None:
        click.echo(f"no comparison with the active model: {metrics.get('comparison_skipped')}")
        return
    fields = {k: v for k, v in comparison.items() if k != "candidate_worse"}
    click.echo(ModelComparison(**{**fields, "interval": tuple(fields["interval"])}).describe())


def _fit_and_activate(
    factory, force: bool, min_resolved: int, min_each_verdict: int, wording: bool
) -> None:
    from service.newsroom.learning import (
        RolloutRule,
        UnsafeRollout,
        activate_fitted,
        fit_model_version,
        rescore_open_claims,
    )

    refused = None
    with UnitOfWork(factory) as uow:
        stored = fit_model_version(uow.session, wording=wording)
        try:
            rule = RolloutRule(min_resolved, min_each_verdict)
            activate_fitted(uow.session, stored, force=force, rule=rule)
        except UnsafeRollout as error:
            refused = str(error)
        uow.commit()
        version, summary, metrics = stored.version, stored.training_summary, stored.metrics
    _print_comparison(metrics)
    if refused is not None:
        fail(refused)
    click.echo(
        f"model {version} fitted on {summary['resolved_claims']} resolved claims "
        f"({summary['reports']} reports) and activated"
    )
    count = rescore_open_claims(factory, cause=f"model {version} activated")
    click.echo(f"rescored {count} open claims")


def _dry_run(factory, wording: bool) -> None:
    from service.newsroom.learning import dry_run

    with UnitOfWork(factory) as uow:
        result = dry_run(uow.session, wording=wording)  # reads only; the unit of work rolls back
    summary = result.candidate.training_summary
    click.echo(
        f"dry run: fitted on {summary['resolved_claims']} resolved claims "
        f"({summary['reports']} reports); nothing stored"
    )
    _print_comparison(result.candidate.metrics)
    click.echo(f"{result.label_changes} of {result.open_claims} open claims would change label")
    if result.largest_moves:
        click.echo("largest moves:")
    for move in result.largest_moves:
        old = "none" if move.old_confidence is None else f"{move.old_confidence:.3f}"
        click.echo(
            f"  claim {move.claim_id} {move.claim_key}: {old} → {move.new_confidence:.3f} "
            f"({move.old_label or 'unscored'} → {move.new_label})"
        )


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
    "--wording",
    is_flag=True,
    help="Also fit each fold with the wording model (hedging and assertion cues in each "
    "report's quote, multipliers chosen on the training folds only): adds the row 'wording' "
    "and the paired bootstrap interval of wording − model; doubles the fitting time.",
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
    wording: bool,
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
    Claims with a null verdict help fitting only. Claims' stories (the file's story field,
    or --derive-story) give the model a shrunk base rate per story, learned from the
    training claims of each story; the baselines do not use them. With --wording, the model
    fitted with the wording model as well (row 'wording').
    """
    import json
    from pathlib import Path

    from scoring.evaluation import evaluate_records, format_report, write_plots
    from scoring.interchange import check_consistency, read_records
    from scoring.stories import derive_stories

    if split and group_by and split != group_by:
        fail(f"--split {split} and --group-by {group_by} disagree")
    try:
        with open(path, encoding="utf-8") as lines:
            records = check_consistency(read_records(lines))
        if derive_story:
            records = derive_stories(records, derive_story)
        result = evaluate_records(
            records,
            folds=folds,
            seed=seed,
            seeds=seeds,
            split=split or group_by or "claim",
            wording=wording,
        )
    except RecordError as error:
        fail(f"{path}: {error}")
    except ValueError as error:
        fail(f"{path}: {error}")
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
