"""Safe model rollouts (issue 13, item 9): a fitted version is compared with the active model
before it is activated, a worse one is stored but not activated unless forced, and
``srs fit --dry-run`` fits and writes nothing."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scoring.rollout import compare_models
from service.cli import main

RESOLVED, OPEN = 100, 20


@pytest.fixture(scope="module")
def sharp_and_blurred_file(tmp_path_factory):
    """Each claim is reported by two outlets seen nowhere else: a sharp one (its stance
    matches the truth 95 % of the time) and a blurred one (a coin flip). From verdicts alone
    no fit can tell them apart; an expert who knows which is which can."""
    rng = np.random.default_rng(7)
    lines = []
    for number in range(RESOLVED + OPEN):
        truth = bool(rng.random() < 0.5)
        for outlet, reliability in ((f"sharp-{number}", 0.95), (f"blurred-{number}", 0.5)):
            right = rng.random() < reliability
            stance = "supports" if right == truth else "denies"
            record = {
                "claim_key": f"claim-{number:03d}",
                "claim": f"Claim number {number}",
                "verdict": truth if number < RESOLVED else None,
                "report_key": f"r-{number}-{outlet}",
                "outlet": outlet,
                "stance": stance,
            }
            lines.append(json.dumps(record))
    path = tmp_path_factory.mktemp("rollouts") / "sharp.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def expert_parameters():
    """Hand-set parameters that know each outlet's reliability and learned from no verdict."""
    from scoring.evidence import ModelParameters

    reliability = {}
    for number in range(RESOLVED + OPEN):
        reliability[f"sharp-{number}"] = 0.95
        reliability[f"blurred-{number}"] = 0.5
    return ModelParameters(
        version="expert-1",
        outlet_reliability=reliability,
        attribution_credibility={"unattributed": 0.99},
    )


def install_expert(database_url: str) -> None:
    from models import ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory
    from service.newsroom.model_store import parameters_to_json

    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        uow.session.add(
            ModelVersion(
                version="expert-1",
                active=True,
                parameters=parameters_to_json(expert_parameters()),
                training_summary=None,
                metrics={},
            )
        )
        uow.commit()


def table_counts(database_url: str) -> dict[str, int]:
    from models import Claim, ModelVersion, OutboxEvent, ScoreHistory
    from models.database import UnitOfWork, make_engine, make_session_factory

    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        return {
            table.__tablename__: uow.session.scalar(select(func.count()).select_from(table))
            for table in (ModelVersion, ScoreHistory, OutboxEvent, Claim)
        }


def stored_scores(database_url: str) -> dict[str, tuple]:
    from models import Claim
    from models.database import UnitOfWork, make_engine, make_session_factory

    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        rows = uow.session.execute(
            select(Claim.key, Claim.confidence, Claim.label, Claim.model_version)
        )
        return {key: (confidence, label, version) for key, confidence, label, version in rows}


def active_version(database_url: str) -> str:
    from models import ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory

    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        return uow.session.scalars(
            select(ModelVersion.version).where(ModelVersion.active.is_(True))
        ).one()


# -- the comparison itself ---------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    verdicts=st.lists(st.booleans(), min_size=12, max_size=60),
    confidences=st.data(),
)
def test_a_model_compared_with_itself_is_never_worse_beyond_noise(verdicts, confidences):
    values = confidences.draw(
        st.lists(st.floats(0.01, 0.99), min_size=len(verdicts), max_size=len(verdicts))
    )
    keys = [f"c{i}" for i in range(len(verdicts))]
    same = dict(zip(keys, values, strict=True))
    result = compare_models(same, same, dict(zip(keys, verdicts, strict=True)), "active")
    assert result.difference == 0.0 and result.interval == (0.0, 0.0)
    assert not result.candidate_worse and result.claims == len(keys)


def test_a_candidate_far_from_the_verdicts_is_worse_beyond_noise_and_the_reverse_is_not():
    rng = np.random.default_rng(1)
    verdicts = {f"c{i}": bool(v) for i, v in enumerate(rng.random(80) < 0.5)}
    good = {k: 0.85 if v else 0.15 for k, v in verdicts.items()}
    poor = {k: 0.5 for k in verdicts}
    worse = compare_models(poor, good, verdicts, "good")
    assert worse.candidate_brier == pytest.approx(0.25)
    assert worse.active_brier == pytest.approx(0.0225)
    assert worse.candidate_worse and worse.interval[0] > 0
    better = compare_models(good, poor, verdicts, "poor")
    assert not better.candidate_worse and better.interval[1] < 0
    assert better.difference == pytest.approx(-worse.difference)


