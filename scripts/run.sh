#!/usr/bin/env bash
# Starts every service on embedded defaults (SQLite under var/). Ctrl-C stops them all.
#   action server 127.0.0.1:5055   Rasa (REST channel, token) 127.0.0.1:5005   service API + channels :8000
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2
export RASA_URL="${RASA_URL:-http://127.0.0.1:${RASA_PORT:-5005}}"
APP=.venv/bin/python
RASA=.venv-rasa/bin
mkdir -p var/log

$APP -m knowledge build          # manuals -> knowledge store (idempotent)
$APP -m migrations               # Alembic upgrade head for policies and tickets
$APP -m policies.seed            # demo policies (idempotent)
bash scripts/train.sh            # trains only when data or config changed

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Only the gateway (:8000) is meant to be reached; Rasa and the action server listen on 127.0.0.1, Rasa's
# HTTP API stays off unless RASA_API_TOKEN is set, and its REST channel needs RASA_CHANNEL_TOKEN (a fresh
# random one per run unless set; local tools read it from var/rasa_channel_token). See docs/security.md.
$APP -m core.secrets check "make run" || exit 1
if [ -z "${RASA_CHANNEL_TOKEN:-}" ]; then
    RASA_CHANNEL_TOKEN="$($APP -c 'import secrets; print(secrets.token_urlsafe(32))')"
    (umask 077; printf '%s\n' "$RASA_CHANNEL_TOKEN" > var/rasa_channel_token)
fi
export RASA_CHANNEL_TOKEN
read -r -a RASA_ARGS <<< "$($APP -m core.secrets rasa-args)"
SANIC_HOST=127.0.0.1 $APP -m actions --port "${ACTIONS_PORT:-5055}" > var/log/actions.log 2>&1 &
pids+=($!)
$RASA/rasa run "${RASA_ARGS[@]}" --model models/assistant.tar.gz --endpoints endpoints.yml \
    --credentials bot/credentials.yml --port "${RASA_PORT:-5005}" > var/log/rasa.log 2>&1 &
pids+=($!)
$APP -m uvicorn api.app:app --host "${API_HOST:-127.0.0.1}" --port "${API_PORT:-8000}" &
pids+=($!)

echo "action server: 127.0.0.1:${ACTIONS_PORT:-5055} (var/log/actions.log)"
echo "Rasa:          http://127.0.0.1:${RASA_PORT:-5005}/webhooks/rest/webhook, Bearer token in var/rasa_channel_token (var/log/rasa.log)"
echo "service API:   http://${API_HOST:-127.0.0.1}:${API_PORT:-8000}/docs   widget: /widget"
wait -n
