"""Chat load: N concurrent simulated customers play the conversations of bench/conversations.yaml against the
real processes, through (a) Rasa's REST channel and (b) the gateway's /wechat endpoint (signed plain WeChat
XML), for the assistant (action server + knowledge store) and a bare Rasa bot with fixed utterances
(bench/bare_bot, same NLU). Reports turns/s and p50/p95/p99 per turn, errors and timeouts, and the
assistant/bare ratio.

    PYTHONPATH=. .venv/bin/python -m bench.chat_load [--clients 1,10,50] [--duration 20] [--out docs/performance.md]

Starts everything itself on free loopback ports with private SQLite databases (app store + tracker store)
under a temporary directory, warms each stack up, runs, stops. Logs: var/log/bench_*.log.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import random
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from bench import common
from tests import servers as S

ROOT = common.ROOT
CONVERSATIONS = ROOT / "bench" / "conversations.yaml"
BARE_MODEL = ROOT / "var" / "bench" / "bare.tar.gz"
WX_TOKEN, WX_APP_ID, WX_SECRET = "bench-token", "wx0000000000bench0", "bench-secret"
WX_AES = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
WX_DEADLINE = 4.5  # the gateway's passive-reply budget (WeChat waits 5 s)
WELL_INSIDE = 3.0  # "well inside 5 s": at least 2 s of margin for WeChat's own network and retries


# -- conversations ------------------------------------------------------------------------------

@dataclass
class Conversation:
    name: str
    turns: list[tuple[str, str | None]]  # (text, expected substring)


def load_conversations(path: Path = CONVERSATIONS, creds: dict | None = None,
                       names: list[str] | None = None) -> tuple[str, list[Conversation]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for c in data["conversations"]:
        if names and c["name"] not in names:
            continue
        cred = (creds or {}).get(c.get("policy")) or {}
        fill = {"policy": cred.get("number", c.get("policy", "")), "mobile": cred.get("mobile", "")}
        out.append(Conversation(c["name"], [(str(t["text"]).format(**fill), t.get("expect")) for t in c["turns"]]))
    if not out:
        raise ValueError(f"no conversations selected from {path}")
    return data.get("insurer") or "", out


# -- the processes ------------------------------------------------------------------------------

def prepare_db(tmp: Path) -> tuple[str, dict]:
    """A private app store: knowledge built from the manuals, migrated, demo policies seeded."""
    from core.db import make_engine
    from knowledge.ingest import build
    from migrations import upgrade_head
    from policies.seed import credentials, seed

    url = f"sqlite:///{tmp / 'app.db'}"
    engine = make_engine(url)
    build(engine)
    upgrade_head(engine)
    seed(engine)
    creds = {c["number"]: c for c in credentials(engine)}
    engine.dispose()
    return url, creds


class Stack:
    """Action server (assistant only), Rasa and the gateway for one bot, on free ports."""

    def __init__(self, bot: str, tmp: Path, db_url: str, insurer: str, wx_api_base: str):
        self.bot = bot
        self.model = S.MODEL if bot == "assistant" else BARE_MODEL
        self.env = S.base_env(db_url)
        self.action_port, self.rasa_port, self.gw_port = S.free_port(), S.free_port(), S.free_port()
        work = tmp / bot
        work.mkdir(parents=True, exist_ok=True)
        self.endpoints = S.endpoints_yaml(work / "endpoints.yml", f"http://127.0.0.1:{self.action_port}/webhook",
                                          {"type": "SQL", "dialect": "sqlite", "db": str(work / "tracker.db")})
        self.gw_env = {**self.env, "RASA_URL": f"http://127.0.0.1:{self.rasa_port}", "SUPPORT_HOTLINE": "",
                       "CHANNELS_REDIS_URL": "", "WECHAT_APP_ID": WX_APP_ID, "WECHAT_TOKEN": WX_TOKEN,
                       "WECHAT_ENCODING_AES_KEY": WX_AES, "WECHAT_APP_SECRET": WX_SECRET,
                       "WECHAT_INSURER": insurer, "WECHAT_MODE": "compat", "WECHAT_API_BASE": wx_api_base,
                       "WECHAT_REPLY_DEADLINE": str(WX_DEADLINE)}
        self.procs: dict[str, object] = {}

    def start(self) -> "Stack":
        if self.bot == "assistant":
            self.procs["action server"] = S.start_actions(self.env, self.action_port, "bench_actions", wait=False)
        self.procs["rasa"] = S.start_rasa(self.env, self.rasa_port, self.endpoints, f"bench_rasa_{self.bot}",
                                          wait=False, model=self.model)
        self.procs["gateway"] = S.start_gateway(self.gw_env, self.gw_port, f"bench_gateway_{self.bot}")
        if "action server" in self.procs:
            S.wait_http(f"http://127.0.0.1:{self.action_port}/health", self.procs["action server"])
        S.wait_rasa(self.rasa_port, self.procs["rasa"])
        return self

    def stop(self) -> None:
        for name in ("gateway", "rasa", "action server"):
            S.stop(self.procs.get(name))

    def memory(self) -> dict[str, dict[str, int]]:
        """{process: {"rss", "peak"}} in bytes, from /proc (the process and its children)."""
        return {name: proc_memory(p.pid) for name, p in self.procs.items() if p.poll() is None}

    def cpu(self) -> dict[str, float]:
        return {name: proc_cpu(p.pid) for name, p in self.procs.items() if p.poll() is None}


def proc_memory(pid: int) -> dict[str, int]:
    total = {"rss": 0, "peak": 0}
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    total["rss" if key == "VmRSS" else "peak"] += int(rest.split()[0]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return total


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the process and its children."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return total


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
            for k in kids:
                out += [int(k), *_children(int(k))]
    except OSError:
        pass
    return out


# -- the clients ----------------------------------------------------------------------------------

def wx_sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def wx_text_xml(openid: str, content: str, msg_id: str) -> str:
    content = content.replace("]]>", "]]]]><![CDATA[>")
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def _xml_content(body: str) -> str:
    a = body.find("<Content><![CDATA[")
    b = body.find("]]></Content>", a)
    return body[a + 18:b] if a >= 0 and b > a else ""


class LateInbox:
    """Counts customer-service messages the gateway sent through the fake WeChat API, per openid."""

    def __init__(self, api):
        self.api = api

    def count(self, openid: str) -> int:
        return sum(1 for m in list(self.api.sent) if m.get("touser") == openid)

    async def wait_new(self, openid: str, seen: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.count(openid) > seen:
                return True
            await asyncio.sleep(0.05)
        return False


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    unexpected: int = 0
    late: int = 0            # WeChat: answered through the customer-service API after the passive deadline
    conversations: int = 0
    by_conv: dict = field(default_factory=dict)  # conversation name -> latencies
    error_samples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:200])


async def rest_turn(client: httpx.AsyncClient, port: int, sender: str, text: str, insurer: str,
                    timeout: float) -> str:
    r = await client.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", timeout=timeout,
                          json={"sender": sender, "message": text, "metadata": {"insurer": insurer}})
    r.raise_for_status()
    return "\n".join(m.get("text") or "" for m in r.json())


async def wechat_turn(client: httpx.AsyncClient, port: int, openid: str, text: str, timeout: float,
                      inbox: LateInbox, stats: Stats) -> str:
    seen = inbox.count(openid)
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    params = {"signature": wx_sign(WX_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": openid}
    xml = wx_text_xml(openid, text, str(uuid.uuid4().int)[:19])
    r = await client.post(f"http://127.0.0.1:{port}/wechat", params=params, content=xml.encode(),
                          headers={"Content-Type": "text/xml"}, timeout=timeout)
    r.raise_for_status()
    if r.text.strip() == "success":  # no passive reply: the answer comes later through the API
        stats.late += 1
        if not await inbox.wait_new(openid, seen, timeout):
            raise asyncio.TimeoutError
        return ""
    return _xml_content(r.text)


async def customer(idx: int, channel: str, stack: Stack, insurer: str, convs: list[Conversation], stop_at: float,
                   stats: Stats, client: httpx.AsyncClient, inbox: LateInbox | None, timeout: float,
                   check: bool, think: float = 0.0) -> None:
    rnd = random.Random(idx)
    if think > 0:  # customers do not all press send in the same millisecond: spread the first turns
        await asyncio.sleep(rnd.uniform(0, think))
    for n in itertools.count():
        conv = convs[(idx + n) % len(convs)]
        sender = f"bench-{channel}-{idx}-{uuid.uuid4().hex[:8]}"
        for text, expect in conv.turns:
            if time.monotonic() >= stop_at:
                return
            t0 = time.perf_counter()
            try:
                if channel == "rest":
                    reply = await rest_turn(client, stack.rasa_port, sender, text, insurer, timeout)
                else:
                    reply = await wechat_turn(client, stack.gw_port, sender, text, timeout, inbox, stats)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                stats.timeouts += 1
                break  # the conversation is out of step now: start a new one
            except Exception as exc:  # noqa: BLE001 - counted, shown in the report
                stats.error(f"{conv.name}/{text}: {exc.__class__.__name__}: {exc}")
                break
            stats.latencies.append(time.perf_counter() - t0)
            stats.by_conv.setdefault(conv.name, []).append(stats.latencies[-1])
            if check and expect and reply and expect not in reply:
                stats.unexpected += 1
            if think > 0:  # the customer reads and types: 0.5-1.5x the mean think time
                await asyncio.sleep(min(rnd.uniform(0.5 * think, 1.5 * think), max(0.0, stop_at - time.monotonic())))
        else:
            stats.conversations += 1


async def run_load(stack: Stack, channel: str, clients: int, duration: float, insurer: str,
                   convs: list[Conversation], inbox: LateInbox | None, timeout: float = 30.0,
                   think: float = 0.0) -> dict:
    stats = Stats()
    limits = httpx.Limits(max_connections=clients + 5, max_keepalive_connections=clients + 5)
    cpu0 = stack.cpu()
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        t0 = time.perf_counter()
        stop_at = time.monotonic() + duration
        await asyncio.gather(*(customer(i, channel, stack, insurer, convs, stop_at, stats, client, inbox, timeout,
                                        stack.bot == "assistant", think) for i in range(clients)))
        wall = time.perf_counter() - t0
    cpu = {k: v - cpu0.get(k, 0.0) for k, v in stack.cpu().items()}
    lat = stats.latencies
    return {"bot": stack.bot, "channel": channel, "clients": clients, "think": think, "wall": wall, "turns": len(lat),
            "tps": len(lat) / wall if wall else 0.0, "mean": sum(lat) / len(lat) if lat else float("nan"),
            "p50": common.percentile(lat, 50),
            "p95": common.percentile(lat, 95), "p99": common.percentile(lat, 99),
            "max": max(lat) if lat else float("nan"), "errors": stats.errors, "timeouts": stats.timeouts,
            "unexpected": stats.unexpected, "late": stats.late, "conversations": stats.conversations,
            "error_samples": stats.error_samples,
            "by_conv": {k: (len(v), common.percentile(v, 50), common.percentile(v, 95))
                        for k, v in stats.by_conv.items()},
            "cpu_per_turn": {k: v / len(lat) for k, v in cpu.items()} if lat else {}}


async def warm_up(stack: Stack, insurer: str, convs: list[Conversation], inbox: LateInbox) -> None:
    """Every conversation once through each channel (loads models, caches, connections)."""
    async with httpx.AsyncClient(trust_env=False) as client:
        for channel in ("rest", "wechat"):
            for conv in convs:
                await _one_conv(channel, stack, insurer, conv, Stats(), client, inbox)


async def _one_conv(channel, stack, insurer, conv, stats, client, inbox) -> None:
    sender = f"warm-{channel}-{uuid.uuid4().hex[:8]}"
    for text, _ in conv.turns:
        try:
            if channel == "rest":
                await rest_turn(client, stack.rasa_port, sender, text, insurer, 120)
            else:
                await wechat_turn(client, stack.gw_port, sender, text, 120, inbox, stats)
        except Exception:  # noqa: BLE001 - warm-up only
            return


# -- report ---------------------------------------------------------------------------------------

INTRO = """Simulated customers play the conversations of `bench/conversations.yaml` (coverage and follow-ups,
service info and contact, eligibility with the policy-verification form, a booking through the ticket form
with confirmation, chit-chat), each under a new sender id, for a fixed time per cell (think-time cells long
enough for about 100 turns). Both bots run side by side and play each cell one right after the other, so
drift of the shared machine hits both sides of a ratio alike. *think* is the mean
pause between a customer's turns (uniform 0.5-1.5× the mean; the first turns spread over one mean): 0 s is
saturation (every customer's next message is already waiting, so N requests are always in flight and
latency is N / throughput, Little's law); 2 s is a fast typist; 5 s is closer to a customer reading a
Chinese answer and typing the next question on a phone. **rest** = Rasa's REST channel directly;
**wechat** = the gateway's `/wechat` with signed plain WeChat XML (a reply later than the gateway's 4.5 s
passive deadline goes out through a local fake of WeChat's customer-service API; its latency is until that
message arrived, and it is counted as *late*).
Latency = one customer turn, request to full reply. Private SQLite app store and tracker store.
Regenerate (about 15 minutes; trains the bare bot once if needed):

    PYTHONPATH=. .venv/bin/python -m bench.chat_load [--clients 1,10,50] [--think 2,5] [--duration 20] \
        [--min-turns 100] [--out docs/performance.md]
