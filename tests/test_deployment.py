"""docker-compose.yml and the Dockerfile name what the app actually reads and serves."""

from __future__ import annotations

from pathlib import Path

import yaml

from service.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[1]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_and_the_api():
    services = _compose()["services"]
    assert {"db", "api"} <= set(services)
    assert services["db"]["image"].startswith("postgres")
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in services["db"] and "healthcheck" in services["api"]
    assert "pgdata" in _compose()["volumes"]
    # Rate-limit counts live in Redis so that every gunicorn worker shares them.
    assert services["api"]["environment"]["SRS_RATE_LIMIT_STORAGE"].startswith("redis://redis:")
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_environment_is_what_the_app_reads():
    api = _compose()["services"]["api"]
    assert set(api["environment"]) <= set(ENVIRONMENT)
    url = api["environment"]["DATABASE_URL"]
    db = _compose()["services"]["db"]["environment"]
    assert url == (
        f"postgresql://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"
    )


def test_the_published_port_is_the_one_the_image_serves():
    api = _compose()["services"]["api"]
    assert api["ports"] == ["8000:8000"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "EXPOSE 8000" in dockerfile and '"--port", "8000"' in dockerfile
    assert "/readyz" in " ".join(api["healthcheck"]["test"])


def test_the_image_starts_through_the_entrypoint_and_compose_loads_no_seed():
    """Migrations, the first key and the seed policy live in scripts/entrypoint (run by
    tests/test_first_deploy.py); the image runs it, the worker does not."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY scripts/entrypoint /usr/local/bin/srs-entrypoint" in dockerfile
    assert 'ENTRYPOINT ["srs-entrypoint"]' in dockerfile
    entrypoint = (ROOT / "scripts" / "entrypoint").read_text()
    assert "srs db upgrade" in entrypoint and "srs keys bootstrap" in entrypoint
    services = _compose()["services"]
    assert services["api"]["environment"]["SRS_LOAD_SEED"] == "false"
    assert services["worker"]["entrypoint"] == ["srs", "worker"]
    assert "SRS_LOAD_SEED" not in services["worker"]["environment"]
