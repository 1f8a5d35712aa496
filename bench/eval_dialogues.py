"""Conversations on the blind multi-turn sets (bench/blind/multi/), played through a channel.

    PYTHONPATH=. .venv/bin/python bench/eval_dialogues.py                  # dev split, REST :5005
    PYTHONPATH=. .venv/bin/python bench/eval_dialogues.py --split frozen   # the frozen third (scores only)
    PYTHONPATH=. .venv/bin/python bench/eval_dialogues.py --failures       # dev failures with the replies

Each scenario is one new conversation. Every turn is judged like a single question (bench/blind_judge.py);
at the end the ticket the conversation opened (tickets.conversation_id = the sender) is compared with the
scenario's `ticket` (service, policy, person, city, hospital, time, phone), or must be absent (`no_ticket`).
A scenario is right only when every turn and the ticket are. `{id_last4:POLICY}` in a message is filled
from the seeded policies (policies.seed.credentials). Needs the stack's database (APP_DATABASE_URL); before
each scenario the identity-check lockouts in it are cleared (each scenario is a new customer).
"""
from __future__ import annotations

import argparse
import re
import sys
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.blind_judge import judge_turn, normalise  # noqa: E402
from bench.channel_client import ChannelClient  # noqa: E402

HERE = Path(__file__).resolve().parent
MULTI = HERE / "blind" / "multi"
PLACEHOLDER = re.compile(r"\{id_last4:([A-Z0-9]+)\}")


def load(split: str) -> list[dict]:
    from bench.eval_blind import load as load_set

    return load_set(split, MULTI, "scenarios")


def fill(text: str, creds: dict[str, dict]) -> str:
    return PLACEHOLDER.sub(lambda m: creds.get(m.group(1), {}).get("id_last4", m.group(0)), text)


def _tickets(sender: str) -> list:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from core.db import engine_for
    from tickets.models import Ticket

    with Session(engine_for()) as s:
        return list(s.scalars(select(Ticket).where(Ticket.conversation_id.like(f"%{sender}"))))


