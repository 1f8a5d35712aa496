"""The store contract (knowledge.vocab): what the adapters store is declared, what the rules loader
reads is stored, and the builder rejects undeclared names."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from knowledge import models as m
from knowledge import vocab as v
from knowledge.ingest.builder import Builder, ContractError
from rules.loader import ATTRS
from tests.test_query import build_synthetic


def _stored_family_keys(kb_session) -> set[str]:
    return {k for rule in kb_session.scalars(select(m.Service.family_rule)) for k in (rule or {})}


def test_fact_attributes_are_declared_and_all_used(kb_session):
    stored = set(kb_session.scalars(select(m.ServiceFact.attribute).distinct()))
    declared = {a.value for a in v.FactAttribute}
    assert stored <= declared, f"undeclared fact attributes: {stored - declared}"
    assert declared <= stored, f"declared but never stored: {declared - stored}"


def test_enum_columns_hold_declared_values(kb_session):
    for col, enum in v.SERVICE_ENUMS.items():
        values = set(kb_session.scalars(select(getattr(m.Service, col)).distinct())) - {None}
        assert values <= {e.value for e in enum}, (col, values)
    checks = [(m.Entitlement.usage_period, v.UsagePeriod), (m.Edition.kind, v.EditionKind),
              (m.Contact.kind, v.ContactKind)]
    for column, enum in checks:
        values = set(kb_session.scalars(select(column).distinct())) - {None}
        assert values <= {e.value for e in enum}, (column, values)
    for svc in kb_session.scalars(select(m.Service)):
        assert set(svc.waiting_waivers or []) <= {e.value for e in v.WaitingWaiver}, svc.name
        assert set(svc.usage_rule or {}) <= {e.value for e in v.UsageRuleKey}, (svc.name, svc.usage_rule)


def test_family_rule_round_trips_and_every_key_is_produced(kb_session):
    for svc in kb_session.scalars(select(m.Service)):
        rule = v.FamilyRule.from_json(svc.family_rule)  # unknown keys raise
        assert rule.to_json() == (svc.family_rule or {}), svc.name
    keys = {f.name for f in dataclasses.fields(v.FamilyRule)}
    assert _stored_family_keys(kb_session) == keys


def test_every_attribute_the_loader_reads_is_produced(kb_session):
    stored = set(kb_session.scalars(select(m.ServiceFact.attribute).distinct()))
    read = {a for attrs in ATTRS.values() for a in attrs}
    assert read <= stored, f"the loader reads attributes no manual produces: {read - stored}"


# -- the builder rejects undeclared names --------------------------------------------------------

def _build(tmp_path, ingest):
    build_synthetic(tmp_path, ingest=ingest)


@pytest.mark.parametrize("bad", [
    lambda b, s: b.fact(s, "usage_limt", "每年 1 次", (1, 1)),
    lambda b, s: b.service("x", "陪诊", (1, 1), category="escourt"),
    lambda b, s: b.service("x", "陪诊", (1, 1), usage_period="per_year"),
    lambda b, s: b.service("x", "陪诊", (1, 1), family_rule={"max_member": 3}),
    lambda b, s: b.service("x", "陪诊", (1, 1), usage_rule={"cancel_notice_working_days": 3}),
    lambda b, s: b.service("x", "陪诊", (1, 1), waiting_waivers=["renew"]),
    lambda b, s: b.contact("tel", "客服电话", "95511", (1, 1)),
])
def test_builder_rejects_undeclared_names(tmp_path, bad):
    def ingest(b: Builder) -> None:
        svc = b.service("escort", "就医陪诊", (3, 6), category="escort")
        bad(b, svc)

    with pytest.raises(ContractError, match=r"knowledge\.vocab"):
        _build(tmp_path, ingest)


def test_finish_checks_fields_set_after_creation(tmp_path):
    def ingest(b: Builder) -> None:
        svc = b.service("escort", "就医陪诊", (3, 6), category="escort")
        svc.beneficiary = "insured_family"  # set by hand after creation
        b.finish()

    with pytest.raises(ContractError, match="beneficiary 'insured_family'"):
        _build(tmp_path, ingest)


def test_enum_members_are_accepted_and_stored_as_text(tmp_path):
    def ingest(b: Builder) -> None:
        svc = b.service("escort", "就医陪诊", (3, 6), category=v.Category.ESCORT,
                        family_rule=v.FamilyRule(shared_with=v.SharedWith.IMMEDIATE_RELATIVES, max_members=3))
        b.fact(svc, v.FactAttribute.USAGE_LIMIT, "每年 1 次", (6, 6))
        b.finish()

    engine, _ = build_synthetic(tmp_path, ingest=ingest)
    with engine.connect() as c:
        row = c.execute(select(m.Service.category, m.Service.family_rule)).one()
        attr = c.execute(select(m.ServiceFact.attribute)).scalar_one()
    assert type(row.category) is str and row.category == "escort" and type(attr) is str
    assert row.family_rule == {"shared_with": "immediate_relatives", "max_members": 3}


def test_products_and_aliases_come_from_the_manifest(kb_session):
    from pathlib import Path

    from knowledge.ingest import load_manifest

    for e in load_manifest():
        p = kb_session.scalar(select(m.Product).where(m.Product.manual_id == Path(e["file"]).stem))
        assert p.name == (e.get("product") or e["product_line"])
        # the builder drops an alias that repeats the product's name (003 lists its product_line again)
        assert p.aliases == [a for a in e.get("product_aliases") or [] if a != p.name]


def test_adapters_import_no_adapter_and_type_no_insurer_or_product_names():
    """Adapters know layouts only: names come from the manifest, shared code from readers / lexicon."""
    import ast
    from pathlib import Path

    from knowledge.ingest import adapters, load_manifest

    names = set()
    for e in load_manifest():
        names |= {e["insurer"], e.get("insurer_short") or "", e.get("product") or e["product_line"],
                  *(e.get("insurer_aliases") or []), *(e.get("product_aliases") or [])}
    names = {n for n in names if len(n) >= 2}
    for path in Path(adapters.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("knowledge.ingest.adapters"), (path.name, node.module)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("knowledge.ingest.adapters") for a in node.names), path.name
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                typed = [n for n in names if n in node.value]
                assert not typed, (path.name, node.lineno, typed)
