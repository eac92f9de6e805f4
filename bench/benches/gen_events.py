# Writes N realistic honeybadger-python NDJSON events (80% db.query, 20% flask.request with
# nulls, ts, request_id, params) for the `validate` speed figure:
#   python3 bench/benches/gen_events.py 1000000 > /tmp/events-1m.ndjson
#   cargo build --release --features cli --bin insights-events
#   time ./target/release/insights-events validate /tmp/events-1m.ndjson
import json, random, uuid, sys
random.seed(1)
n = int(sys.argv[1])
paths = ["/users/%d", "/api/v1/orders/%d", "/health", "/search", "/admin/reports/%d/export"]
queries = ['SELECT "users".* FROM "users" WHERE "users"."id" = %s LIMIT 1',
           'INSERT INTO "orders" ("user_id", "total", "created_at") VALUES (%s, %s, %s) RETURNING "orders"."id"',
           'UPDATE "sessions" SET "last_seen" = %s WHERE "sessions"."id" = %s',
           'SELECT COUNT(*) FROM "events" WHERE "events"."project_id" = %s AND "events"."ts" > %s']
out = sys.stdout
rid = str(uuid.uuid4())
for i in range(n):
    ts = "2025-11-21T09:%02d:%02d.%06dZ" % (i // 60000 % 60, i // 1000 % 60, i % 1000000)
    if i % 5 == 0:
        rid = str(uuid.uuid4())
        p = random.choice(paths)
        if "%d" in p: p = p % random.randint(1, 100000)
        ev = {"path": p, "method": random.choice(["GET","GET","POST","PUT"]), "status": random.choice([200,200,201,302,404,500]),
              "view": "users.show", "blueprint": random.choice([None, "users", "api"]), "duration": round(random.uniform(1, 900), 4),
              "event_type": "flask.request", "ts": ts, "request_id": rid}
        if i % 10 == 0: ev["params"] = {"page": str(random.randint(1,9)), "sort": "name"}
    else:
        ev = {"query": random.choice(queries), "duration": round(random.uniform(0.05, 50), 4), "event_type": "db.query", "ts": ts, "request_id": rid}
        if i % 3 == 0: ev["params"] = [random.randint(1, 10**6), "2025-11-21"]
    out.write(json.dumps(ev) + "\n")