"""

BARE_INTRO = """The same load against a bare Rasa model (`bench/bare_bot`: the assistant's NLU pipeline and
training data, one fixed `utter_` response per intent, no forms, no slots, no custom actions), so the ratio
is the cost of our actions, forms and knowledge queries on top of Rasa itself. Written by the same command
as "Chat load"."""


PROCS = ("rasa", "action server", "gateway")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b and b == b and a == a else "–"


def _total_cpu(r: dict) -> float:
    return sum((r.get("cpu_per_turn") or {}).values())


def _pooled_cpu(rows: list[dict]) -> float:
    """CPU per turn of all processes over several cells together (turn-weighted)."""
    turns = sum(r["turns"] for r in rows)
    return sum(_total_cpu(r) * r["turns"] for r in rows) / turns if turns else float("nan")


def targets(results: list[dict]) -> list[str]:
    """The brief's targets, met or missed, from the measured cells."""
    by = {(r["bot"], r["channel"], r["clients"], r["think"]): r for r in results}
    out = []
    for think in sorted({r["think"] for r in results}):
        r = by.get(("assistant", "rest", 10, think))
        if r:
            ok = r["p95"] <= 0.150
            what = "saturation, 10 requests always in flight" if think == 0 else f"think {think:g} s"
            out.append(f"- p95 per turn ≤ 150 ms at 10 customers (REST, {what}): "
                       f"{common.fmt_ms(r['p95'])} ms, **{'met' if ok else 'missed'}**")
    # total overhead = all the work a turn costs (CPU of every process per turn), and what one customer
    # waits for a turn with no queue in front (mean latency at 1 customer); p95 ratios are in the table
    pairs = [(k, r, by.get(("bare",) + k[1:])) for k, r in sorted(by.items(), key=lambda kv: kv[0][1:])
             if k[0] == "assistant"]
    pairs = [(k, r, b) for k, r, b in pairs if b and _total_cpu(b) and _total_cpu(r)]
    if pairs:
        # the verdict rests on the saturated cells pooled (every process busy, so CPU per turn is turn work,
        # not idle time shared out over a few turns), turn-weighted; single cells scatter by about ±0.1
        ratios = [_total_cpu(r) / _total_cpu(b) for _, r, b in pairs]
        worst = max(range(len(pairs)), key=lambda i: ratios[i])
        (_, ch, n, think), _, _ = pairs[worst]
        busy = [(r, b) for k, r, b in pairs if k[3] == 0] or [(r, b) for _, r, b in pairs]
        pooled = _pooled_cpu([r for r, _ in busy]) / _pooled_cpu([b for _, b in busy])
        out.append(f"- total overhead over bare Rasa ≤ 1.5×, CPU per turn of all processes, the {len(busy)} "
                   f"saturated cells pooled: {pooled:.2f}× (single cells {min(ratios):.2f}×–{max(ratios):.2f}×, "
                   f"worst {ch}, {n} customers, think {think:g} s), **{'met' if pooled <= 1.5 else 'missed'}**")
    for ch in ("rest", "wechat"):
        r, b = by.get(("assistant", ch, 1, 0.0)), by.get(("bare", ch, 1, 0.0))
        if r and b and r.get("mean") and b.get("mean"):
            ratio = r["mean"] / b["mean"]
            out.append(f"- total overhead over bare Rasa ≤ 1.5×, mean latency of one customer's turn ({ch}): "
                       f"{common.fmt_ms(r['mean'])} / {common.fmt_ms(b['mean'])} ms = {ratio:.2f}×, "
                       f"**{'met' if ratio <= 1.5 else 'missed'}**")
    for think in sorted({r["think"] for r in results}):
        r = by.get(("assistant", "wechat", 50, think))
        if r:
            ok = r["max"] <= WELL_INSIDE and r["late"] == 0 and r["timeouts"] == 0 and r["errors"] == 0
            out.append(f"- every WeChat reply well inside 5 s (max ≤ {WELL_INSIDE:g} s) at 50 customers "
                       f"(think {think:g} s): max "
                       f"{common.fmt_ms(r['max'])} ms, {r['late']} late, {r['timeouts']} timeouts, "
                       f"{r['errors']} errors, **{'met' if ok else 'missed'}**")
    return out


