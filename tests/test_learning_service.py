"""Learning in the service: srs synth, srs evaluate, srs fit, and the /models API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from service.cli import main


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("synth") / "synth.jsonl"
    result = CliRunner().invoke(
        main,
        ["synth", "--claims", "400", "--outlets", "30", "--unlabelled", "0.25", "--out", str(path)],
    )
    assert result.exit_code == 0, result.output
    return path


def test_evaluate_runs_end_to_end_and_writes_metrics_and_plots(
    cli_runner, synthetic_file, tmp_path
):
    out = tmp_path / "eval"
    result = cli_runner.invoke(
        main, ["evaluate", str(synthetic_file), "--folds", "3", "--seeds", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    keys = {"accuracy", "roc_auc", "brier", "log_loss", "ece", "n_claims"}
    assert set(metrics["model"]) == keys
    assert {"majority", "stance_counts_logreg", "prior_model"} <= set(metrics["baselines"])
    assert all(set(row) == keys for row in metrics["baselines"].values())
    lines = [json.loads(line) for line in synthetic_file.read_text().splitlines()]
    resolved = {line["claim_key"] for line in lines if line["verdict"] is not None}
    assert 0 < len(resolved) < 400
    assert metrics["model"]["n_claims"] == len(resolved)  # unlabelled claims are not scored
    for name in ("reliability_diagram.png", "roc.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "prior_model" in result.output


def test_evaluate_names_the_bad_line(cli_runner, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"claim_key": "k", "claim": "c", "outlet": "o", "stance": "supports"}\n'
        '{"claim_key": "k", "claim": "c", "outlet": "o", "stance": "yes"}\n'
    )
    result = cli_runner.invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2 and "line 2, field 'stance'" in result.output


def test_fit_stores_activates_and_rescores_open_claims(cli_runner, database_url, synthetic_file):
    from models import Claim, ModelVersion, ScoreHistory
    from models.database import UnitOfWork, make_engine, make_session_factory

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(synthetic_file)]).exit_code == 0
    result = cli_runner.invoke(main, [*args, "fit"])
    assert result.exit_code == 0, result.output
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        (version,) = uow.session.scalars(select(ModelVersion)).all()
        assert version.active and 0 < version.training_summary["resolved_claims"] < 400
        assert version.parameters["outlet_reliability"]
        open_claims = uow.session.scalars(select(Claim).where(Claim.status == "open")).all()
        assert open_claims and all(c.model_version == version.version for c in open_claims)
        causes = set(uow.session.scalars(select(ScoreHistory.cause)))
        assert f"model {version.version} activated" in causes


def test_fit_stores_what_the_evaluated_fit_and_the_one_scorer_give(
    cli_runner, database_url, synthetic_file
):
    """One scorer: each score ``srs fit`` stores is score_claim with the parameters of
    fit_scoring_model (what ``srs evaluate`` evaluates) on the same records, kinds, priors."""
    from models import Claim, ModelVersion, Outlet
    from models.database import UnitOfWork, make_engine, make_session_factory
    from scoring.deployment import fit_scoring_model
    from scoring.engine import score_claim
    from scoring.interchange import records_evidence
    from service.newsroom.stored_reports import export_records

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(synthetic_file)]).exit_code == 0
    assert cli_runner.invoke(main, [*args, "fit"]).exit_code == 0
    with UnitOfWork(make_session_factory(make_engine(database_url))) as uow:
        session = uow.session
        (version,) = session.scalars(select(ModelVersion)).all()
        records = list(export_records(session))
        kinds = {name: kind for name, kind in session.execute(select(Outlet.name, Outlet.kind))}
        priors = {
            name: prior
            for name, prior in session.execute(select(Outlet.name, Outlet.prior_reliability))
        }
        params = fit_scoring_model(
            records, outlet_kinds=kinds, outlet_priors=priors, version=version.version
        )
        assert params.claim_layer.intercept is not None
        evidence = records_evidence(records, kinds, priors)
        open_claims = session.scalars(select(Claim).where(Claim.status == "open")).all()
        assert len(open_claims) > 50
        for claim in open_claims:
            expected = score_claim(evidence[claim.key], params)
            assert claim.model_version == version.version
            assert claim.confidence == pytest.approx(expected.confidence, abs=1e-12)
            assert claim.confidence_lower == pytest.approx(expected.lower, abs=1e-12)
            assert claim.confidence_upper == pytest.approx(expected.upper, abs=1e-12)


def test_fit_without_verdicts_refuses_and_keeps_the_prior_model(cli_runner, database_url):
    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "seed"]).exit_code == 0
    result = cli_runner.invoke(main, [*args, "fit"])
    assert result.exit_code == 2 and "resolved claims" in result.output


def test_models_api_fits_lists_and_activates(app, client, auth, synthetic_file):
    from service.operations.importing import import_file
    from service.web.database import unit_of_work

    import_file(app.config["DATABASE_URL"], str(synthetic_file))
    fitted = client.post("/api/v1/models", headers=auth("admin"))
    assert fitted.status_code == 201, fitted.get_json()
    for thread in app.extensions.get("srs.background", []):
        thread.join(timeout=60)
    version = fitted.get_json()["version"]
    listed = client.get("/api/v1/models", headers=auth("read")).get_json()
    assert [(m["version"], m["active"]) for m in listed] == [(version, True)]
    claims = client.get("/api/v1/claims?status=open&page_size=100", headers=auth("read")).get_json()
    assert {c["model_version"] for c in claims} == {version}
    again = client.post(f"/api/v1/models/{version}/activate", headers=auth("admin"))
    assert again.status_code == 200
    missing = client.post("/api/v1/models/nope/activate", headers=auth("admin"))
    assert missing.status_code == 404
    with unit_of_work(app) as uow:
        from models import AuditEntry

        actions = set(uow.session.scalars(select(AuditEntry.action)))
    assert {"fit_model", "activate_model"} <= actions


@pytest.fixture
def four_verdicts_file(tmp_path):
    """Four resolved claims (two true, two false) and six open ones: issue 13's 4-verdict case."""
    lines = []
    for number in range(10):
        verdict = [True, False, True, False][number] if number < 4 else None
        for outlet, stance in (("Kan", "supports"), ("Reuters", "denies"), ("TASS", "neutral")):
            lines.append(
                json.dumps(
                    {
                        "claim_key": f"claim-{number}",
                        "claim": f"Claim number {number}",
                        "verdict": verdict,
                        "report_key": f"r-{number}-{outlet}",
                        "outlet": outlet,
                        "stance": stance if number % 3 else "supports",
                    }
                )
            )
    path = tmp_path / "four.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_on_four_verdicts_is_stored_but_not_activated_unless_forced(
    cli_runner, database_url, four_verdicts_file
):
    from models import Claim, ModelVersion
    from models.database import UnitOfWork, make_engine, make_session_factory

    args = ["--database-url", database_url]
    assert cli_runner.invoke(main, [*args, "import", str(four_verdicts_file)]).exit_code == 0
    refused = cli_runner.invoke(main, [*args, "fit"])
    assert refused.exit_code == 2
    assert "4 resolved claims (2 true, 2 false) and is stored but not activated" in refused.output
    factory = make_session_factory(make_engine(database_url))
    with UnitOfWork(factory) as uow:
        (stored,) = uow.session.scalars(select(ModelVersion)).all()
        assert not stored.active
        open_claims = uow.session.scalars(select(Claim).where(Claim.status == "open")).all()
        assert {c.model_version for c in open_claims} == {"prior-1"}
    forced = cli_runner.invoke(main, [*args, "fit", "--force"])
    assert forced.exit_code == 0, forced.output
    relaxed = cli_runner.invoke(
        main, [*args, "fit", "--min-resolved", "4", "--min-each-verdict", "2"]
    )
    assert relaxed.exit_code == 0, relaxed.output


