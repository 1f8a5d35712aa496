"""NLU evaluation on the held-out split (runs in .venv-rasa, from the project root).

    PYTHONPATH=. .venv-rasa/bin/python bench/eval_nlu.py [--no-train] [--json out.json]

1. trains the NLU model if needed (scripts/train.sh nlu: near-instant when nothing changed),
2. `rasa test nlu --nlu nlu_data/test` -> results/nlu/ (Rasa's own reports),
3. parses every test message with the trained model (all extractors, the gazetteer mapper
   and the synonym mapper, as the assistant sees it) and scores entities end to end:
   a predicted entity counts when entity name, value and span all equal the gold ones,
4. prints intent accuracy, intent macro-F1 (from results/nlu/intent_report.json) and the
   entity precision/recall/F1 per entity and overall.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "nlu.tar.gz"  # scripts/train.sh nlu (default; --model picks another)
TEST = ROOT / "nlu_data" / "test"
OUT = ROOT / "results" / "nlu"


def run(cmd: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = ROOT / "var" / "log" / "eval_nlu.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        r = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if r.returncode:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)} -- see {log}")


def gold_messages():
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(TEST))
    return [m for m in data.intent_examples]


def predict(texts: list[str], model: Path = MODEL) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def go():
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(go())


def entity_scores(gold: list[list[dict]], pred: list[list[dict]]) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        gs = {(e["entity"], str(e["value"]), e["start"], e["end"]) for e in g}
        ps = {(e["entity"], str(e["value"]), e["start"], e["end"]) for e in p}
        for e in gs & ps:
            tp[e[0]] += 1
        for e in ps - gs:
            fp[e[0]] += 1
        for e in gs - ps:
            fn[e[0]] += 1

    def prf(t, f_p, f_n):
        p = t / (t + f_p) if t + f_p else 0.0
        r = t / (t + f_n) if t + f_n else 0.0
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
                "support": t + f_n}

    labels = sorted(set(tp) | set(fp) | set(fn))
    out = {lab: prf(tp[lab], fp[lab], fn[lab]) for lab in labels}
    out["micro avg"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--model", type=Path, default=None,
                    help="evaluate this trained model (e.g. models/assistant.tar.gz) instead of training the NLU-only one")
    ap.add_argument("--min-macro-f1", type=float, default=None, help="exit 1 when intent macro-F1 is below this")
    args = ap.parse_args(argv)
    model = args.model or MODEL
    logging.disable(logging.WARNING)
    rasa = str(ROOT / ".venv-rasa" / "bin" / "rasa")
    if not args.no_train and args.model is None:
        run(["bash", "scripts/train.sh", "nlu"])
    if not model.exists():
        sys.exit(f"no model at {model}")
    run([rasa, "test", "nlu", "--nlu", str(TEST), "--model", str(model), "--out", str(OUT)])
    report = json.loads((OUT / "intent_report.json").read_text())
    msgs = gold_messages()
    parsed = predict([m.get("text") for m in msgs], model)
    gold_ents = [m.get("entities") or [] for m in msgs]
    pred_ents = [p.get("entities") or [] for p in parsed]
    ents = entity_scores(gold_ents, pred_ents)
    misses = []
    for m, p in zip(msgs, parsed):
        g = {(e["entity"], str(e["value"])) for e in m.get("entities") or []}
        q = {(e["entity"], str(e["value"])) for e in p.get("entities") or []}
        if g != q or p["intent"]["name"] != m.get("intent"):
            misses.append({"text": m.get("text"), "intent": m.get("intent"), "predicted": p["intent"]["name"],
                           "missing": sorted(g - q), "extra": sorted(q - g)})
    summary = {
        "test_examples": len(msgs),
        "intent_accuracy": round(report["accuracy"], 3),
        "intent_macro_f1": round(report["macro avg"]["f1-score"], 3),
        "intent_weighted_f1": round(report["weighted avg"]["f1-score"], 3),
        "entity_micro_f1": ents["micro avg"]["f1"],
        "entities": ents,
        "errors": misses,
    }
    print(f"held-out examples: {len(msgs)}")
    print(f"intent accuracy:   {summary['intent_accuracy']:.3f}")
    print(f"intent macro-F1:   {summary['intent_macro_f1']:.3f}")
    print(f"entity F1 (micro, exact entity+value+span): {summary['entity_micro_f1']:.3f}")
    for lab, s in ents.items():
        print(f"  {lab:14s} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  n={s['support']}")
    if misses:
        print(f"errors ({len(misses)}):")
        for e in misses:
            print(f"  {e['text']}  [{e['intent']} -> {e['predicted']}]  missing {e['missing']} extra {e['extra']}")
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    if args.min_macro_f1 is not None and summary["intent_macro_f1"] < args.min_macro_f1:
        print(f"FAIL: intent macro-F1 {summary['intent_macro_f1']:.3f} < {args.min_macro_f1}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