def render(results: list[dict], meta: dict) -> tuple[str, str]:
    head = (f"{common.machine_line()}\n\nLoad average before / after: {meta['load_before']} / "
            f"{meta['load_after']}. {meta['duration']:.0f} s per cell, "
            f"turn timeout {meta['timeout']:.0f} s; think = mean pause between a customer's turns.\n")
    rows, cpu_rows = [], []
    for r in results:
        cells = [r["bot"], r["channel"], r["clients"], f"{r['think']:g}"]
        rows.append(cells + [r["turns"], f"{r['tps']:.1f}", common.fmt_ms(r["p50"]), common.fmt_ms(r["p95"]),
                             common.fmt_ms(r["p99"]), common.fmt_ms(r["max"]), r["errors"], r["timeouts"],
                             r["late"] if r["channel"] == "wechat" else "–",
                             r["unexpected"] if r["bot"] == "assistant" else "–"])
        cpu = r.get("cpu_per_turn") or {}
        cpu_rows.append(cells + [common.fmt_ms(cpu[p]) if p in cpu else "–" for p in PROCS])
    table = common.md_table(["bot", "channel", "customers", "think s", "turns", "turns/s", "p50 ms", "p95 ms",
                             "p99 ms", "max ms", "errors", "timeouts", "late (wechat)", "unexpected"], rows,
                            "llll" + "r" * 10)
    samples = [f"- {r['bot']}/{r['channel']}/{r['clients']}: {s}" for r in results for s in r["error_samples"]]
    mem = meta.get("memory") or {}
    mem_rows = [[bot, name, common.fmt_bytes(m["rss"]), common.fmt_bytes(m["peak"])]
                for bot, procs in mem.items() for name, m in procs.items()]
    load_md = head + "\n" + table + "\n"
    if samples:
        load_md += "\nFirst errors:\n\n" + "\n".join(samples) + "\n"
    load_md += ("\nCPU per turn (ms of user + system time of each process and its children, over the cell):\n\n"
                + common.md_table(["bot", "channel", "customers", "think s", *PROCS], cpu_rows, "llll" + "r" * 3)
                + "\n")
    if mem_rows:
        load_md += ("\nResident memory after the load (process and children, from /proc):\n\n"
                    + common.md_table(["bot", "process", "RSS", "peak RSS"], mem_rows, "llrr") + "\n")
    conv_rows = [[r["bot"], r["channel"], name, n, common.fmt_ms(p50), common.fmt_ms(p95)]
                 for r in results if r["clients"] == 1 and r["think"] == 0
                 for name, (n, p50, p95) in sorted((r.get("by_conv") or {}).items())]
    if conv_rows:
        load_md += ("\nOne customer, per conversation (ms per turn):\n\n"
                    + common.md_table(["bot", "channel", "conversation", "turns", "p50 ms", "p95 ms"], conv_rows,
                                      "lllrrr") + "\n")
    tg = targets(results)
    if tg:
        load_md += "\nTargets:\n\n" + "\n".join(tg) + "\n"
    by = {(r["bot"], r["channel"], r["clients"], r["think"]): r for r in results}
    ratio_rows = []
    for (bot, channel, n, think), r in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][3], kv[0][2])):
        b = by.get(("bare", channel, n, think))
        if bot != "assistant" or not b:
            continue
        ratio_rows.append([channel, n, f"{think:g}", common.fmt_ms(b["p50"]), common.fmt_ms(r["p50"]),
                           _ratio(r["p50"], b["p50"]), common.fmt_ms(b["p95"]), common.fmt_ms(r["p95"]),
                           _ratio(r["p95"], b["p95"]), _ratio(r.get("mean", float("nan")), b.get("mean", float("nan"))),
                           f"{b['tps']:.1f}", f"{r['tps']:.1f}", _ratio(_total_cpu(r), _total_cpu(b))])
    bare_md = (f"{common.machine_line()}\n\n" + common.md_table(
        ["channel", "customers", "think s", "bare p50 ms", "assistant p50 ms", "p50 ratio", "bare p95 ms",
         "assistant p95 ms", "p95 ratio", "mean ratio", "bare turns/s", "assistant turns/s", "CPU per turn ratio"],
        ratio_rows, "lll" + "r" * 10) + "\n")
    return load_md, bare_md


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# -- main -------------------------------------------------------------------------------------------

