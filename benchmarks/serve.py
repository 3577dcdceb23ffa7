"""Serve the API, or a bare Flask endpoint, under the production gunicorn settings.

    .venv/bin/python benchmarks/serve.py service --port 8101 --database-url URL
    .venv/bin/python benchmarks/serve.py bare --port 8102 --body score.json [--database-url URL]

``bare`` answers ``GET /bare`` with a fixed JSON document (``jsonify`` of the file's
content): the ceiling for a Flask endpoint under the same gunicorn, to which benchmarks/
api.py compares ``GET /api/v1/claims/{id}/score``. With ``--database-url`` it also answers
``POST /bare/reports``: the request's JSON body parsed and stored as one row (one INSERT
and COMMIT on a pooled psycopg connection through SQLAlchemy Core, answering the new id),
the ceiling for a write to the same PostgreSQL, to which api.py compares
``POST /api/v1/reports``.
"""

from __future__ import annotations

import argparse
import json

from service.web.serving import GunicornServer, production_options, stream_cap

BARE_TABLE = "bare_reports"


def bare_app(document, database_url: str | None = None):
    from flask import Flask, jsonify, request

    app = Flask("bare")
    app.json.sort_keys = False

    @app.get("/bare")
    def bare():
        return jsonify(document)

    if database_url:
        from sqlalchemy import create_engine, text

        from models.database import normalize_url

        engine = create_engine(normalize_url(database_url))
        insert = text(f"INSERT INTO {BARE_TABLE} (body) VALUES (:body) RETURNING id")

        @app.post("/bare/reports")
        def bare_write():
            body = json.dumps(request.get_json())
            with engine.begin() as connection:
                stored = connection.execute(insert, {"body": body}).scalar_one()
            return jsonify({"id": stored}), 201

    return app


def create_bare_table(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    from models.database import normalize_url

    engine = create_engine(normalize_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY, "
                "body json NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", choices=("service", "bare"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--body", help="JSON file the bare endpoint answers with")
    args = parser.parse_args()
    options = production_options("127.0.0.1", args.port)
    if args.app == "bare":
        with open(args.body) as body:
            document = json.load(body)
        if args.database_url:
            create_bare_table(args.database_url)
        GunicornServer(lambda: bare_app(document, args.database_url), options).run()
    else:
        from service.web.app import create_app

        overrides = {
            "DATABASE_URL": args.database_url,
            "SSE_MAX_STREAMS": stream_cap(options["threads"]),  # as `srs serve` does
        }
        GunicornServer(lambda: create_app(overrides), options).run()


if __name__ == "__main__":
    main()
