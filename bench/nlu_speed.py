"""NLU and processes: messages per second of the trained model through Rasa's POST /model/parse, training
time, model sizes, start-up time and resident memory of each process (Rasa, action server, gateway).

    PYTHONPATH=. .venv/bin/python -m bench.nlu_speed [--duration 20] [--train] [--out docs/performance.md]

Starts the assistant's three processes (as bench/chat_load.py does, private SQLite databases), parses the
held-out messages of nlu_data/test in a loop with 1 and 4 concurrent clients, reads /proc. `--train` also
times a forced NLU-only training (`rasa train nlu`, empty Rasa cache, temporary output; ~1-2 min of CPU);
without it the report quotes the last timed trainings found under var/.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench import chat_load as C
from bench import common
from tests import servers as S

ROOT = common.ROOT
TEST_DATA = ROOT / "nlu_data" / "test"
MODELS = {"assistant (NLU + dialogue)": ROOT / "models" / "assistant.tar.gz",
          "NLU only": ROOT / "models" / "nlu.tar.gz",
          "bare benchmark bot": ROOT / "var" / "bench" / "bare.tar.gz"}


def test_messages(path: Path = TEST_DATA) -> list[str]:
    """The held-out examples as plain text (entity annotations [text](entity) / [text]{...} removed)."""
    out = []
    for f in sorted(Path(path).glob("*.yml")):
        for item in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = re.sub(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})", r"\1", line[2:]).strip()
                    if text:
                        out.append(text)
    return out


async def parse_load(port: int, messages: list[str], clients: int, duration: float) -> dict:
    lat, errors = [], 0
    stop_at = time.monotonic() + duration

    async def worker(i: int, client: httpx.AsyncClient):
        nonlocal errors
        k = i
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                r = await client.post(f"http://127.0.0.1:{port}/model/parse", json={"text": messages[k % len(messages)]},
                                      timeout=30)
                r.raise_for_status()
                r.json()["intent"]
                lat.append(time.perf_counter() - t0)
            except Exception:  # noqa: BLE001 - counted
                errors += 1
            k += clients

    async with httpx.AsyncClient(trust_env=False) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
        wall = time.perf_counter() - t0
    return {"clients": clients, "n": len(lat), "per_s": len(lat) / wall if wall else 0.0, "errors": errors,
            "p50": common.percentile(lat, 50), "p95": common.percentile(lat, 95), "p99": common.percentile(lat, 99)}


def timed_nlu_training() -> float:
    """Seconds of a forced NLU-only training with an empty cache (output thrown away)."""
    with tempfile.TemporaryDirectory(prefix="bench_nlu_train_") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
               "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache"), "OMP_NUM_THREADS": "2",
               "TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "1"}
        log = ROOT / "var" / "log" / "bench_nlu_train.log"
        t0 = time.perf_counter()
        with open(log, "w") as fh:
            rc = subprocess.run([str(ROOT / ".venv-rasa" / "bin" / "rasa"), "train", "nlu", "--config",
                                 "bot/config.yml", "--domain", "bot/domain.yml", "--nlu", "nlu_data/train", "--out",
                                 tmp, "--fixed-model-name", "timed"], cwd=ROOT, env=env, stdout=fh,
                                stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise RuntimeError(f"NLU training failed (rc={rc}), see {log}")
        return time.perf_counter() - t0


def logged_trainings() -> list[tuple[str, str]]:
    out = []
    full = ROOT / "var" / "log" / "train-full.time"
    if full.exists():
        m = re.search(r"real\s+(\d+)m([\d.]+)s", full.read_text())
        if m:
            out.append(("scripts/train.sh, NLU + dialogue (last timed run, var/log/train-full.time; "
                        "featurizers may come from Rasa's cache)", f"{int(m[1]) * 60 + float(m[2]):.0f}"))
    bare = ROOT / "var" / "bench" / "bare.train_seconds"
    if bare.exists():
        out.append(("bench/bare_bot (same NLU pipeline + one RulePolicy, empty cache)",
                    f"{float(bare.read_text()):.0f}"))
    return out


async def bench(args) -> dict:
    from channels.testing import FakeWeChatAPI

    if S.rasa_missing():
        raise SystemExit(S.rasa_missing())
    messages = test_messages()
    out = {"messages": len(messages), "load_before": C.loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench_nlu_") as tmpdir, FakeWeChatAPI(C.WX_APP_ID, C.WX_SECRET) as api:
        tmp = Path(tmpdir)
        db_url, creds = C.prepare_db(tmp)
        insurer, convs = C.load_conversations(C.CONVERSATIONS, creds)
        stack = C.Stack("assistant", tmp, db_url, insurer, api.url)
        t0 = time.perf_counter()
        try:
            stack.start()
            out["startup"] = time.perf_counter() - t0
            out["mem_idle"] = stack.memory()
            await C.warm_up(stack, insurer, convs, C.LateInbox(api))
            out["mem_warm"] = stack.memory()
            await parse_load(stack.rasa_port, messages, 1, 2.0)  # warm the parse path
            cpu0 = stack.cpu().get("rasa", 0.0)
            out["parse"] = []
            for n in (1, 4):
                out["parse"].append(await parse_load(stack.rasa_port, messages, n, args.duration))
            out["parse_cpu"] = (stack.cpu().get("rasa", 0.0) - cpu0) / max(1, sum(r["n"] for r in out["parse"]))
            out["mem_after"] = stack.memory()
        finally:
            stack.stop()
    out["trainings"] = logged_trainings()
    if args.train:
        out["trainings"].insert(0, ("forced NLU-only training now (`rasa train nlu`, empty cache)",
                                    f"{timed_nlu_training():.0f}"))
    out["load_after"] = C.loadavg()
    return out


INTRO = """Throughput of the trained model's NLU (spaCy zh + pkuseg, featurizers, DIET, entity extractors)
through Rasa's `POST /model/parse` on the held-out messages of `nlu_data/test`, training time, model sizes,
start-up time and resident memory of the three processes. Regenerate (about 2 minutes; `--train` adds a
timed NLU-only training, 1-2 minutes more):

    PYTHONPATH=. .venv/bin/python -m bench.nlu_speed [--duration 20] [--train] [--out docs/performance.md]
