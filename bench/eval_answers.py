"""Answer correctness on bench/questions.yaml.

    PYTHONPATH=. .venv/bin/python bench/eval_answers.py                 # REST if a server answers, else direct
    PYTHONPATH=. .venv/bin/python bench/eval_answers.py --direct        # actions only (no NLU, no Rasa)
    PYTHONPATH=. .venv/bin/python bench/eval_answers.py --url http://localhost:5005 --failures

REST mode sends each question's text (or its turns) to POST /webhooks/rest/webhook with the insurer as
channel metadata, so it measures NLU + dialogue + actions. Direct mode runs the answering action on a
tracker holding the question's intent, entities and slots, so it measures the actions and the store only.
The output says which mode ran. Needs the knowledge store and the demo policies (make run / policies.seed).
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
NOT_IN_MANUAL = re.compile(r"手册(里|的清单里)?没有(写|列出|给出)|没能确认|没法确认")
STATUS = {
    "covered": re.compile(r"服务范围内|服务医院清单里|全国范围都可以"),
    "not_covered": re.compile(r"没有.{0,30}暂时用不了|不在.{0,30}清单里"),
}
DECISION = {"eligible": re.compile(r"可以使用"), "not_eligible": re.compile(r"还不能使用"),
            "need_info": re.compile(r"还需要确认")}


def judge(expect: dict, text: str, answers: list[dict]) -> list[str]:
    """What is wrong with an answer (empty list = correct)."""
    problems = []
    for word in expect.get("contains") or []:
        if word not in text:
            problems.append(f"missing “{word}”")
    status = expect.get("status")
    if status and not STATUS[status].search(text):
        problems.append(f"not stated as {status}")
    if status == "covered" and STATUS["not_covered"].search(text):
        problems.append("also says not covered")
    if expect.get("says_not_in_manual"):
        if not NOT_IN_MANUAL.search(text):
            problems.append("does not say the manuals do not say")
        if "转人工" not in text and not re.search(r"\d{5}", text):
            problems.append("offers neither hotline nor human")
    decision = expect.get("decision")
    if decision and not DECISION[decision].search(text):
        problems.append(f"decision is not {decision}")
    src = expect.get("source")
    if src:
        ids = [s.get("manual_id", "") for a in answers for s in a.get("sources") or []]
        if not any(i.startswith(src) for i in ids):
            problems.append(f"no source from manual {src}")
    facts = status in ("covered", "not_covered") or decision or src or expect.get("contains")
    if facts and not expect.get("says_not_in_manual") and not any(a.get("sources") for a in answers):
        problems.append("no source named")
    return problems


# -- direct mode -------------------------------------------------------------------------
def _direct_runner():
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.coverage import ActionCoverage
    from actions.eligibility import ActionCheckEligibility
    from actions.info import ActionContact, ActionHowToApply, ActionListServices, ActionServiceInfo
    from policies.seed import credentials

    mobiles = {c["number"]: c["mobile"] for c in credentials()}
    actions = {"ask_coverage": ActionCoverage(), "ask_service_info": ActionServiceInfo(),
               "ask_how_to_apply": ActionHowToApply(), "ask_contact": ActionContact(),
               "ask_services": ActionListServices(), "ask_eligibility": ActionCheckEligibility()}

    def run(item: dict) -> tuple[str, list[dict]]:
        slots = dict(item.get("slots") or {})
        if slots.get("policy_number"):
            slots["verifier"] = mobiles.get(slots["policy_number"], "")
        ents = [{"entity": k, "value": v} for k, v in (item.get("entities") or {}).items()]
        latest = {"intent": {"name": item["intent"], "confidence": 1.0}, "entities": ents, "text": item["q"],
                  "metadata": {"insurer": item["insurer"]} if item.get("insurer") else {}}
        t = Tracker.from_dict({"sender_id": "bench", "slots": slots, "latest_message": latest,
                               "events": [{"event": "user", "text": item["q"], "parse_data": latest}],
                               "active_loop": {}, "latest_action_name": "action_listen"})
        d = CollectingDispatcher()
        asyncio.run(actions[item["intent"]].run(d, t, {}))
        return ("\n".join(m["text"] for m in d.messages if m.get("text")),
                [m["custom"]["answer"] for m in d.messages if m.get("custom")])

    return run


# -- REST mode ---------------------------------------------------------------------------
def _rest_runner(url: str):
    import httpx

    from policies.seed import credentials

    mobiles = {c["number"]: c["mobile"] for c in credentials()}
    client = httpx.Client(timeout=60)

    from core.secrets import rasa_channel_headers

    def run(item: dict) -> tuple[str, list[dict]]:
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        md = {"insurer": item["insurer"]} if item.get("insurer") else {}
        number = (item.get("slots") or {}).get("policy_number", "")
        turns = item.get("turns") or [item["q"]]
        out: list = []
        for turn in turns:
            msg = turn.replace("{mobile}", mobiles.get(number, ""))
            r = client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": msg, "metadata": md},
                            headers=rasa_channel_headers())  # the token of a `make run` stack
            r.raise_for_status()
            out = r.json()
        return ("\n".join(m["text"] for m in out if m.get("text")),
                [m["custom"]["answer"] for m in out if isinstance(m.get("custom"), dict) and "answer" in m["custom"]])

    return run


def server_up(url: str) -> bool:
    try:
        import httpx

        return httpx.get(f"{url}/status", timeout=3).status_code < 500
    except Exception:
        return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://localhost:5005")
    ap.add_argument("--direct", action="store_true", help="run the actions directly (no Rasa server)")
    ap.add_argument("--questions", default=str(HERE / "questions.yaml"))
    ap.add_argument("--failures", action="store_true", help="print every wrong answer")
    args = ap.parse_args(argv)
    items = yaml.safe_load(Path(args.questions).read_text(encoding="utf-8"))["questions"]
    rest = not args.direct and server_up(args.url)
    mode = f"REST {args.url}/webhooks/rest/webhook (NLU + dialogue + actions)" if rest else \
        "direct: actions on trackers built from the questions' intents/entities (no NLU, no Rasa server)"
    run = _rest_runner(args.url) if rest else _direct_runner()
    ok, by_intent, wrong = 0, {}, []
    for item in items:
        try:
            text, answers = run(item)
            problems = judge(item["expect"], text, answers)
        except Exception as e:  # a broken answer counts as wrong, the run goes on
            text, problems = "", [f"error: {e}"]
        good = not problems
        ok += good
        n, k = by_intent.get(item["intent"], (0, 0))
        by_intent[item["intent"]] = (n + 1, k + good)
        if not good:
            wrong.append((item, text, problems))
    print(f"mode: {mode}")
    for intent, (n, k) in sorted(by_intent.items()):
        print(f"  {intent:<18} {k:>3}/{n:<3} {100 * k / n:5.1f}%")
    print(f"answer correctness: {ok}/{len(items)} = {100 * ok / len(items):.1f}%")
    if args.failures:
        for item, text, problems in wrong:
            print(f"\n✗ {item['q']}  [{'; '.join(problems)}]\n  {text[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
