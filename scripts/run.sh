#!/usr/bin/env bash
# Starts every service on embedded defaults (SQLite under var/). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
APP=.venv/bin/python
mkdir -p var/log

$APP -m knowledge build          # manuals -> knowledge store (idempotent)
$APP -m migrations               # Alembic upgrade head for policies and tickets
$APP -m policies.seed            # demo policies (idempotent)

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$APP -m uvicorn api.app:app --host "${API_HOST:-127.0.0.1}" --port "${API_PORT:-8000}" &
pids+=($!)
echo "service API: http://${API_HOST:-127.0.0.1}:${API_PORT:-8000}/docs"
wait -n
