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
