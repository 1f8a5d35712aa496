"""Smoke test of bench.knowledge_scale at a tiny scale, and of the report helpers in bench.common.

Structure only: no timing assertions (the machine is shared).
"""
from __future__ import annotations

import re

import pytest

from bench import common, knowledge_scale as ks


def _table(report: str, first_header: str) -> list[list[str]]:
    """Rows (cells) of the Markdown table whose header starts with `first_header`."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("perf") / "performance.md"
    out.write_text("# Performance\n\n## Other part\n\n<!-- BEGIN other -->\nkept\n<!-- END other -->\n",
                   encoding="utf-8")
    # Manual 002 is small but has both city and hospital lists; 2x exercises the synthetic rows.
    rc = ks.main(["--scales", "1,2", "--queries", "60", "--manuals", "002", "--out", str(out)])
    assert rc == 0
    return out.read_text(encoding="utf-8")


def test_report_goes_into_its_own_section(report):
    assert report.count("## Knowledge and rules") == 1
    assert report.count("<!-- BEGIN knowledge_scale -->") == 1 and report.count("<!-- END knowledge_scale -->") == 1
    assert "<!-- BEGIN other -->\nkept\n<!-- END other -->" in report  # the other section is untouched
    body = common.read_block_text(report, "knowledge_scale")
    assert re.search(r"Machine: \d+ cores", body) and "commit " in body
    assert "synthetic" in body


def test_store_table_doubles_the_synthetic_tables(report):
    rows = {r[0]: r for r in _table(report, "scale | build real (s)")}
    assert set(rows) == {"1×", "2×"}
    header = ["scale", "build real (s)", "build synthetic (s)", "SQLite size", *[label for label, _ in ks.TABLES]]
    col = {h: i for i, h in enumerate(header)}
    n = lambda scale, label: int(rows[scale][col[label]].replace(",", ""))  # noqa: E731
    for label in ("services", "service facts", "coverage lists", "city entries", "hospitals", "list hospitals"):
        assert n("1×", label) > 0, label
        assert n("2×", label) == 2 * n("1×", label), label
    for label in ("passages", "FAQs"):  # not multiplied
        assert n("2×", label) == n("1×", label)


def test_latency_table_has_every_query_type(report):
    rows = _table(report, "query | scale")
    named = [r[0] for r in rows if r[0]]
    assert named == ks.QUERY_ROWS
    assert len(rows) == 2 * len(ks.QUERY_ROWS)  # one row per scale
    for r in rows:
        n, p50, p95, p99 = int(r[2]), float(r[3].replace(",", "")), float(r[4].replace(",", "")), \
            float(r[5].replace(",", ""))
        assert n > 0 and 0 <= p50 <= p95 <= p99


def test_workload_includes_unknown_and_ambiguous_cities(report):
    rows = _table(report, "scale | city text resolution")
    for r in rows:
        assert "ambiguous" in r[1] and "unknown" in r[1] and "ok" in r[1]


def test_bad_arguments_are_refused(tmp_path):
    for args in (["--scales", "a,b"], ["--scales", "0"], ["--queries", "0"]):
        with pytest.raises(SystemExit) as e:
            ks.main([*args, "--out", str(tmp_path / "x.md")])
        assert e.value.code != 0
    assert not (tmp_path / "x.md").exists()


# -- bench.common ----------------------------------------------------------------------
def test_update_block_creates_then_replaces(tmp_path):
    path = tmp_path / "perf.md"
    common.update_block(path, "demo", "first", "Demo", intro="Some words.")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Performance") and "## Demo\n\nSome words.\n\n<!-- BEGIN demo -->\nfirst\n" in text
    path.write_text(text + "\nhand-written note\n", encoding="utf-8")
    common.update_block(path, "demo", "second", "Demo")
    text = path.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text and text.count("## Demo") == 1
    assert "hand-written note" in text
    assert common.read_block(path, "demo") == "second"
    with pytest.raises(ValueError):
        common.update_block(path, "Bad Name", "x", "X")


def test_md_table_and_percentile():
    t = common.md_table(["a", "b"], [["x|y", 1], ["z", 22]])
    assert t.splitlines() == ["| a | b |", "|:---|---:|", "| x\\|y | 1 |", "| z | 22 |"]
    with pytest.raises(ValueError):
        common.md_table(["a", "b"], [[1]])
    values = list(range(1, 101))
    assert common.percentile(values, 50) == 50 and common.percentile(values, 99) == 99
    assert common.percentile([3.0], 95) == 3.0
    assert common.percentile([], 50) != common.percentile([], 50)  # nan


def test_machine_facts():
    assert common.cpu_count() >= 1
    assert re.fullmatch(r"[0-9a-f]{4,40}(\+dirty)?|unknown", common.commit())
    mem = common.rss_bytes()
    assert 0 < mem["rss"] <= mem["peak"]


def test_eval_clients_read_citations_back_and_answer_directly():
    """bench.channel_client: the gateway's rendered citation back into manual and lines (for the judge);
    the direct channel answers in process with the actions' rendering (text with its source line)."""
    import httpx

    from bench.channel_client import ChannelClient
    from bench.channel_client_gateway import GatewayChannel

    gw = GatewayChannel("widget", "http://127.0.0.1:9", httpx.Client())
    src = gw.source("《平安健康保险 服务手册》·陪诊服务覆盖城市清单（第 3111-3401 行）")
    assert src == {"manual_id": "000_0cd53a263ec9ebf5", "line_start": 3111, "line_end": 3401}
    assert gw.source("《没有这本手册》·x（第 1 行）") is None and gw.source("no citation") is None
    text, sources = ChannelClient("direct").say("t", "就医陪诊在上海能用吗", insurer="平安健康")
    assert "上海在就医陪诊的服务范围内" in text and "来源" in text
    assert sources and sources[0]["manual_id"].startswith("000")
