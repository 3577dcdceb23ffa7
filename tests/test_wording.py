"""Wording as evidence (issue 13, item 10): the cue lexicon, the engine's use of it (off by
default), its fit within the training claims, and ``srs evaluate --wording``."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.attribution import default_parameters
from scoring.engine import score_claim, weigh_report
from scoring.evidence import ReportEvidence, parameters_from_dict, parameters_to_dict
from scoring.wording import WordingModel, wording_cues, wording_factor

LEXICON = WordingModel()


@pytest.mark.parametrize(
    ("quote", "attribution", "expected"),
    [
        ("Hamas leaders reportedly left Qatar", "anonymous_source", (True, False)),
        ("The ALLEGED meeting in Ankara", "unattributed", (True, False)),
        ("Did Hamas move to Turkey?", "unattributed", (True, False)),
        ("Kan claims the leadership has moved", "media_report", (True, False)),
        ("Qatar confirmed the request", "official_statement", (False, True)),
        ("The ministry announced it on Monday", "official_statement", (False, True)),
        ('Blinken: "Qatar asked Hamas to leave"', "named_official", (False, True)),
        ('Blinken: "Qatar asked Hamas to leave"', "anonymous_source", (False, False)),
        ("Unconfirmed reports, later confirmed by Reuters", "unattributed", (True, True)),
        ("The disclaimers were read out", "unattributed", (False, False)),  # not "claims"
        ("وأعلن المتحدث باسم الوزارة", "unattributed", (False, True)),  # and-announced
        ("ترددت انباء عن استقالة رياض حجاب", "unattributed", (True, False)),
        ("والمزاعم التي نشرتها الصحيفة", "unattributed", (True, False)),
        (None, "named_official", (False, False)),
    ],
)
def test_the_lexicon_reads_hedges_and_assertions(quote, attribution, expected):
    assert wording_cues(quote, attribution, LEXICON) == expected


def test_the_multipliers_apply_by_cue_and_are_bounded():
    model = WordingModel(hedge_factor=0.5, assertion_factor=1.5)
    assert wording_factor("reportedly", "unattributed", model) == 0.5
    assert wording_factor("confirmed", "unattributed", model) == 1.5
    assert wording_factor("reportedly confirmed", "unattributed", model) == 0.75
    assert wording_factor("plain words", "unattributed", model) == 1.0
    assert wording_factor("reportedly", "unattributed", None) == 1.0
    with pytest.raises(ValueError):
        WordingModel(hedge_factor=1.2)
    with pytest.raises(ValueError):
        WordingModel(assertion_factor=0.9)


@settings(max_examples=60, deadline=None)
@given(
    quote=st.one_of(st.none(), st.text(max_size=80), st.sampled_from(["reportedly", "confirmed?"])),
    stance=st.sampled_from(["supports", "denies", "neutral"]),
)
def test_off_by_default_a_quote_changes_nothing(quote, stance):
    plain = ReportEvidence("r", "Kan", stance, "anonymous_source", outlet_reliability=0.8)
    worded = dataclasses.replace(plain, quote=quote)
    params = default_parameters()
    assert params.wording is None
    assert score_claim([worded], params) == score_claim([plain], params)


@settings(max_examples=60, deadline=None)
@given(
    hedge=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
    assertion=st.sampled_from([1.0, 1.25, 2.0]),
    stance=st.sampled_from(["supports", "denies"]),
    quote=st.sampled_from(["Hamas reportedly moved", "Turkey confirmed it", "no cue here"]),
)
def test_wording_scales_a_report_by_its_factor_and_the_explanation_says_so(
    hedge, assertion, stance, quote
):
    model = WordingModel(hedge_factor=hedge, assertion_factor=assertion)
    report = ReportEvidence("r", "Kan", stance, "anonymous_source", quote=quote)
    params = dataclasses.replace(default_parameters(), wording=model)
    off = weigh_report(report, default_parameters())
    on = weigh_report(report, params)
    factor = wording_factor(quote, "anonymous_source", model)
    assert on.log_odds == pytest.approx(off.log_odds * factor, rel=1e-12)
    score = score_claim([report], params)
    reason = score.contributions[0].reason
    assert ("hedged wording" in reason) == (factor < 1)
    assert ("asserted wording" in reason) == (factor > 1)
    assert score.prior_log_odds + sum(c.log_odds for c in score.contributions) == pytest.approx(
        score.log_odds, abs=1e-12
    )


def test_the_wording_model_is_stored_with_the_version():
    params = dataclasses.replace(
        default_parameters(), wording=WordingModel(hedge_factor=0.25, assertion_factor=2.0)
    )
    loaded = parameters_from_dict(json.loads(json.dumps(parameters_to_dict(params))))
    assert loaded.wording == params.wording
    assert parameters_from_dict(parameters_to_dict(default_parameters())).wording is None
    stored_before = parameters_to_dict(default_parameters())
    del stored_before["wording"]
    assert parameters_from_dict(stored_before).wording is None


def _records(hedges_are_noise: bool, n_claims: int = 160, seed: int = 3):
    """Claims reported by three outlets each; with ``hedges_are_noise``, a report whose quote
    says "reportedly" is a coin flip, a plain one is right 85 % of the time. Otherwise the
    same reports carry no quote."""
    from scoring.interchange import InterchangeRecord

    rng = np.random.default_rng(seed)
    records = []
    for number in range(n_claims):
        truth = bool(rng.random() < 0.5)
        for slot in range(3):
            hedged = rng.random() < 0.5
            right = rng.random() < (0.5 if hedged else 0.85)
            records.append(
                InterchangeRecord(
                    claim_key=f"c{number}",
                    claim=f"claim {number}",
                    outlet=f"outlet-{number}-{slot}",
                    stance="supports" if right == truth else "denies",
                    verdict=truth,
                    report_key=f"r{number}-{slot}",
                    quote=("Officials reportedly said so" if hedged else "Officials said so")
                    if hedges_are_noise
                    else None,
                )
            )
    return records


def test_the_fit_learns_to_discount_hedged_reports_when_hedges_are_noise():
    from scoring.deployment import fit_scoring_model

    params = fit_scoring_model(_records(True), wording=WordingModel())
    assert params.wording is not None and params.wording.hedge_factor <= 0.5
    losses = params.training_summary["wording_log_loss"]
    assert len(losses) == 16 and min(losses.values()) < losses["1×1"]
    without = fit_scoring_model(_records(True))
    assert without.wording is None  # off unless asked for
    silent = fit_scoring_model(_records(False), wording=WordingModel())
    assert (silent.wording.hedge_factor, silent.wording.assertion_factor) == (1.0, 1.0)


def test_evaluate_reports_the_model_with_and_without_wording(cli_runner, tmp_path):
    from scoring.interchange import write_records
    from service.cli import main

    path = tmp_path / "worded.jsonl"
    with path.open("w") as stream:
        write_records(_records(True), stream)
    out = tmp_path / "eval"
    result = cli_runner.invoke(
        main,
        ["evaluate", str(path), "--folds", "3", "--seeds", "1", "--wording", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    keys = {"accuracy", "roc_auc", "brier", "log_loss", "ece", "n_claims"}
    assert set(metrics["variants"]) == {"uncalibrated", "wording"}
    assert set(metrics["variants"]["wording"]) == keys and set(metrics["model"]) == keys
    assert set(metrics["per_seed"][0]["variants"]) == {"uncalibrated", "wording"}
    worded = metrics["wording_bootstrap"]
    difference = metrics["variants"]["wording"]["brier"] - metrics["model"]["brier"]
    assert worded["difference"]["brier"] == pytest.approx(difference)
    # Hedged reports are coin flips here: discounting them helps, beyond the noise.
    assert worded["brier"][1] < 0
    assert "with wording − without" in result.output
    assert any(line.startswith("wording ") for line in result.output.splitlines())
    plain = cli_runner.invoke(main, ["evaluate", str(path), "--folds", "3", "--seeds", "1"])
    assert "wording" not in plain.output


def test_a_stored_quote_reaches_the_scorer(app, client, auth):
    from sqlalchemy import select

    from models import Claim
    from service.newsroom.stored_reports import evidence_by_claim
    from service.web.database import unit_of_work

    body = {
        "claim_key": "worded",
        "claim": "A claim with a worded report",
        "outlet": "Reuters",
        "stance": "supports",
        "quote": "Hamas reportedly moved to Turkey",
        "new_outlet": True,
    }
    assert client.post("/api/v1/reports", json=body, headers=auth("write")).status_code == 201
    with unit_of_work(app) as uow:
        claim_id = uow.session.scalars(select(Claim.id).where(Claim.key == "worded")).one()
        (report,) = evidence_by_claim(uow.session, [claim_id])[claim_id]
    assert report.quote == "Hamas reportedly moved to Turkey"


def test_srs_fit_wording_stores_the_chosen_multipliers(cli_runner, database_url, tmp_path):
    from sqlalchemy import select

    from models import ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory
    from scoring.interchange import write_records
    from service.cli import main

    path = tmp_path / "worded.jsonl"
    with path.open("w") as stream:
        write_records(_records(True), stream)
    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(path)]).exit_code == 0
    assert cli_runner.invoke(main, [*args, "fit", "--wording"]).exit_code == 0
    assert cli_runner.invoke(main, [*args, "fit"]).exit_code == 0
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        worded, plain = uow.session.scalars(
            select(ModelVersion.parameters).order_by(ModelVersion.id)
        ).all()
    assert worded["wording"]["hedge_factor"] <= 0.5
    assert plain["wording"] is None
