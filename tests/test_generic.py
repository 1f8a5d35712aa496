"""The generic adapter: heading detection, passages, services by heading, FAQ pairs."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import MANUALS_DIR
from core.db import make_engine
from knowledge import models as m
from knowledge.ingest import build, load_manifest
from knowledge.ingest.adapters.generic import category_of, detect_headings, names_service

SYNTHETIC = """星河保险 增值服务手册
本手册介绍星河保险的增值服务。

第一章 服务概要
一、门诊绿通
1、服务内容
为被保险人预约三甲医院专家门诊。
2、服务说明
保险期间内限 2 次。
二、上门护理服务
提供术后伤口护理。
（一）注意事项
须提前 3 天预约。
三、服务流程
拨打客服电话申请。
第二章 常见问题
Q：护理费用谁承担？
A：护理服务费由本公司承担，
耗材费用由客户自理。
如何取消预约？
请在服务开始前 24 小时致电客服取消。
"""


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    d = tmp_path_factory.mktemp("gen")
    (d / "900_syn.txt").write_text(SYNTHETIC, encoding="utf-8")
    (d / "manifest.yaml").write_text(yaml.safe_dump({"manuals": [{
        "file": "900_syn.txt", "insurer": "星河保险股份有限公司", "product_line": "星河医疗险",
        "title": "星河保险 增值服务手册", "layout": "no_such_layout"}]}, allow_unicode=True), encoding="utf-8")
    engine = make_engine(f"sqlite:///{d / 'kb.db'}")
    report = build(engine, manuals_dir=d, manifest=d / "manifest.yaml")
    assert report.manuals == ["900_syn"]
    return engine


def test_headings_and_levels():
    hs = detect_headings(SYNTHETIC.splitlines())
    got = [(h.line, h.level, h.title) for h in hs]
    assert (4, 1, "服务概要") in got and (5, 2, "门诊绿通") in got and (6, 4, "服务内容") in got
    assert (12, 3, "注意事项") in got
    assert any(h.line == 17 and h.question and h.title == "护理费用谁承担?" for h in hs)
    assert any(h.line == 20 and h.question for h in hs)
    # list items and sentences are not headings
    assert not any(h.line in (7, 9, 13) for h in hs)


def test_names_service_and_category():
    assert names_service("门诊绿通") and names_service("上门护理服务") and names_service("重疾多学科会诊MDT服务")
    assert names_service("门诊陪诊服务（本服务仅适用于门急诊医疗补充加油包）")
    for t in ("服务内容", "服务流程", "增值服务", "什么是重疾绿通服务？", "注意事项", "常见问题"):
        assert not names_service(t), t
    assert category_of("门诊绿通") == "green_channel" and category_of("上门护理服务") == "home_nursing"
    assert category_of("健康讲座") is None


def test_services_only_what_is_stated(syn):
    with Session(syn) as s:
        svcs = {v.name: v for v in s.scalars(select(m.Service))}
    assert set(svcs) == {"门诊绿通", "上门护理服务"}
    g = svcs["门诊绿通"]
    assert (g.line_start, g.line_end) == (5, 9)  # with its sub-sections, up to the next 二、
    assert g.category == "green_channel" and "三甲医院专家门诊" in g.description
    assert g.usage_limit is None and g.waiting_kind is None and g.beneficiary is None
    assert svcs["上门护理服务"].line_end == 13


def test_passages_cover_every_line(syn):
    with Session(syn) as s:
        ps = s.scalars(select(m.Passage)).all()
    covered = {n for p in ps for n in range(p.line_start, p.line_end + 1)}
    body = {n for n, line in enumerate(SYNTHETIC.splitlines(), 1) if line.strip()}
    assert body <= covered
    assert any(p.section == "服务概要 > 门诊绿通 > 服务内容" for p in ps)
    nursing = next(p for p in ps if p.section.endswith("注意事项"))
    assert nursing.service_id is not None


def test_faq_pairs(syn):
    with Session(syn) as s:
        faqs = {f.question: f for f in s.scalars(select(m.Faq))}
    f = faqs["护理费用谁承担?"]
    assert f.answer == "护理服务费由本公司承担，耗材费用由客户自理。" and (f.line_start, f.line_end) == (17, 19)
    assert faqs["如何取消预约?"].answer.startswith("请在服务开始前 24 小时")


def test_empty_and_odd_manuals(tmp_path):
    for i, text in enumerate(["", "\n\n\n", "只有一行", "一、\n1.\nQ：？\n"]):
        d = tmp_path / str(i)
        d.mkdir()
        (d / "901_x.txt").write_text(text, encoding="utf-8")
        (d / "manifest.yaml").write_text(yaml.safe_dump({"manuals": [{
            "file": "901_x.txt", "insurer": "X", "product_line": "X", "layout": "generic"}]}), encoding="utf-8")
        build(make_engine(f"sqlite:///{d / 'kb.db'}"), manuals_dir=d, manifest=d / "manifest.yaml")


@pytest.fixture(scope="module")
def real_generic(tmp_path_factory):
    """All five real manuals through the generic adapter."""
    d = tmp_path_factory.mktemp("genreal")
    entries = [{**e, "layout": "generic"} for e in load_manifest(MANUALS_DIR / "manifest.yaml")]
    (d / "manifest.yaml").write_text(yaml.safe_dump({"manuals": entries}, allow_unicode=True), encoding="utf-8")
    engine = make_engine(f"sqlite:///{d / 'kb.db'}")
    report = build(engine, manifest=d / "manifest.yaml")
    assert len(report.manuals) == 5
    return engine


def test_real_manuals_every_line_in_a_passage(real_generic):
    with Session(real_generic) as s:
        for man in s.scalars(select(m.Manual)):
            lines = (MANUALS_DIR / man.filename).read_text(encoding="utf-8").splitlines()
            covered = set()
            for a, z in s.execute(select(m.Passage.line_start, m.Passage.line_end)
                                  .where(m.Passage.manual_id == man.id)):
                covered.update(range(a, z + 1))
            missing = [n for n, x in enumerate(lines, 1) if x.strip() and n not in covered]
            assert not missing, f"{man.id}: lines not in any passage: {missing[:10]}"


def test_real_manuals_services_and_faqs(real_generic):
    with Session(real_generic) as s:
        names = {(v.manual_id[:3], v.name) for v in s.scalars(select(m.Service))}
        faqs = s.scalars(select(m.Faq)).all()
    # services whose headings say so in the manuals
    assert ("000", "就医陪诊") in names and ("000", "门诊协助") in names and ("000", "7 天住院陪护") in names
    assert ("001", "重疾绿通服务") in names and ("002", "门诊绿通") in names
    assert any(f.manual_id.startswith("000") and "陪诊员" in f.question for f in faqs)