def _reset_lockouts() -> None:
    """Each scenario starts as a new customer: identity-check lockouts earlier scenarios (or runs) left on
    the demo policies are cleared from the stack's database (core.throttle's table)."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from core.db import engine_for
    from core.throttle import ThrottleRow

    with Session(engine_for()) as s:
        s.execute(delete(ThrottleRow))
        s.commit()


def _when(spec: dict, today) -> tuple[datetime, datetime] | None:
    """The date-time a `when` spec names, as a window (start, end) in Beijing time."""
    if not spec:
        return None
    if "days_ahead" in spec:
        day = today + timedelta(days=int(spec["days_ahead"]))
    else:
        monday = today - timedelta(days=today.weekday())
        day = monday + timedelta(weeks=int(spec.get("weeks_ahead", 1)), days=int(spec.get("weekday", 1)) - 1)
    at = datetime(day.year, day.month, day.day, int(spec.get("hour", 9)), int(spec.get("minute", 0)))
    return at, at


def judge_ticket(sc: dict, tickets: list, today) -> list[str]:
    want, none = sc.get("ticket"), sc.get("no_ticket")
    live = [t for t in tickets if t.status != "cancelled"]
    if none or not want:
        return [f"opened {len(live)} ticket(s)"] if none and live else []
    if not live:
        return ["no ticket"]
    t = live[-1]
    problems = []

    def same(a, b) -> bool:
        return bool(a) and bool(b) and (normalise(str(a)) in normalise(str(b)) or normalise(str(b)) in normalise(str(a)))

    svc = want.get("service")
    if svc and not any(same(s, t.service_name) for s in (svc if isinstance(svc, list) else [svc])):
        problems.append(f"service {t.service_name!r} (expected {svc})")
    for key, got in (("policy_number", t.policy_number), ("person", t.person_name), ("phone", t.contact_phone)):
        if want.get(key) and not same(want[key], got):
            problems.append(f"{key} {got!r} (expected {want[key]!r})")
    if want.get("city") and not same(want["city"], t.city_name or t.city_raw):
        problems.append(f"city {t.city_name or t.city_raw!r} (expected {want['city']!r})")
    if "hospital" in want:
        if want["hospital"] is None and t.hospital and "不指定" not in t.hospital:
            problems.append(f"hospital {t.hospital!r} (expected none)")
        elif want["hospital"] and not same(want["hospital"], t.hospital):
            problems.append(f"hospital {t.hospital!r} (expected {want['hospital']!r})")
    window = _when(want.get("when") or {}, today)
    if window:
        from core.clock import CHINA_TZ

        local = t.preferred_time.astimezone(CHINA_TZ).replace(tzinfo=None)
        if local != window[0]:
            problems.append(f"time {local:%Y-%m-%d %H:%M} (expected {window[0]:%Y-%m-%d %H:%M})")
    return problems


def play(sc: dict, client: ChannelClient, creds: dict, today, with_tickets: bool) -> dict:
    sender = f"dlg-{uuid.uuid4().hex[:12]}"
    turns = []
    for turn in sc["turns"]:
        say = fill(turn["say"], creds)
        try:
            text, sources = client.say(sender, say, insurer=sc.get("channel_insurer"))
            problems = judge_turn(turn, text, sources)
        except Exception as e:  # a broken reply counts as wrong; the run goes on
            text, problems = "", [f"error: {e!r}"]
        turns.append({"say": say, "text": text, "problems": problems})
    ticket = judge_ticket(sc, _tickets(sender), today) if with_tickets else []
    return {"scenario": sc, "turns": turns, "ticket": ticket,
            "ok": not ticket and all(not t["problems"] for t in turns)}


def report(results: list[dict], show: bool) -> float:
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    turns = [t for r in results for t in r["turns"]]
    for r in results:
        for k in (r["scenario"].get("pattern") or "?", "all"):
            by[k][0] += 1
            by[k][1] += r["ok"]
    for k, (n, good) in sorted(by.items()):
        print(f"  {k:<28} {good:>3}/{n:<3} {100 * good / n:5.1f}%")
    good_turns = sum(not t["problems"] for t in turns)
    tickets = [r for r in results if r["scenario"].get("ticket") or r["scenario"].get("no_ticket")]
    print(f"turns right: {good_turns}/{len(turns)} = {100 * good_turns / max(len(turns), 1):.1f}%")
    print(f"tickets right: {sum(not r['ticket'] for r in tickets)}/{len(tickets)}")
    sets: dict[str, list[dict]] = defaultdict(list)  # by id prefix: M1-, MB-, R4M- ... (one set each)
    for r in results:
        sets[re.sub(r"-\d+$", "", r["scenario"]["id"])].append(r)
    for k, rs in sorted(sets.items()):
        ts = [t for r in rs for t in r["turns"]]
        tk = [r for r in rs if r["scenario"].get("ticket") or r["scenario"].get("no_ticket")]
        print(f"  set {k:<6} end to end {sum(r['ok'] for r in rs)}/{len(rs)}, turns "
              f"{sum(not t['problems'] for t in ts)}/{len(ts)}, tickets {sum(not r['ticket'] for r in tk)}/{len(tk)}")
    n, good = len(results), sum(r["ok"] for r in results)
    print(f"conversations right end to end: {good}/{n} = {100 * good / max(n, 1):.1f}%")
    if show:
        for r in results:
            if r["ok"]:
                continue
            sc = r["scenario"]
            print(f"\n✗ {sc['id']} [{sc.get('pattern')}] {sc.get('note', '')}")
            for t in r["turns"]:
                mark = "✗" if t["problems"] else "✓"
                print(f"  {mark} > {t['say']}\n      {t['text'][:220]!s}")
                if t["problems"]:
                    print(f"      problems: {'; '.join(t['problems'])}")
            if r["ticket"]:
                print(f"  ticket: {'; '.join(r['ticket'])}")
    return good / max(n, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:5005")
    ap.add_argument("--channel", default="rest", choices=["rest", "widget", "ivr"])
    ap.add_argument("--split", default="dev", choices=["dev", "frozen", "all"])
    ap.add_argument("--only", default="", help="comma-separated scenario ids or id prefixes")
    ap.add_argument("--failures", action="store_true", help="print wrong conversations (never for frozen)")
    ap.add_argument("--no-tickets", action="store_true", help="do not read the ticket database")
    ap.add_argument("--min", type=float, default=0.0, help="exit 1 below this share right end to end")
    args = ap.parse_args(argv)
    scenarios = load(args.split)
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        scenarios = [s for s in scenarios if any(str(s["id"]).startswith(k) for k in keys)]
    creds = {}
    if not args.no_tickets:
        from policies.seed import credentials

        creds = {c["number"]: c for c in credentials()}
    from core.clock import today_china

    client = ChannelClient(args.channel, args.url)
    print(f"blind conversations, split {args.split}, {len(scenarios)} scenarios, channel {args.channel}")
    today = today_china()
    results = []
    for sc in scenarios:
        if not args.no_tickets:
            _reset_lockouts()
        results.append(play(sc, client, creds, today, not args.no_tickets))
    share = report(results, args.failures and args.split == "dev")
    return 1 if share < args.min else 0


if __name__ == "__main__":
    sys.exit(main())