def test_models_api_refuses_thin_fits_and_prior_1_can_always_come_back(
    app, client, auth, four_verdicts_file
):
    from service.operations.importing import import_file

    import_file(app.config["DATABASE_URL"], str(four_verdicts_file))
    fitted = client.post("/api/v1/models", headers=auth("admin"))
    assert fitted.status_code == 201, fitted.get_json()
    body = fitted.get_json()
    assert not body["active"] and "stored but not activated" in body["activation_refused"]
    forced = client.post("/api/v1/models?force=true", headers=auth("admin"))
    assert forced.status_code == 201 and forced.get_json()["active"]
    assert forced.get_json().get("activation_refused") is None
    for thread in app.extensions.get("srs.background", []):
        thread.join(timeout=60)
    back = client.post("/api/v1/models/prior-1/activate", headers=auth("admin"))
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["active"] and back.get_json()["version"] == "prior-1"
    for thread in app.extensions.get("srs.background", []):
        thread.join(timeout=60)
    claims = client.get("/api/v1/claims?status=open&page_size=100", headers=auth("read")).get_json()
    assert {c["model_version"] for c in claims} == {"prior-1"}
    listed = client.get("/api/v1/models", headers=auth("read")).get_json()
    assert [m["active"] for m in listed if m["version"] == "prior-1"] == [True]
