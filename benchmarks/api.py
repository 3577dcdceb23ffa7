"""API under gunicorn against PostgreSQL, loaded by wrk from a second process on loopback.

    .venv/bin/python benchmarks/api.py [--duration 15] [--connections 8] [--json] [--quick]

A scratch database ``srs_bench_api`` gets the seed story and a synthetic history (bulk
import), an admin key, and rate limits high enough not to answer 429. The service and a
bare Flask endpoint run under the same production gunicorn settings
(:func:`service.web.serving.production_options`: one worker per core, 4 threads each), and
wrk measures, each after a warm-up:

- ``bare_flask``: ``GET /bare``, a fixed JSON document (a score response captured from
  the service, so the bytes on the wire are the same);
- ``bare_write``: ``POST /bare/reports`` with the same bodies as ``reports``, each parsed
  and stored as one row by one INSERT and COMMIT on the same PostgreSQL (a pooled psycopg
  connection through SQLAlchemy Core), under the same gunicorn;
- ``score``: ``GET /api/v1/claims/{id}/score`` for random claims, with the API key;
- ``reports``: ``POST /api/v1/reports``, a new report per request: of a random stored
  claim four times in five, of a new claim (created, and searched for similar ones) the
  fifth;
- ``batch``: ``POST /api/v1/reports:batch`` with ``--batch`` reports per request, the same
  mix.
- ``score_50_streams``: ``score`` again while 50 event streams (``GET /api/v1/events``,
  raw connections as EventSource makes them) are open: the streams past the cap get 503
  with Retry-After and the rest hold their threads; ``healthz`` and
  ``healthz_50_streams``: sequential ``/healthz`` probes without and with those streams.

``--only streams`` runs just ``score``, the ``healthz`` cases and ``score_50_streams``;
``--only ratios`` just the four cases of the two ratios (``bare_flask``, ``score``,
``bare_write``, ``reports``).

Goals (issue 6): score throughput at least half the bare endpoint's. Issue 15: reports
at least 0.33x ``bare_write``'s throughput, with p99 under 100 ms; with 50 streams open,
score p99 within 2x of none open and ``/healthz`` within 100 ms. The ratios are
``score_vs_bare`` and ``reports_vs_bare_write``, both from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from import_file import write_file
from report import emit, machine, note, print_table
from scratch import ScratchDatabase

HERE = Path(__file__).resolve().parent
SRS = str(Path(sys.executable).with_name("srs"))
OUTLETS = ["Reuters", "Kan", "TASS", "Middle East Eye", "outlet-0003", "outlet-0007"]
STANCES = ["supports", "denies", "neutral"]

LUA_COMMON = """
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

LUA_SCORE = """
request = function()
  return wrk.format("GET", "/api/v1/claims/" .. math.random(1, %(claims)d) .. "/score")
end
"""

LUA_REPORT = """
local outlets = {%(outlets)s}
local stances = {"supports", "denies", "neutral"}
local subjects = {"The minister", "Police", "The central bank", "A court", "The club",
  "Regulators", "The mayor", "Rebels", "The airline", "Scientists", "The union", "Voters"}
local verbs = {"announced", "denied", "approved", "rejected", "postponed", "confirmed"}
local objects = {"a new tax on imports", "the merger talks", "a ceasefire", "the transfer",
  "an emergency loan", "the election result", "a vaccine trial", "the port strike"}
local places = {"in Lagos", "in Lima", "in Oslo", "in Hanoi", "in Quito", "in Tunis",
  "in Perth", "in Riga", "near the border", "after talks"}
local counter = 0
local function pick(list) return list[math.random(1, #list)] end
local function report()
  counter = counter + 1
  if counter %% 5 == 0 then
    -- One report in five is of a new claim, as in a newsroom: the claim is created, and
    -- the similar-claims index searched for the warning.
    return string.format(
      '{"claim_key": "bench-new-%%d-%%d-%%d", "claim": "%%s %%s %%s %%s on day %%d", ' ..
      '"outlet": "%%s", "stance": "supports", "attribution": "anonymous_source"}',
      os.time(), math.random(1, 1000000000), counter, pick(subjects), pick(verbs),
      pick(objects), pick(places), math.random(1, 3650), pick(outlets))
  end
  return string.format(
    '{"claim_id": %%d, "outlet": "%%s", "stance": "%%s", "attribution": "anonymous_source", ' ..
    '"source": "bench source %%d-%%d"}',
    math.random(1, %(claims)d), outlets[math.random(1, #outlets)],
    stances[math.random(1, 3)], tid or 0, counter)
end
request = function()
  if %(batch)d == 0 then
    return wrk.format("POST", "%(path)s", nil, report())
  end
  local items = {}
  for i = 1, %(batch)d do items[i] = report() end
  return wrk.format("POST", "/api/v1/reports:batch", nil,
    '{"reports": [' .. table.concat(items, ", ") .. ']}')
end
"""


