"""Operations: a request id on every request, JSON logs, Prometheus metrics at ``/metrics``.

Under gunicorn each worker is its own process, so counters live in prometheus_client's
multiprocess files (``PROMETHEUS_MULTIPROC_DIR``, set up by ``srs serve``) and a scrape of any
worker sums them all. Figures that the database already knows (outbox backlog, delivery
failures, claims by status) are read from it at scrape time instead of being counted, so
they are right whichever process changed them: the API, ``srs worker`` or an import.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from models import Claim
from service.delivery.outbox import delivery_failures, outbox_backlog
from service.newsroom import rescoring

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is echoed only if it is short and plain: it ends up in logs.
_CALLER_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

access_log = logging.getLogger("srs.access")


# -- request ids ---------------------------------------------------------------------------
def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


# -- logging -------------------------------------------------------------------------------
def logging_config(level: str = "INFO", log_format: str = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server and the worker: one line per record on
    stderr, JSON unless ``log_format`` is ``text``. gunicorn takes it as ``logconfig_dict``."""
    formatter: dict[str, Any]
    if log_format == "text":
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    else:
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            # gunicorn's own loggers propagate to the root handler instead of printing text.
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


# -- metrics -------------------------------------------------------------------------------
class Metrics:
    """The process's metric objects, made on first use so that ``srs serve`` can switch
    prometheus_client to multiprocess mode before any value exists."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "srs_http_request_duration_seconds",
            "Time to answer an HTTP request, by route, method and status.",
            ["endpoint", "method", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.reports_recorded = Counter(
            "srs_reports_recorded",
            "Reports recorded through the API (counted after their transaction commits).",
            registry=self.registry,
        )
        self.rescoring_duration = Histogram(
            "srs_rescoring_duration_seconds",
            "Time to recompute and store one claim's score.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry,
        )


@cache
def metrics() -> Metrics:
    return Metrics()


def enable_multiprocess(directory: str) -> None:
    """Keep metric values in files under ``directory`` so gunicorn's workers share them.

    Call before any metric is made (``srs serve`` does, before gunicorn forks). The
    directory is emptied: files left by an earlier run would be summed into this one.
    """
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    os.environ[MULTIPROCESS_ENV] = directory
    values.ValueClass = values.get_value_class()
    metrics.cache_clear()


def worker_exited(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(pid)


class _Forward:
    """Collects from another registry (this process's, when not in multiprocess mode)."""

    def __init__(self, registry: CollectorRegistry):
        self._registry = registry

    def collect(self):
        yield from self._registry.collect()


# Figures read from the database at scrape time: (name, help, labels, query returning
# rows of (*label_values, value)). Other modules add theirs with ``database_gauge``.
DatabaseQuery = Callable[[Any], Iterable[tuple]]
_database_gauges: list[tuple[str, str, tuple[str, ...], DatabaseQuery]] = []


def database_gauge(name: str, documentation: str, labels: tuple[str, ...] = ()):
    def register(query: DatabaseQuery) -> DatabaseQuery:
        _database_gauges.append((name, documentation, labels, query))
        return query

    return register


@database_gauge("srs_claims", "Claims by status.", ("status",))
def _claims_by_status(session) -> Iterable[tuple]:
    return session.execute(select(Claim.status, func.count()).group_by(Claim.status)).all()


@database_gauge("srs_outbox_backlog", "Webhook deliveries still owed (status pending).")
def _outbox_backlog(session) -> Iterable[tuple]:
    return [(outbox_backlog(session),)]


@database_gauge(
    "srs_webhook_delivery_failures",
    "Failed webhook delivery attempts over the deliveries still stored (a gauge, not a "
    "counter: pruning old deliveries lowers it).",
)
def _delivery_failures(session) -> Iterable[tuple]:
    return [(delivery_failures(session),)]


class _DatabaseCollector:
    def __init__(self, unit_of_work):
        self._unit_of_work = unit_of_work

    def collect(self):
        families = []
        with self._unit_of_work() as uow:
            for name, documentation, labels, query in _database_gauges:
                family = GaugeMetricFamily(name, documentation, labels=list(labels))
                for *label_values, value in query(uow.session):
                    family.add_metric([str(v) for v in label_values], float(value))
                families.append(family)
        yield from families


def render_metrics(unit_of_work) -> Response:
    """The exposition text: this process's (or all workers') metrics plus database gauges."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(metrics().registry))
    registry.register(_DatabaseCollector(unit_of_work))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def observe_rescoring(seconds: float) -> None:
    metrics().rescoring_duration.observe(seconds)


def count_reports_after_commit(count: int) -> None:
    """Count recorded reports once the request's transaction has committed."""
    g.after_commit = (*g.get("after_commit", ()), lambda: metrics().reports_recorded.inc(count))


# -- the Flask side ------------------------------------------------------------------------
def _start_request() -> None:
    presented = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = presented if _CALLER_REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or uuid.uuid4().hex
    started = g.get("request_started")
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    metrics().request_duration.labels(endpoint, request.method, str(response.status_code)).observe(
        elapsed
    )
    caller = g.get("caller")
    # The path, never the query string or headers: nothing secret is logged.
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "remote_addr": request.remote_addr,
            "key_id": getattr(caller, "key_id", None),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Request ids and timing; install before other hooks so every answer is counted."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    # Once per process, however many apps are made (the tests make many).
    if observe_rescoring not in rescoring.rescoring_observers:
        rescoring.rescoring_observers.append(observe_rescoring)

    from service.web.database import unit_of_work

    @app.get("/metrics")
    def prometheus_metrics():
        return render_metrics(unit_of_work)