"""


def render(r: dict) -> str:
    lines = [common.machine_line(), "",
             f"Load average before / after: {r['load_before']} / {r['load_after']} (shared machine).", ""]
    lines.append(f"**Parsing** ({r['messages']} held-out messages in a loop; Rasa CPU per parse "
                 f"{common.fmt_ms(r['parse_cpu'])} ms)")
    lines.append("")
    lines.append(common.md_table(["clients", "parses", "parses/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
                                 [[p["clients"], p["n"], f"{p['per_s']:.1f}", common.fmt_ms(p["p50"]),
                                   common.fmt_ms(p["p95"]), common.fmt_ms(p["p99"]), p["errors"]]
                                  for p in r["parse"]], "lrrrrrr"))
    lines += ["", "**Training** (seconds, wall clock on the shared machine)", ""]
    lines.append(common.md_table(["training", "seconds"], r["trainings"] or [["none timed yet", "–"]], "lr"))
    lines += ["", "**Models**", ""]
    lines.append(common.md_table(["model", "file", "size"],
                                 [[k, str(p.relative_to(ROOT)), common.fmt_bytes(p.stat().st_size)]
                                  for k, p in MODELS.items() if p.exists()], "llr"))
    lines += ["", f"**Processes** (started together and ready in {r['startup']:.0f} s; resident memory from "
                  "/proc, process and children: idle = just started, warm = after one pass of every benchmark "
                  "conversation through REST and WeChat, after = after the parse load)", ""]
    rows = []
    for name in C.PROCS:
        if name in r["mem_idle"]:
            rows.append([name, common.fmt_bytes(r["mem_idle"][name]["rss"]),
                         common.fmt_bytes(r["mem_warm"][name]["rss"]),
                         common.fmt_bytes(r["mem_after"][name]["rss"]),
                         common.fmt_bytes(r["mem_after"][name]["peak"])])
    lines.append(common.md_table(["process", "RSS idle", "RSS warm", "RSS after", "peak RSS"], rows, "lrrrr"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per parse cell")
    ap.add_argument("--train", action="store_true", help="also time a forced NLU-only training")
    ap.add_argument("--out", type=Path, default=common.PERFORMANCE_MD)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    r = asyncio.run(bench(args))
    md = render(r)
    print(md)
    if not args.no_doc:
        common.update_block(args.out, "nlu_speed", md, "NLU and processes", INTRO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