async def bench(args) -> tuple[list[dict], dict]:
    from channels.testing import FakeWeChatAPI

    if S.rasa_missing():
        raise SystemExit(S.rasa_missing())
    bots = [b.strip() for b in args.bots.split(",") if b.strip()]
    if "bare" in bots:
        from bench.bare_bot.train import train

        t = train()
        print(f"bare bot: {'trained in %.0f s' % t['seconds'] if t['trained'] else 'model up to date'}", flush=True)
    clients = [int(x) for x in args.clients.split(",")]
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    think_clients = [int(x) for x in args.think_clients.split(",") if x.strip()]
    thinks = [t for t in (float(x) for x in str(args.think).split(",") if x.strip()) if t > 0]
    results, memory = [], {}
    meta = {"load_before": loadavg(), "duration": args.duration, "timeout": args.timeout}
    with tempfile.TemporaryDirectory(prefix="bench_chat_") as tmpdir, ExitStack() as ex:
        tmp = Path(tmpdir)
        db_url, creds = prepare_db(tmp)
        insurer, convs = load_conversations(args.conversations, creds,
                                            [n for n in args.only.split(",") if n] if args.only else None)
        api = ex.enter_context(FakeWeChatAPI(WX_APP_ID, WX_SECRET))
        inbox = LateInbox(api)
        # both bots up at once and every cell played by one bot right after the other: the machine's drift
        # (other tenants, clock, caches) then hits both sides of a ratio alike
        stacks = {}
        for bot in bots:
            stack = Stack(bot, tmp, db_url, insurer, api.url)
            ex.callback(stack.stop)
            t0 = time.perf_counter()
            stacks[bot] = stack.start()
            await warm_up(stack, insurer, convs, inbox)
            print(f"{bot}: started and warmed up in {time.perf_counter() - t0:.0f} s", flush=True)
        cells = [(c, n, 0.0) for c in channels for n in clients]
        cells += [(c, n, t) for t in thinks for c in channels for n in think_clients]
        by_bot: dict[str, list] = {bot: [] for bot in bots}
        for channel, n, think in cells:
            # think-time cells long enough for about --min-turns turns (a p95 of 40 turns is its 3rd worst)
            duration = max(args.duration, args.min_turns * think / n) if think else args.duration
            for bot, stack in stacks.items():
                r = await run_load(stack, channel, n, duration, insurer, convs, inbox, args.timeout, think)
                by_bot[bot].append(r)
                print(f"{bot:9} {channel:6} N={n:<3} think={think:g} turns={r['turns']:<5} {r['tps']:6.1f}/s "
                      f"p50={common.fmt_ms(r['p50'])} p95={common.fmt_ms(r['p95'])} "
                      f"p99={common.fmt_ms(r['p99'])} max={common.fmt_ms(r['max'])} err={r['errors']} "
                      f"timeouts={r['timeouts']} late={r['late']} unexpected={r['unexpected']}", flush=True)
        results = [r for bot in bots for r in by_bot[bot]]
        for bot, stack in stacks.items():
            memory[bot] = stack.memory()
            stack.stop()
    meta["load_after"] = loadavg()
    meta["memory"] = memory
    return results, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default="1,10,50", help="concurrent customers, comma-separated")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per (bot, channel, customers) cell")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds before a turn counts as timed out")
    ap.add_argument("--think", default="2,5",
                    help="mean seconds a customer pauses between turns in the extra think-time cells, comma-separated "
                         "(0: none)")
    ap.add_argument("--think-clients", default="10,50", help="customers of the think-time cells")
    ap.add_argument("--min-turns", type=int, default=100,
                    help="think-time cells run long enough for about this many turns (at least --duration)")
    ap.add_argument("--bots", default="assistant,bare")
    ap.add_argument("--channels", default="rest,wechat")
    ap.add_argument("--conversations", type=Path, default=CONVERSATIONS)
    ap.add_argument("--only", default="", help="conversation names to play (default: all)")
    ap.add_argument("--out", type=Path, default=common.PERFORMANCE_MD)
    ap.add_argument("--no-doc", action="store_true", help="print only, do not write --out")
    args = ap.parse_args(argv)
    results, meta = asyncio.run(bench(args))
    load_md, bare_md = render(results, meta)
    print(load_md)
    print(bare_md)
    if not args.no_doc:
        common.update_block(args.out, "chat_load", load_md, "Chat load", INTRO)
        if any(r["bot"] == "bare" for r in results) and any(r["bot"] == "assistant" for r in results):
            common.update_block(args.out, "chat_bare", bare_md, "Bare Rasa vs assistant", BARE_INTRO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
