"""Answer correctness on the blind single-turn sets (bench/blind/single/), through a channel.

    PYTHONPATH=. .venv/bin/python bench/eval_blind.py                      # dev split, REST :5005
    PYTHONPATH=. .venv/bin/python bench/eval_blind.py --split frozen       # the frozen third (scores only)
    PYTHONPATH=. .venv/bin/python bench/eval_blind.py --failures           # dev failures with the replies
    PYTHONPATH=. .venv/bin/python bench/eval_blind.py --channel widget --url http://127.0.0.1:8000
    PYTHONPATH=. .venv/bin/python bench/eval_blind.py --channel direct     # assist.qa alone, no servers

Each question is a new conversation: sent to Rasa's REST channel (or the gateway's widget / WeChat /
IVR channel) with the writer's `channel_insurer` as the channel's insurer. Scoring: bench/blind_judge.py.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.blind_judge import cites_lines, judge_turn  # noqa: E402
from bench.channel_client import ChannelClient  # noqa: E402

HERE = Path(__file__).resolve().parent
SINGLE = HERE / "blind" / "single"


def load(split: str, folder: Path = SINGLE, key: str = "items") -> list[dict]:
    """The entries (`key`) of a blind set's files of one split ("all": both), each marked with its split."""
    items = []
    for path in sorted(folder.glob("*.yaml")):
        part = path.name.split(".")[-2]
        if split != "all" and part != split:
            continue
        for it in yaml.safe_load(path.read_text(encoding="utf-8"))[key]:
            it["_split"] = part
            items.append(it)
    return items


def sample(items: list[dict], n: int, seed: int = 7) -> list[dict]:
    """n items, spread over kinds in proportion (fixed seed: the same sample every run)."""
    if n <= 0 or n >= len(items):
        return items
    rnd = random.Random(seed)
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        by_kind[it.get("kind") or "?"].append(it)
    out = []
    for kind, group in sorted(by_kind.items()):
        k = max(1, round(n * len(group) / len(items)))
        out += rnd.sample(group, min(k, len(group)))
    return out[:n]


def evaluate(items: list[dict], client: ChannelClient) -> list[dict]:
    results = []
    for it in items:
        sender = f"blind-{uuid.uuid4().hex[:12]}"
        t0 = time.perf_counter()
        try:
            text, sources = client.say(sender, it["q"], insurer=it.get("channel_insurer"))
            problems = judge_turn(it, text, sources)
        except Exception as e:  # a broken reply counts as wrong; the run goes on
            text, sources, problems = "", [], [f"error: {e!r}"]
        results.append({"item": it, "text": text, "sources": sources, "problems": problems,
                        "lines": cites_lines(it, sources), "ms": (time.perf_counter() - t0) * 1000})
    return results


def report(results: list[dict], show_failures: bool) -> float:
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        it, ok = r["item"], not r["problems"]
        kinds = [it.get("kind") or "?"]
        if it.get("kind") == "spoken" and it.get("base_kind"):
            kinds.append(f"spoken:{it['base_kind']}")
        for k in kinds + [f"manual {str(it['id'])[:3]}"]:
            by[k][0] += 1
            by[k][1] += ok
    for k, (n, good) in sorted(by.items()):
        print(f"  {k:<24} {good:>3}/{n:<3} {100 * good / n:5.1f}%")
    n, good = len(results), sum(not r["problems"] for r in results)
    silent_wrong = sum(1 for r in results if r["item"].get("answerable", True) is not False
                       and any("says the manual does not say" in p for p in r["problems"]))
    invented = sum(1 for r in results if r["item"].get("answerable", True) is False and r["problems"])
    lines = [r["lines"] for r in results if r["lines"] is not None]
    print(f"answerable answered 'manual does not say': {silent_wrong}; unanswerable not answered honestly: {invented}")
    if lines:
        print(f"cites the writer's lines: {sum(lines)}/{len(lines)}")
    print(f"answer correctness: {good}/{n} = {100 * good / max(n, 1):.1f}%")
    if show_failures:
        for r in results:
            if r["problems"]:
                it = r["item"]
                print(f"\n✗ {it['id']} [{it.get('kind')}] {it['q']}\n  problems: {'; '.join(r['problems'])}"
                      f"\n  reply: {r['text'][:400]!s}")
    return good / max(n, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:5005")
    ap.add_argument("--channel", default="rest", choices=["rest", "widget", "ivr", "direct"])
    ap.add_argument("--split", default="dev", choices=["dev", "frozen", "all"])
    ap.add_argument("--sample", type=int, default=0, help="score a fixed sample of N items")
    ap.add_argument("--only", default="", help="comma-separated item ids or id prefixes")
    ap.add_argument("--failures", action="store_true", help="print wrong replies (never for the frozen split)")
    ap.add_argument("--min", type=float, default=0.0, help="exit 1 below this share correct")
    ap.add_argument("--json", default="", help="write the results to this file")
    args = ap.parse_args(argv)
    items = load(args.split)
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        items = [it for it in items if any(str(it["id"]).startswith(k) for k in keys)]
    items = sample(items, args.sample)
    client = ChannelClient(args.channel, args.url)
    print(f"blind single-turn set, split {args.split}, {len(items)} items, channel {args.channel} ({args.url})")
    results = evaluate(items, client)
    share = report(results, args.failures and args.split == "dev")
    if args.json:
        Path(args.json).write_text(json.dumps([{"id": r["item"]["id"], "ok": not r["problems"],
                                                "problems": r["problems"]} for r in results],
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if share < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
