#!/usr/bin/env bash
# N Rasa servers (ports 5005..) and M action servers (5055..) on PostgreSQL + Redis, for use behind
# deploy/nginx.conf (list the same ports in its upstreams). Run from anywhere; Ctrl-C stops them all.
#   bash deploy/run.sh [N=2] [M=2]
# Needs: the trained model (bash scripts/train.sh), PostgreSQL databases $TRACKER_PG_DB and the one in
# DATABASE_URL (created if missing; the app database is migrated, seeded and its knowledge store built).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2}" M="${2:-2}"
set -a; . deploy/rasa.env; . deploy/api.env; set +a
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2
APP=.venv/bin/python
mkdir -p var/log

for db in "$TRACKER_PG_DB" "${DATABASE_URL##*/}"; do
    $APP - "$db" <<'PY'
import sys, psycopg, os
db = sys.argv[1]
with psycopg.connect(host=os.environ["TRACKER_PG_HOST"], port=os.environ["TRACKER_PG_PORT"],
                     user=os.environ["TRACKER_PG_USER"], dbname="postgres", autocommit=True) as c:
    if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
        c.execute(f'CREATE DATABASE "{db}"')
        print("created database", db)
PY
done
$APP -m knowledge build && $APP -m migrations && $APP -m policies.seed

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# Loopback only (nginx on 127.0.0.1 in front); the gateway is the only public surface. Production secrets
# are checked first (APP_ENV=production refuses dev or missing ones, see docs/security.md).
$APP -m core.secrets check deploy || exit 1
read -r -a RASA_ARGS <<< "$($APP -m core.secrets rasa-args)"
for i in $(seq 0 $((M - 1))); do
    SANIC_HOST=127.0.0.1 $APP -m actions --port $((5055 + i)) > "var/log/actions_$i.log" 2>&1 &
    pids+=($!)
done
for i in $(seq 0 $((N - 1))); do
    .venv-rasa/bin/rasa run "${RASA_ARGS[@]}" --model models/assistant.tar.gz --endpoints deploy/endpoints.yml \
        --credentials bot/credentials.yml --port $((5005 + i)) > "var/log/rasa_$i.log" 2>&1 &
    pids+=($!)
done
echo "$N Rasa servers on :5005.., $M action servers on :5055..; nginx (deploy/nginx.conf) on :5000 and :5050"
echo "gateway: set -a; . deploy/api.env; set +a; $APP -m uvicorn api.app:app --port 8000"
wait -n
