"""Serve the API, or a bare Flask endpoint, under the production gunicorn settings.

    .venv/bin/python benchmarks/serve.py service --port 8101 --database-url URL
    .venv/bin/python benchmarks/serve.py bare --port 8102 --body score.json

``bare`` answers ``GET /bare`` with a fixed JSON document (``jsonify`` of the file's
content): the ceiling for a Flask endpoint under the same gunicorn, to which benchmarks/
api.py compares ``GET /api/v1/claims/{id}/score``.
"""

from __future__ import annotations

import argparse
import json

from service.web.serving import GunicornServer, production_options


def bare_app(document):
    from flask import Flask, jsonify

    app = Flask("bare")
    app.json.sort_keys = False

    @app.get("/bare")
    def bare():
        return jsonify(document)

    return app


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
        GunicornServer(lambda: bare_app(document), options).run()
    else:
        from service.web.app import create_app

        GunicornServer(lambda: create_app({"DATABASE_URL": args.database_url}), options).run()


if __name__ == "__main__":
    main()
