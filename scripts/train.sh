#!/usr/bin/env bash
# NLU + dialogue training: export gazetteer -> build spaCy pipeline -> rasa train.
# Each step skips when its inputs did not change (gazetteer hash, pipeline stamp, Rasa's
# fingerprint cache under .rasa/), so a re-run with unchanged data takes seconds.
#   bash scripts/train.sh            # logs to var/log/train.log
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
mkdir -p var/log var/nlp models
APP=.venv/bin/python
RASA=.venv-rasa/bin

$APP -m bot.nlp.export_gazetteer
$RASA/python bot/nlp/build_spacy.py
$RASA/python bot/nlp/generate_examples.py

# keep the Rasa cache in the project (fingerprints survive between runs); fixed model name so
# models/ holds one stable file
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-$PWD/var/rasa_cache}"
export TF_CPP_MIN_LOG_LEVEL=2
# two shared cores: let TensorFlow use one thread pool of at most 2
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" TF_NUM_INTRAOP_THREADS="${TF_NUM_INTRAOP_THREADS:-2}" TF_NUM_INTEROP_THREADS="${TF_NUM_INTEROP_THREADS:-1}"
data=(nlu_data/train)
[ -d bot/data ] && data=(bot/data nlu_data/train)
$RASA/rasa train --config bot/config.yml --domain bot/domain.yml --data "${data[@]}" \
    --out models --fixed-model-name assistant "$@"