class SkipStreams(Exception):
    """``--only ratios``: the stream cases are not run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-500:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server not ready at {url}")


def start(args: list[str], env: dict, ready_url: str, log: Path) -> subprocess.Popen:
    """The server, its logs (one JSON access line a request) to a file, not a pipe that
    nobody reads while wrk runs."""
    with open(log, "w") as stream:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "serve.py"), *args],
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    wait_ready(ready_url, process, log)
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(url: str, script: Path, duration: float, connections: int) -> dict:
    """One wrk run (one load-generator thread); requests/s counts 2xx answers only."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration:.0f}s", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        return {"error": (done.stderr or done.stdout).strip()[-200:]}
    raw = json.loads(line[4:])
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["non_2xx"]
    return {
        "rps": ok / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "requests": raw["requests"],
        "non_2xx": raw["non_2xx"],
        "socket_errors": raw["socket_errors"],
    }


STREAMS = 50


def open_streams(port: int, key: str, count: int) -> tuple[list[socket.socket], list[int]]:
    """``count`` event streams, each on its own connection, left open; and their statuses."""
    head = (
        "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {key}\r\n\r\n"
    ).encode()
    sockets, statuses = [], []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(head)
        first = sock.recv(4096).split(b"\r\n", 1)[0].split()
        statuses.append(int(first[1]) if len(first) > 1 else 0)
        sockets.append(sock)
    return sockets, statuses


