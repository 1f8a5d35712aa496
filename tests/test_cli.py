"""python -m knowledge: build, stats, search, coverage; bad input gives a message, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge.__main__ as cli
from core.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def on_store(monkeypatch, kb_engine):
    monkeypatch.setattr(cli, "_engine", lambda: kb_engine)


def test_stats(on_store, capsys):
    assert cli.main(["stats"]) == 0
    out = capsys.readouterr().out
    for mid in ("000_", "001_", "002_", "003_", "004_"):
        assert mid in out
    assert "passages" in out and "total" in out


def test_stats_markdown(on_store, capsys):
    assert cli.main(["stats", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| manual | services |") and lines[1].startswith("|---|")
    assert sum(1 for x in lines if x.startswith("| 00")) == 5


def test_search(on_store, capsys):
    assert cli.main(["search", "就医陪诊怎么申请", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "1. [" in out and "《" in out and "行）" in out


def test_coverage(on_store, capsys):
    assert cli.main(["coverage", "陪诊", "北京"]) == 0
    out = capsys.readouterr().out
    assert "service:" in out and "status:" in out and "北京市" in out


@pytest.mark.parametrize("argv, message", [
    (["search", "   "], "empty query"),
    (["coverage", "不存在的服务名称", "北京"], "no service matches"),
    (["coverage", "陪诊", "北京", "--insurer", "火星保险"], "unknown or ambiguous insurer"),
    (["search", "陪诊", "--insurer", "太保"], "unknown or ambiguous insurer"),
])
def test_bad_input(on_store, capsys, argv, message):
    assert cli.main(argv) != 0
    assert message in capsys.readouterr().err


def test_build_is_idempotent(tmp_path, monkeypatch, capsys):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    assert cli.main(["build", "--only", "002"]) == 0
    first = capsys.readouterr().out
    assert "built 1 manuals" in first and "002_" in first
    assert cli.main(["build", "--only", "002"]) == 0
    second = capsys.readouterr().out
    def table(s):
        return [x for x in s.splitlines() if x.startswith(("002_", "total"))]

    assert table(first) == table(second)


def test_empty_store_and_no_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "PYTHONPATH": str(ROOT)}
    for argv in (["stats"], ["search", "陪诊"], ["coverage", "陪诊", "北京"], ["nonsense"]):
        r = subprocess.run([sys.executable, "-m", "knowledge", *argv], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode != 0, argv
        assert "Traceback" not in r.stderr, r.stderr
    assert "python -m knowledge build" in r.stderr or "invalid choice" in r.stderr


def test_rule_of_a_service_with_its_lines(capsys):
    """python -m rules SERVICE --insurer X: the assembled rule, each part with the lines it was read from."""
    import rules.__main__ as rules_cli

    assert rules_cli.main(["住院垫付", "--insurer", "平安健康"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("住院垫付 (平安健康") and "waiting:" in out and "days: 30" in out
    assert "[000:27-29]" in out  # the waiting period's own lines
    assert rules_cli.main(["不存在的服务", "--insurer", "平安健康"]) == 1
    assert rules_cli.main(["住院垫付", "--insurer", "不存在的保险"]) == 2