def test_compared_only_on_claims_all_three_share():
    result = compare_models(
        {"a": 1.0, "b": 0.0, "x": 0.3},
        {"a": 0.5, "b": 0.5},
        {"a": True, "b": False, "y": True},
        "m",
    )
    assert result.claims == 2 and result.candidate_brier == 0.0
    with pytest.raises(ValueError, match="no resolved claim"):
        compare_models({"a": 1.0}, {"b": 0.5}, {"a": True}, "m")


# -- srs fit -------------------------------------------------------------------------------
def _figures(output: str) -> tuple[float, float, float, float, float]:
    found = re.search(
        r"candidate (\d\.\d+) \(out of fold\), active \S+ (\d\.\d+); difference ([+-]\d\.\d+), "
        r"95 % interval \[([+-]\d\.\d+), ([+-]\d\.\d+)\]",
        output,
    )
    assert found, output
    return tuple(float(v) for v in found.groups())  # type: ignore[return-value]


def test_fit_refuses_a_candidate_worse_than_the_active_model_unless_forced(
    cli_runner, database_url, sharp_and_blurred_file
):
    from models import ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(sharp_and_blurred_file)]).exit_code == 0
    install_expert(database_url)
    before = stored_scores(database_url)
    refused = cli_runner.invoke(main, [*args, "fit"])
    assert refused.exit_code == 2, refused.output
    candidate, active, difference, low, high = _figures(refused.output)
    assert "active expert-1" in refused.output and f"Brier on {RESOLVED} resolved" in refused.output
    assert candidate > active and difference == pytest.approx(candidate - active, abs=2e-4)
    assert 0 < low <= difference <= high
    assert "worse than the active model expert-1" in refused.output
    assert "stored but not activated" in refused.output
    assert active_version(database_url) == "expert-1"
    assert stored_scores(database_url) == before
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        stored = uow.session.scalars(
            select(ModelVersion).where(ModelVersion.version != "expert-1")
        ).one()
        comparison = stored.metrics["comparison"]
        assert not stored.active and comparison["candidate_worse"] is True
        assert comparison["active_version"] == "expert-1" and comparison["claims"] == RESOLVED
        assert comparison["candidate_brier"] == pytest.approx(candidate, abs=1e-4)
    forced = cli_runner.invoke(main, [*args, "fit", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "and activated" in forced.output and active_version(database_url) != "expert-1"


def test_fit_activates_a_candidate_better_than_the_priors_and_prints_both_figures(
    cli_runner, database_url, sharp_and_blurred_file
):
    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(sharp_and_blurred_file)]).exit_code == 0
    result = cli_runner.invoke(main, [*args, "fit"])
    assert result.exit_code == 0, result.output
    candidate, active, difference, low, high = _figures(result.output)
    assert "active prior-1" in result.output
    assert candidate < active and low <= difference <= high < 0
    assert active_version(database_url) != "prior-1"
    # A refit on unchanged data: the active version has seen every verdict, so judging it
    # on them would flatter it; no fair comparison is possible and none is made.
    again = cli_runner.invoke(main, [*args, "fit"])
    assert again.exit_code == 0, again.output
    assert "no comparison with the active model: 0 resolved claims" in again.output


def test_a_version_stored_without_its_verdict_record_is_judged_on_later_verdicts(
    cli_runner, database_url, sharp_and_blurred_file
):
    """Versions fitted before ``verdicts_through`` existed: what they saw is read from when
    they were stored."""
    from datetime import timedelta

    from models import ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(sharp_and_blurred_file)]).exit_code == 0
    assert cli_runner.invoke(main, [*args, "fit"]).exit_code == 0

    def make_old(stored_before_verdicts: bool) -> None:
        with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
            active = uow.session.scalars(select(ModelVersion).where(ModelVersion.active)).one()
            summary = dict(active.training_summary)
            summary.pop("verdicts_through", None)
            active.training_summary = summary
            if stored_before_verdicts:
                active.created_at = active.created_at - timedelta(days=1)
            uow.commit()

    make_old(stored_before_verdicts=False)
    again = cli_runner.invoke(main, [*args, "fit"])
    assert again.exit_code == 0, again.output
    assert "no comparison with the active model: 0 resolved claims" in again.output
    make_old(stored_before_verdicts=True)
    judged = cli_runner.invoke(main, [*args, "fit"])
    # Compared on every claim. (Here the active version did see those verdicts, its stored
    # time having been moved back, so it scores them in sample and the candidate loses.)
    assert f"Brier on {RESOLVED} resolved claims" in judged.output
    assert judged.exit_code == 2, judged.output


