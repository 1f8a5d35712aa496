"""Smoke run of bench.chat_load against the real processes: one customer, two short conversations, the
assistant only, REST and WeChat; and the pure parts (conversation file, report tables). Structure only, no
timing assertions (the machine is shared). The server run is marked `rasa`.
"""
from __future__ import annotations

import math
import re

import pytest

from bench import chat_load as C
from bench import common
from tests import servers as S


def test_conversations_file_fills_policy_and_mobile():
    creds = {"PAH2025000102": {"number": "PAH2025000102", "mobile": "13800000102"},
             "PAH2025000103": {"number": "PAH2025000103", "mobile": "13800000103"}}
    insurer, convs = C.load_conversations(C.CONVERSATIONS, creds)
    assert insurer == "平安健康"
    names = {c.name for c in convs}
    assert {"coverage", "eligibility", "ticket", "chitchat"} <= names
    texts = [t for c in convs for t, _ in c.turns]
    assert "PAH2025000102" in texts and "13800000103" in texts
    assert not any("{" in t for t in texts)
    with pytest.raises(ValueError):
        C.load_conversations(C.CONVERSATIONS, creds, ["no-such-conversation"])


def test_wechat_message_is_signed_like_wechat():
    # WeChat's rule: sha1 of the sorted concatenation of token, timestamp and nonce
    import hashlib

    assert C.wx_sign("t", "2", "1") == hashlib.sha1(b"12t").hexdigest()
    xml = C.wx_text_xml("o1", "a]]>b", "42")
    assert "<FromUserName><![CDATA[o1]]></FromUserName>" in xml and "<MsgId>42</MsgId>" in xml
    assert C._xml_content("<xml><Content><![CDATA[你好]]></Content></xml>") == "你好"


def _row(bot, channel, n, think=0.0, **kw):
    base = {"bot": bot, "channel": channel, "clients": n, "think": think, "wall": 1.0, "turns": 10, "tps": 10.0,
            "p50": 0.05, "p95": 0.1, "p99": 0.2, "max": 0.3, "errors": 0, "timeouts": 0, "unexpected": 0,
            "late": 0, "conversations": 2, "error_samples": [], "cpu_per_turn": {"rasa": 0.02}}
    return {**base, **kw}


def test_report_tables_and_ratios():
    results = [_row("assistant", "rest", 10, p50=0.1, p95=0.3, cpu_per_turn={"rasa": 0.02, "action server": 0.01}),
               _row("bare", "rest", 10, p50=0.05, p95=0.1),
               _row("assistant", "rest", 1, mean=0.06), _row("bare", "rest", 1, mean=0.05),
               _row("assistant", "wechat", 50, max=6.0, late=2)]
    load_md, bare_md = C.render(results, {"load_before": "1 1 1", "load_after": "2 2 2", "duration": 5,
                                          "timeout": 30, "memory": {"assistant": {"rasa": {"rss": 1, "peak": 2}}}})
    assert re.search(r"Machine: \d+ cores", load_md) and "commit " in load_md and "Load average" in load_md
    assert "| assistant | rest | 10 | 0 |" in load_md
    assert "| rest | 10 | 0 | 50.00 | 100 | 2.00× |" in bare_md and "3.00×" in bare_md
    assert "p95 per turn ≤ 150 ms at 10 customers (REST, saturation, 10 requests always in flight): 300 ms, " \
           "**missed**" in load_md
    tg = C.targets(results)
    cpu = [t for t in tg if "CPU per turn" in t][0]  # 30 ms vs 20 ms at 10 customers, 20 vs 20 at 1
    assert "the 2 saturated cells pooled: 1.25× (single cells 1.00×–1.50×, worst rest, 10 customers" in cpu
    assert "**met**" in cpu
    slow = [_row("assistant", "rest", 1, turns=30, cpu_per_turn={"rasa": 0.04}), _row("bare", "rest", 1, turns=30),
            _row("assistant", "rest", 10, think=5.0, cpu_per_turn={"rasa": 0.02}), _row("bare", "rest", 10, think=5.0)]
    cpu = [t for t in C.targets(slow) if "CPU per turn" in t][0]  # idle-time cells do not dilute the verdict
    assert "the 1 saturated cells pooled: 2.00×" in cpu and "**missed**" in cpu
    assert "60.00 / 50.00 ms = 1.20×, **met**" in [t for t in tg if "mean latency" in t][0]
    assert "**missed**" in [t for t in C.targets(results) if "WeChat" in t][0]
    assert "per conversation" not in load_md  # no by_conv data in these rows


@pytest.mark.rasa
@pytest.mark.skipif(bool(S.rasa_missing()), reason=S.rasa_missing() or "")
def test_smoke_run_against_real_servers(tmp_path):
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n<!-- BEGIN other -->\nkept\n<!-- END other -->\n", encoding="utf-8")
    rc = C.main(["--clients", "1", "--duration", "4", "--bots", "assistant", "--only", "coverage,chitchat",
                 "--think", "0", "--out", str(out)])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    assert "<!-- BEGIN other -->\nkept\n<!-- END other -->" in text
    body = common.read_block_text(text, "chat_load")
    assert body and text.count("## Chat load") == 1
    assert common.read_block_text(text, "chat_bare") is None  # no bare run, no ratio section
    rows = [line for line in body.splitlines() if line.startswith("| assistant |")]
    by_channel = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 14:
            by_channel[cells[1]] = cells
    assert set(by_channel) == {"rest", "wechat"}
    for cells in by_channel.values():
        assert cells[2] == "1" and int(cells[4].replace(",", "")) > 0  # turns played
        assert cells[10] == "0" and cells[11] == "0"  # no errors, no timeouts
        assert cells[13] == "0"  # every expected answer came (coverage facts, the bot's self-description)
        assert not math.isnan(float(cells[7].replace(",", "")))  # a p95 was measured
    assert "| assistant | rest | 1 | 0 |" in body and "CPU per turn" in body and "Resident memory" in body
    assert "| assistant | wechat | coverage |" in body and "| assistant | rest | chitchat |" in body
