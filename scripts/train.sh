#!/usr/bin/env bash
# NLU + dialogue training: export gazetteer -> build spaCy pipeline -> rasa train.
# Each step skips when its inputs did not change (gazetteer hash, pipeline stamp, Rasa's
# fingerprint cache under .rasa/), so a re-run with unchanged data takes seconds.
#   bash scripts/train.sh            # NLU + dialogue -> models/assistant.tar.gz
#   bash scripts/train.sh nlu        # NLU only      -> models/nlu.tar.gz (bench/eval_nlu.py)
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
# Rasa restores the featurizers from its cache but always retrains DIET (~1 min), so the
# script itself skips rasa when the inputs' hash equals the one stored with the model.
inputs_hash() {
    find bot/config.yml bot/domain.yml "$@" bot/components bot/nlp var/nlp/zh_pipeline/gazetteer.stamp \
        -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.stamp' \) -print0 2>/dev/null \
        | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
if [ "${1:-}" = "nlu" ]; then
    shift
    model=models/nlu.tar.gz
    h=$(inputs_hash nlu_data/train)
    if [ -f "$model" ] && [ "$(cat "$model.inputs" 2>/dev/null)" = "$h" ] && [ "${FORCE:-0}" != 1 ]; then
        echo "NLU model up to date: $model"; exit 0
    fi
    $RASA/rasa train nlu --config bot/config.yml --domain bot/domain.yml --nlu nlu_data/train \
        --out models --fixed-model-name nlu "$@"
    echo "$h" > "$model.inputs"
    exit 0
fi
data=(nlu_data/train)
[ -d bot/data ] && data=(bot/data nlu_data/train)
model=models/assistant.tar.gz
h=$(inputs_hash "${data[@]}")
if [ -f "$model" ] && [ "$(cat "$model.inputs" 2>/dev/null)" = "$h" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "model up to date: $model"; exit 0
fi
$RASA/rasa train --config bot/config.yml --domain bot/domain.yml --data "${data[@]}" \
    --out models --fixed-model-name assistant "$@"
echo "$h" > "$model.inputs"