def test_dry_run_writes_nothing_and_names_the_moves(
    cli_runner, database_url, sharp_and_blurred_file
):
    from models import Claim, Outlet
    from models.database import UnitOfWork, make_engine, make_session_factory
    from scoring.deployment import fit_scoring_model
    from scoring.engine import score_claim
    from scoring.interchange import records_evidence
    from service.newsroom.stored_reports import export_records

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(sharp_and_blurred_file)]).exit_code == 0
    before, counts = stored_scores(database_url), table_counts(database_url)
    result = cli_runner.invoke(main, [*args, "fit", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert stored_scores(database_url) == before and table_counts(database_url) == counts
    assert counts["model_versions"] == 0
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        session = uow.session
        records = list(export_records(session))
        kinds = dict(session.execute(select(Outlet.name, Outlet.kind)).all())
        priors = {
            name: prior
            for name, prior in session.execute(select(Outlet.name, Outlet.prior_reliability))
            if prior is not None
        }
        ids = dict(session.execute(select(Claim.key, Claim.id)).all())
    params = fit_scoring_model(records, outlet_kinds=kinds, outlet_priors=priors)
    evidence = records_evidence(records, kinds, priors)
    moves = []
    for key, (confidence, _label, _) in before.items():
        if int(key.split("-")[1]) >= RESOLVED:
            score = score_claim(evidence[key], params)
            moves.append((abs(score.confidence - confidence), key, confidence, score))
    changed = sum(score.label != before[key][1] for _, key, _, score in moves)
    assert f"{changed} of {OPEN} open claims would change label" in result.output
    lines = result.output.splitlines()
    listed = lines[lines.index("largest moves:") + 1 :]
    assert len(listed) == 10
    _, key, old, score = max(moves, key=lambda move: move[0])
    assert listed[0] == (
        f"  claim {ids[key]} {key}: {old:.3f} → {score.confidence:.3f} "
        f"({before[key][1]} → {score.label})"
    )
    assert "nothing stored" in result.output and "active prior-1" in result.output


# -- POST /api/v1/models -------------------------------------------------------------------
def _join_background(app) -> None:
    for thread in app.extensions.get("srs.background", []):
        thread.join(timeout=60)


def test_models_api_refuses_a_worse_candidate_with_both_figures_and_force_activates_it(
    app, client, auth, sharp_and_blurred_file
):
    from service.operations.importing import import_file

    import_file(app.config["DATABASE_URL"], str(sharp_and_blurred_file))
    install_expert(app.config["DATABASE_URL"])
    fitted = client.post("/api/v1/models", headers=auth("admin"))
    assert fitted.status_code == 201, fitted.get_json()
    body = fitted.get_json()
    comparison = body["comparison"]
    assert (
        not body["active"] and "worse than the active model expert-1" in body["activation_refused"]
    )
    assert comparison["active_version"] == "expert-1" and comparison["claims"] == RESOLVED
    assert comparison["candidate_worse"] is True and comparison["level"] == 0.95
    assert comparison["candidate_brier"] > comparison["active_brier"]
    low, high = comparison["interval"]
    assert 0 < low <= comparison["difference"] <= high
    listed = client.get("/api/v1/models", headers=auth("read")).get_json()
    assert [m["version"] for m in listed if m["active"]] == ["expert-1"]
    assert listed[0]["comparison"] == comparison
    forced = client.post("/api/v1/models?force=true", headers=auth("admin"))
    assert forced.status_code == 201 and forced.get_json()["active"]
    assert forced.get_json()["comparison"]["candidate_worse"] is True
    assert forced.get_json().get("activation_refused") is None
    _join_background(app)


def test_models_api_activates_a_better_candidate_and_answers_with_the_comparison(
    app, client, auth, sharp_and_blurred_file
):
    from service.operations.importing import import_file

    import_file(app.config["DATABASE_URL"], str(sharp_and_blurred_file))
    fitted = client.post("/api/v1/models", headers=auth("admin"))
    assert fitted.status_code == 201, fitted.get_json()
    body = fitted.get_json()
    assert body["active"] and body.get("activation_refused") is None
    comparison = body["comparison"]
    assert comparison["active_version"] == "prior-1" and comparison["claims"] == RESOLVED
    assert comparison["candidate_brier"] < comparison["active_brier"]
    assert comparison["interval"][1] < 0 and comparison["candidate_worse"] is False
    _join_background(app)


def test_the_comparison_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    version = next(s for name, s in schemas.items() if name.startswith("ModelVersion"))
    assert "comparison" in version["properties"]
    comparison = next(s for name, s in schemas.items() if name.startswith("ModelComparison"))
    assert {"candidate_brier", "active_brier", "difference", "interval"} <= set(
        comparison["properties"]
    )
