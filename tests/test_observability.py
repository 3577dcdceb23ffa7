"""Request ids, the access log and the metrics endpoint, through the Flask test client.

The multiprocess side (metrics summed over gunicorn workers, JSON lines on stderr) is
tested end to end in test_gunicorn_e2e.py.
"""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

REPORT = {
    "claim_key": "ceasefire-agreed",
    "claim": "A ceasefire was agreed in principle",
    "outlet": "Reuters",
    "stance": "supports",
    "attribution": "named_official",
}


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_a_plain_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "desk-42.retry:1"})
    assert response.headers["X-Request-ID"] == "desk-42.retry:1"


@pytest.mark.parametrize("presented", [None, "", "has space", "x" * 129, "line\u00e9"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, presented):
    headers = {} if presented is None else {"X-Request-ID": presented}
    first = client.get("/api/v1/claims", headers=headers)
    second = client.get("/api/v1/claims", headers=headers)
    assert first.status_code == 401, "errors carry a request id too"
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2 and presented not in ids
    assert all(len(i) == 32 for i in ids)


def test_recorded_reports_and_rescoring_are_counted_after_commit(seeded, client, auth):
    before = scrape(client)
    assert client.post("/api/v1/reports", json=REPORT, headers=auth("write")).status_code == 201
    refused = client.post(
        "/api/v1/reports", json={**REPORT, "stance": "maybe"}, headers=auth("write")
    )
    assert refused.status_code == 422
    after = scrape(client)

    def delta(name, labels=()):
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    assert delta("srs_reports_recorded_total") == 1, "a refused report is not counted"
    assert delta("srs_rescoring_duration_seconds_count") == 1
    created = (("endpoint", "/api/v1/reports"), ("method", "POST"), ("status", "201"))
    refused_route = (("endpoint", "/api/v1/reports"), ("method", "POST"), ("status", "422"))
    assert delta("srs_http_request_duration_seconds_count", created) == 1
    assert delta("srs_http_request_duration_seconds_count", refused_route) == 1
    assert delta("srs_claims", (("status", "open"),)) == 1, "the report created a claim"


def test_unmatched_paths_share_one_label(client):
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    samples = scrape(client)
    endpoints = {dict(labels).get("endpoint") for (_, labels) in samples}
    assert "<unmatched>" in endpoints
    assert not any(e and e.startswith("/no/such") for e in endpoints)


def test_the_access_log_names_the_request_and_never_the_key(seeded, client, auth, caplog):
    headers = {**auth("write"), "X-Request-ID": "req-7"}
    with caplog.at_level(logging.INFO, logger="srs.access"):
        client.post("/api/v1/reports", json=REPORT, headers=headers)
        client.get("/api/v1/claims", headers={"Authorization": "Bearer srs_not_a_real_key"})
    records = [r for r in caplog.records if r.name == "srs.access"]
    assert len(records) == 2
    first = records[0]
    assert (first.request_id, first.method, first.path, first.status) == (
        "req-7",
        "POST",
        "/api/v1/reports",
        201,
    )
    assert first.key_id is not None and first.duration_ms > 0
    logged = "\n".join(str(vars(r)) for r in caplog.records)
    assert headers["Authorization"].split()[1] not in logged
    assert "srs_not_a_real_key" not in logged


def test_logging_config_writes_json_lines_with_the_request_id(app, capsys):
    import json
    import logging.config

    from service.web.observability import logging_config

    logger_names = ("", "gunicorn.error", "gunicorn.access")
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level)
        for name in logger_names
    }
    try:
        logging.config.dictConfig(logging_config("INFO", "json"))
        with app.test_request_context("/x", headers={"X-Request-ID": "abc"}):
            app.preprocess_request()
            logging.getLogger("srs.test").info("hello %s", "world", extra={"claim_id": 3})
    finally:
        for name, (handlers, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "hello world" and record["level"] == "INFO"
    assert record["logger"] == "srs.test" and record["request_id"] == "abc"
    assert record["claim_id"] == 3 and "time" in record


def test_outbox_backlog_and_delivery_failures_are_read_from_the_database(seeded, client, auth):
    from models import Delivery
    from service.web.database import unit_of_work

    seeded.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the hook is on 127.0.0.1
    subscribed = client.post(
        "/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"}, headers=auth("admin")
    )
    assert subscribed.status_code == 201
    assert client.post("/api/v1/reports", json=REPORT, headers=auth("write")).status_code == 201
    with unit_of_work(seeded) as uow:
        owed = uow.session.query(Delivery).filter_by(status="pending").all()
        assert owed, "the report's events are owed to the subscription"
        owed[0].failures = 3
        uow.commit()
        backlog = len(owed)
    samples = scrape(client)
    assert samples[("srs_outbox_backlog", ())] == backlog
    assert samples[("srs_webhook_delivery_failures", ())] == 3
