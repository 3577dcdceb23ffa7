"""Client processes for the load tests: each posts reports with Idempotency-Key retries and
injected connection faults, and writes down what it was told.

Run in separate processes (multiprocessing, spawn) so that eight of them really write at
once. Every report carries a unique marker in its ``quote`` so the test can find it in the
database whatever key the server gave it.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from server_harness import call, send_and_drop

STANCES = ("supports", "denies", "neutral")
ATTRIBUTIONS = ("named_official", "anonymous_source", "document", "media_report", "unattributed")
OUTLETS = ("Reuters", "Kan", "TASS", "Middle East Eye", "Load Wire", "Load Gazette")
RETRYABLE = (429, 502, 503, 504)


@dataclass
class ClientPlan:
    port: int
    key: str
    client: int
    reports: int
    claims: list[dict]
    seed: int
    out: str
    fault_rate: float = 0.06  # a dropped or timed-out connection before the real attempt
    abandon_rate: float = 0.15  # of those, left unacknowledged (never retried)
    replay_rate: float = 0.08  # a retry of an acknowledged request with the same key
    stop_file: str | None = None  # the crash test stops clients by creating this file
    max_attempts: int = 40


@dataclass
class ClientResult:
    acknowledged: dict[str, int] = field(default_factory=dict)  # marker -> report id
    unacknowledged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    replays: int = 0
    replay_mismatches: list[str] = field(default_factory=list)


def _attempt(plan: ClientPlan, body: dict, idem: str, result: ClientResult):
    """POST until an answer that is not a retryable failure; None if attempts ran out."""
    delay = 0.05
    for _ in range(plan.max_attempts):
        result.requests += 1
        try:
            response = call(
                plan.port,
                "POST",
                "/api/v1/reports",
                body,
                key=plan.key,
                headers={"Idempotency-Key": idem},
                timeout=60,
            )
        except (OSError, http.client.HTTPException):
            response = None
        if response is not None and response.status not in RETRYABLE:
            return response
        result.retries += 1
        wait = delay
        if response is not None and "retry-after" in response.headers:
            wait = min(float(response.headers["retry-after"]), 2.0)
        time.sleep(wait)
        delay = min(delay * 2, 1.0)
    return None


def _fault(plan: ClientPlan, rng: random.Random, body: dict, idem: str, result: ClientResult):
    kind = rng.choice(("dropped", "dropped_mid_body", "timed_out"))
    result.faults[kind] = result.faults.get(kind, 0) + 1
    result.requests += 1
    headers = {"Authorization": f"Bearer {plan.key}", "Idempotency-Key": idem}
    try:
        if kind == "timed_out":
            call(plan.port, "POST", "/api/v1/reports", body, plan.key, headers, timeout=0.002)
        else:
            send_and_drop(
                plan.port, "POST", "/api/v1/reports", body, headers, partial=kind != "dropped"
            )
    except (OSError, http.client.HTTPException):
        pass


def run_client(plan: ClientPlan) -> None:
    rng = random.Random(plan.seed)
    result = ClientResult()
    try:
        for i in range(plan.reports):
            if plan.stop_file and Path(plan.stop_file).exists():
                break
            marker = f"c{plan.client}-r{i}"
            claim = plan.claims[rng.randrange(len(plan.claims))]
            body = {
                "claim_key": claim["key"],
                "claim": claim["text"],
                "outlet": rng.choice(OUTLETS),
                "new_outlet": True,  # the first report of each outlet creates it
                "stance": rng.choice(STANCES),
                "attribution": rng.choice(ATTRIBUTIONS),
                "interested_party": rng.random() < 0.1,
                "quote": marker,
            }
            idem = f"{marker}-{uuid.uuid4().hex}"
            if rng.random() < plan.fault_rate:
                _fault(plan, rng, body, idem, result)
                if rng.random() < plan.abandon_rate:
                    result.unacknowledged.append(marker)
                    continue
            response = _attempt(plan, body, idem, result)
            if response is None:
                result.unacknowledged.append(marker)
                continue
            if response.status != 201:
                result.unexpected.append(f"{marker}: {response.status} {response.text[:300]}")
                result.unacknowledged.append(marker)
                continue
            report_id = response.json()["report"]["id"]
            result.acknowledged[marker] = report_id
            if rng.random() < plan.replay_rate:
                again = _attempt(plan, body, idem, result)
                result.replays += 1
                if (
                    again is None
                    or again.status != 201
                    or again.headers.get("idempotent-replayed") != "true"
                    or again.json()["report"]["id"] != report_id
                ):
                    status = None if again is None else again.status
                    result.replay_mismatches.append(f"{marker}: {status}")
    finally:
        Path(plan.out).write_text(json.dumps(asdict(result)))


def read_result(path: str | Path) -> ClientResult:
    return ClientResult(**json.loads(Path(path).read_text()))