def probe(url: str, count: int = 200) -> dict:
    """Sequential GETs of ``url`` (each on a fresh connection), latency percentiles."""
    took = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return {
        "requests": count,
        "p50_ms": took[count // 2],
        "p99_ms": took[min(count - 1, int(count * 0.99))],
        "max_ms": took[-1],
    }


def prepare_database(url: str, env: dict, workdir: Path, reports: int) -> tuple[str, int]:
    """Migrate, seed, import a synthetic history; returns an admin key and the claim count."""
    env = {**env, "DATABASE_URL": url}
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([SRS, *command], env=env, check=True, capture_output=True)
    path = workdir / "history.jsonl"
    write_file(path, reports)
    subprocess.run(
        [SRS, "import", str(path), "--no-progress"], env=env, check=True, capture_output=True
    )
    created = subprocess.run(
        [SRS, "keys", "create", "--scope", "admin", "--name", "benchmark"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().split()[-1]
    from sqlalchemy import create_engine, text

    from models.database import normalize_url

    engine = create_engine(normalize_url(url))
    with engine.connect() as connection:
        claims = connection.execute(text("SELECT max(id) FROM claims")).scalar_one()
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return key, claims


def capture(url: str, key: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15, help="seconds per measurement")
    parser.add_argument("--warm-up", type=float, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="reports per batch request")
    parser.add_argument("--history", type=int, default=100_000, help="reports stored first")
    parser.add_argument("--quick", action="store_true", help="5 s runs on a 20,000 history")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", choices=("streams", "ratios"), help="run only these cases")
    parser.add_argument("--postgres", default=ScratchDatabase.DEFAULT_SERVER)
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warm_up, args.history = 5, 1, min(args.history, 20_000)
    env = {
        **os.environ,
        "SRS_RATE_LIMIT_PER_ADDRESS": "10000000/minute",
        "SRS_RATE_LIMIT_PER_KEY": "10000000/minute",
    }
    results: dict[str, dict] = {}
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    note(f"load average at start: {load_at_start}", args.json)
    with (
        tempfile.TemporaryDirectory(prefix="srs-bench-api-") as tmp,
        ScratchDatabase("srs_bench_api", args.postgres) as url,
    ):
        workdir = Path(tmp)
        key, n_claims = prepare_database(url, env, workdir, args.history)
        note(
            f"database: {n_claims:,} claims; serving with {args.connections} connections", args.json
        )
        service_port, bare_port = free_port(), free_port()
        service_base = f"http://127.0.0.1:{service_port}"
        bare_base = f"http://127.0.0.1:{bare_port}"
        service = start(
            ["service", "--port", str(service_port), "--database-url", url],
            env,
            f"{service_base}/readyz",
            workdir / "service.log",
        )
        try:
            document = capture(f"{service_base}/api/v1/claims/1/score", key)
            (workdir / "score.json").write_text(json.dumps(document))
            bare = start(
                [
                    "bare",
                    "--port",
                    str(bare_port),
                    "--body",
                    str(workdir / "score.json"),
                    "--database-url",
                    url,
                ],
                env,
                f"{bare_base}/bare",
                workdir / "bare.log",
            )
            scripts = {}
            common = LUA_COMMON % {"key": key}
            outlets = ", ".join(f'"{o}"' for o in OUTLETS)
            scripts["score"] = common + LUA_SCORE % {"claims": n_claims}
            for name, batch, path in (
                ("bare_write", 0, "/bare/reports"),
                ("reports", 0, "/api/v1/reports"),
                ("batch", args.batch, ""),
            ):
                scripts[name] = common + LUA_REPORT % {
                    "claims": n_claims,
                    "outlets": outlets,
                    "batch": batch,
                    "path": path,
                }
            scripts["bare_flask"] = common
            for name, script in scripts.items():
                (workdir / f"{name}.lua").write_text(script)
            targets = {
                "bare_flask": f"{bare_base}/bare",
                "score": service_base,
                "bare_write": bare_base,
                "reports": service_base,
                "batch": service_base,
            }
            if args.only == "streams":
                targets = {"score": service_base}
            elif args.only == "ratios":
                del targets["batch"]
            try:
                for name, target in targets.items():
                    script = workdir / f"{name}.lua"
                    wrk(target, script, args.warm_up, args.connections)
                    results[name] = wrk(target, script, args.duration, args.connections)
                    note(f"  {name}: {results[name]}", args.json)
            finally:
                stop(bare)
            if args.only == "ratios":
                raise SkipStreams
            results["healthz"] = probe(f"{service_base}/healthz")
            streams, statuses = open_streams(service_port, key, STREAMS)
            try:
                results["healthz_50_streams"] = probe(f"{service_base}/healthz")
                results["score_50_streams"] = wrk(
                    service_base, workdir / "score.lua", args.duration, args.connections
                )
                results["score_50_streams"]["streams_open"] = statuses.count(200)
                results["score_50_streams"]["streams_refused_503"] = statuses.count(503)
            finally:
                for stream in streams:
                    stream.close()
            for name in ("healthz", "healthz_50_streams", "score_50_streams"):
                note(f"  {name}: {results[name]}", args.json)
        except SkipStreams:
            pass
        finally:
            stop(service)
    batch = results.get("batch", {})
    if "rps" in batch:
        batch["reports_per_s"] = batch["rps"] * args.batch
    names = ("score", "reports", "batch", "score_50_streams", "healthz", "healthz_50_streams")
    ours = {name: results.get(name, {}) for name in names}
    with_streams, without = ours["score_50_streams"], ours["score"]
    if "p99_ms" in with_streams and "p99_ms" in without:
        ours["score_p99_50_streams_vs_none"] = with_streams["p99_ms"] / without["p99_ms"]
    bare_rps = results.get("bare_flask", {}).get("rps")
    if bare_rps and "rps" in ours["score"]:
        ours["score_vs_bare"] = ours["score"]["rps"] / bare_rps
    bare_write_rps = results.get("bare_write", {}).get("rps")
    if bare_write_rps and "rps" in ours["reports"]:
        ours["reports_vs_bare_write"] = ours["reports"]["rps"] / bare_write_rps
    print_table(
        f"API under gunicorn (production settings), wrk -c{args.connections}, "
        f"{args.duration:.0f} s each, PostgreSQL with {n_claims:,} claims",
        results,
        (
            "rps",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "max_ms",
            "non_2xx",
            "reports_per_s",
            "streams_open",
            "streams_refused_503",
        ),  # fmt: skip
        args.json,
    )
    if "score_vs_bare" in ours:
        note(f"score throughput / bare Flask: {ours['score_vs_bare']:.2f}", args.json)
    if "reports_vs_bare_write" in ours:
        note(
            f"reports throughput / bare INSERT+COMMIT: {ours['reports_vs_bare_write']:.2f} "
            f"(goal: 0.33, p99 {ours['reports']['p99_ms']:.0f} ms, goal under 100)",
            args.json,
        )
    if "score_p99_50_streams_vs_none" in ours:
        note(
            f"score p99 with {STREAMS} streams open / none open: "
            f"{ours['score_p99_50_streams_vs_none']:.2f} (goal: under 2); /healthz p99 with "
            f"them open: {ours['healthz_50_streams']['p99_ms']:.1f} ms (goal: under 100)",
            args.json,
        )
    emit(
        {
            "target": "api",
            "settings": {
                "connections": args.connections,
                "duration_s": args.duration,
                "batch": args.batch,
                "claims": n_claims,
                "load_average_at_start": load_at_start,
                "gunicorn": {
                    k: v
                    for k, v in production_options_summary().items()
                    if k in ("workers", "threads", "worker_class", "timeout", "preload_app")
                },
            },
            "ours": ours,
            "peers": {
                "bare_flask": results.get("bare_flask", {}),
                "bare_write": results.get("bare_write", {}),
            },
            "machine": machine(),
        },
        args.json,
    )


def production_options_summary() -> dict:
    from service.web.serving import production_options

    return production_options("127.0.0.1", 0)


if __name__ == "__main__":
    main()
