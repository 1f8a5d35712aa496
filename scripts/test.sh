#!/usr/bin/env bash
# The whole test suite (make test; CI runs exactly this through .ci/run):
#   0. ruff over the repository, mypy over core/, knowledge/, rules/ and assist/
#   1. knowledge store + trained model (training skips when inputs are unchanged)
#   2. Rasa's own checks: data validation, NLU evaluation on the held-out split, test stories
#   3. pytest: unit, integration, PostgreSQL/Redis, browser and end-to-end conversation tests
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2
APP=.venv/bin/python
RASA=.venv-rasa/bin
mkdir -p var/log results

step() { printf '\n== %s\n' "$*"; }

step "lint (ruff) and types (mypy: core, knowledge, rules and the application layer)"
.venv/bin/ruff check .
.venv/bin/mypy core knowledge rules assist --ignore-missing-imports --follow-imports=silent --no-error-summary
echo ok

step "knowledge store"
$APP -m knowledge build

step "train (skipped when nothing changed)"
bash scripts/train.sh > var/log/train.log 2>&1 || { tail -50 var/log/train.log; exit 1; }
tail -1 var/log/train.log

step "rasa data validate"
$RASA/rasa data validate --config bot/config.yml --domain bot/domain.yml --data bot/data nlu_data/train \
    > var/log/validate.log 2>&1 || { tail -40 var/log/validate.log; exit 1; }
echo ok

step "NLU evaluation on the held-out split (nlu_data/test)"
$RASA/python bench/eval_nlu.py --model models/assistant.tar.gz --min-macro-f1 0.95

step "test stories (fail on prediction errors)"
$RASA/rasa test core --model models/assistant.tar.gz --stories bot/tests --endpoints endpoints.yml \
    --fail-on-prediction-errors --out results/core > var/log/test_core.log 2>&1 \
    || { tail -40 var/log/test_core.log; exit 1; }
grep -h -m1 -E "Correct:|correct" var/log/test_core.log || true
echo ok

step "pytest"
$APP -m pytest "$@"
