"""A small Flask app instrumented by honeybadger-python's Insights, for the
end-to-end test in tests/cli.rs.

    python tests/python/flask_app.py http://127.0.0.1:PORT

serves two requests through Flask's test client (one runs a real SQLite query
through honeybadger's DB instrumentation, so a `db.query` event is emitted
too), then shuts honeybadger's events worker down, which sends what is queued
to the given endpoint (the `insights-events receive` instance under test).
"""

import sqlite3
import sys
import time

from flask import Flask, jsonify
from honeybadger import honeybadger
from honeybadger.contrib import FlaskHoneybadger
from honeybadger.contrib.db import DBHoneybadger


def main(endpoint):
    app = Flask(__name__)
    app.config.update(
        HONEYBADGER_API_KEY="test",
        HONEYBADGER_ENDPOINT=endpoint,
        HONEYBADGER_ENVIRONMENT="production",
        HONEYBADGER_FORCE_REPORT_DATA=True,
        HONEYBADGER_INSIGHTS_ENABLED=True,
    )
    # The same settings again, directly: the Flask config names have changed
    # between honeybadger releases; configure() takes the canonical names.
    honeybadger.configure(
        api_key="test",
        endpoint=endpoint,
        environment="production",
        force_report_data=True,
        insights_enabled=True,
        events_timeout=0.2,
    )
    FlaskHoneybadger(app, report_exceptions=True)

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO users (name) VALUES ('ada')")

    @app.route("/users/<int:user_id>")
    def show_user(user_id):
        sql = "SELECT id, name FROM users WHERE id = ?"
        start = time.monotonic()
        row = db.execute(sql, (user_id,)).fetchone()
        DBHoneybadger.execute(sql, start, (user_id,))
        if row is None:
            return jsonify(error="not found"), 404
        return jsonify(id=row[0], name=row[1])

    client = app.test_client()
    for path in ("/users/1", "/users/2?page=3"):
        resp = client.get(path, headers={"X-Request-ID": "req-%s" % path[7]})
        print("GET %s -> %d" % (path, resp.status_code), flush=True)

    # Deliver the queued events now (also what honeybadger's atexit does).
    honeybadger.shutdown()
    stats = honeybadger.events_worker.get_stats()
    print("events worker: %s" % stats, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
