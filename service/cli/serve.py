"""``srs serve`` and ``srs worker``: the API under gunicorn, and the webhook worker."""

from __future__ import annotations

import click

from service.cli.common import fail


@click.command()
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
    from service.web.serving import run_gunicorn

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


@click.command()
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
    from service.delivery.worker import WorkerSettings, run_worker
    from service.web.observability import logging_config

    for name, value in (("--batch-size", batch_size), ("--max-attempts", max_attempts)):
        if value < 1:
            fail(f"{name} must be at least 1")
    for name, value in (("--poll-interval", poll_interval), ("--timeout", timeout)):
        if value <= 0:
            fail(f"{name} must be positive")
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
