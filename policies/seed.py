"""Demo policies covering every manual, version and tier (synthetic people only).

    python -m policies.seed            # upsert into the application database

Insurer and product names come from knowledge/manuals/manifest.yaml; edition and
tier names are written as the manuals write them and, when the knowledge store
is built, replaced by the matching kb_editions name. Dates are relative to
today, so re-running refreshes waiting periods (idempotent: same numbers, same
people, rows updated in place).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional

from sqlalchemy import delete, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from policies import models as pm
from core.clock import today_china
from core.ids import id_check_char

log = logging.getLogger(__name__)

# Synthetic people: common given names, real district codes, valid check characters, 139 0xxx mobiles.
_AREAS = ["110101", "310104", "440106", "320505", "330106", "510107", "420106", "610113"]


def fake_id(index: int, born: date, female: bool) -> str:
    seq = (index * 7) % 100
    sex = (2 * (index % 5)) + (0 if female else 1)  # even: female, odd: male
    first17 = f"{_AREAS[index % len(_AREAS)]}{born:%Y%m%d}{seq:02d}{sex}"
    return first17 + id_check_char(first17)


def fake_mobile(index: int) -> str:
    return f"1390{index:07d}"


def years_before(day: date, years: int, days: int = 0) -> date:
    try:
        d = day.replace(year=day.year - years)
    except ValueError:  # 29 Feb
        d = day.replace(year=day.year - years, day=28)
    return d - timedelta(days=days)


@dataclass
class P:  # a person spec
    name: str
    relation: str
    age: int
    female: bool
    since_days: Optional[int] = None  # family members: designated this many days ago


@dataclass
class Spec:
    number: str
    manual: str  # manifest file prefix
    holder: P
    insured: list[P]
    effective_days_ago: int
    years: int = 1  # policy term
    edition: Optional[str] = None
    tier: Optional[str] = None
    payment_term_years: Optional[int] = None
    transfer: bool = False
    renewal: bool = False
    addons: list[str] = field(default_factory=list)
    family_policy: bool = False
    family: list[P] = field(default_factory=list)
    waiting_days: Optional[int] = None  # the product's own waiting period, where the manual defers to it
    why: str = ""  # which rule this policy lets a tester exercise


# The products' own waiting periods (days) for the manuals whose services take "the product's waiting
# period" without stating it (001, 003); synthetic, like the rest of these policies.
PRODUCT_WAITING = {"001": 30, "003": 30}


def specs() -> list[Spec]:
    me = lambda n, a, f: P(n, "self", a, f)  # noqa: E731
    return [
        # 平安健康: family shared pool, waiting period, transfer
        Spec("PAH2025000101", "000", me("王建国", 41, False),
             [me("王建国", 41, False), P("刘芳", "spouse", 39, True), P("王小雨", "child", 9, True)],
             200, family_policy=True, why="family policy: 5 services share one pool among direct relatives"),
        Spec("PAH2025000102", "000", me("陈静", 33, True), [me("陈静", 33, True)], 10,
             why="inside the 30-day waiting period"),
        Spec("PAH2025000103", "000", me("赵磊", 45, False), [me("赵磊", 45, False)], 5, transfer=True,
             why="transfer (转保): no waiting period although effective 5 days ago"),
        Spec("PAH2025000104", "000", me("孙丽", 36, True), [P("周子豪", "child", 6, False)], 90,
             why="minor insured, holder is the parent"),
        # 众安 尊享e生 PLUS
        Spec("ZAP2025000201", "001", me("李明", 38, False), [me("李明", 38, False)], 100, addons=["门急诊保险金"],
             why="outpatient add-on bought (services that need 门急诊保险金)"),
        Spec("ZAP2025000202", "001", me("黄婷", 29, True), [me("黄婷", 29, True)], 3, renewal=True,
             why="renewal (续期): value-added services have no waiting period"),
        Spec("ZAP2025000203", "001", me("吴强", 52, False), [me("吴强", 52, False)], 20,
             why="first year, inside the product waiting period, no add-on"),
        # 太保健康 妇科癌症复发
        Spec("CPH2025000301", "002", me("郑梅", 47, True), [me("郑梅", 47, True)], 40,
             why="past the 15-day cooling-off, inside the 90-day waiting period"),
        Spec("CPH2025000302", "002", me("冯雪", 55, True), [me("冯雪", 55, True)], 120,
             why="past the 90-day waiting period"),
        # 众安 增值服务介绍汇编
        Spec("ZAV2025000401", "003", me("何伟", 44, False), [me("何伟", 44, False)], 60, why="in force"),
        Spec("ZAV2025000402", "003", me("林晓", 31, True), [me("林晓", 31, True)], 15, why="inside waiting period"),
        # 太保寿险 太保蓝本: every version and tier the manual describes
        Spec("CPL2023000501", "004", me("高志远", 40, False), [me("高志远", 40, False)], 300, years=30,
             edition="2023 版", tier="尊享版 3 档", payment_term_years=20,
             family=[P("许娟", "spouse", 38, True, 200), P("高乐乐", "child", 8, False, 200),
                     P("高德明", "parent", 68, False, 30)],
             why="designated family members (up to 5), family window 3 years"),
        Spec("CPL2023000502", "004", me("马丽华", 35, True), [me("马丽华", 35, True)], 5, years=30,
             edition="2023 版", tier="专业版", payment_term_years=10, why="inside the 15-day cooling-off"),
        Spec("CPL2023000503", "004", me("罗斌", 46, False), [me("罗斌", 46, False)], 100, years=30,
             edition="2023 版", tier="尊享版 1 档", payment_term_years=20, why="tier 1: insured only"),
        Spec("CPL2022000504", "004", me("梁晨", 34, True), [me("梁晨", 34, True)], 400, years=30,
             edition="2022 版", tier="关爱版", payment_term_years=10, why="关爱版 one-year window has ended"),
        Spec("CPL2022000505", "004", me("宋宇", 43, False), [me("宋宇", 43, False)], 500, years=30,
             edition="2022 版", tier="尊享版 2 档", payment_term_years=20,
             family=[P("唐敏", "spouse", 41, True, 450), P("宋佳怡", "child", 12, True, 450)],
             why="tier 2: 3 designated family members, once a year each"),
        Spec("CPL2022000506", "004", me("韩冰", 37, True), [me("韩冰", 37, True)], 200, years=30,
             edition="2022 版", tier="专业版", payment_term_years=15, why="专业版 2022"),
        Spec("CPL2021000507", "004", me("曹阳", 50, False), [me("曹阳", 50, False)], 900, years=30,
             edition="2021 庆典版", tier="尊享版 3 档", payment_term_years=20,
             family=[P("彭丽", "spouse", 48, True, 800)], why="2021 tier 3: unlimited, family too"),
        Spec("CPL2021000508", "004", me("董洁", 42, True), [me("董洁", 42, True)], 700, years=30,
             edition="2021 庆典版", tier="专业版", payment_term_years=10, why="2021 专业版"),
        Spec("CPL2020000509", "004", me("袁刚", 48, False), [me("袁刚", 48, False)], 800, years=30,
             edition="2020 版", tier="三档", payment_term_years=20,
             family=[P("邓霞", "spouse", 46, True, 700)], why="2020 三档: 3 family members once a year"),
        Spec("CPL2020000510", "004", me("许涛", 39, False), [me("许涛", 39, False)], 600, years=30,
             edition="2020 版", tier="一档", payment_term_years=10, why="2020 一档: no MDT"),
        Spec("CPL2019000511", "004", me("傅强", 55, False), [me("傅强", 55, False)], 4 * 365, years=30,
             edition="2019 版", tier="二档", payment_term_years=20,
             why="2019: 3-year window from day 19 has ended (5 years if upgraded)"),
        Spec("CPL2019000512", "004", me("沈红", 51, True), [me("沈红", 51, True)], 2 * 365, years=30,
             edition="2019 版", tier="一档", payment_term_years=10, why="2019 一档 inside its 3-year window"),
        Spec("CPL2023000513", "004", me("钟伟", 45, False), [me("钟伟", 45, False)], 150, years=30,
             edition="无忧管家（2023 版）", tier="无忧管家 尊享版", payment_term_years=20,
             why="无忧管家 尊享版: 特种检查预约加急 included"),
        Spec("CPL2023000514", "004", me("谢芳", 33, True), [me("谢芳", 33, True)], 150, years=30,
             edition="无忧管家（2023 版）", tier="无忧管家 专业版", payment_term_years=1,
             why="无忧管家 专业版, single premium (趸交): one-year window"),
        Spec("CPL2023000515", "004", me("杜鹏", 28, False), [me("杜鹏", 28, False)], 30, years=1,
             edition="普惠版（2023 版）", why="普惠版: joined 30 days ago, valid to 31 Dec"),
    ]


def _norm(s: str) -> str:
    return re.sub(r"[\s（）()·]|太保蓝本", "", s or "")


def kb_edition_names(session: Session, manual_prefix: str) -> list[tuple[str, str]]:
    """(kind, name) of the editions the knowledge store has for a manual (empty when not built)."""
    try:
        if not inspect(session.get_bind()).has_table("kb_editions"):
            return []
        from knowledge import models as km

        q = (select(km.Edition.kind, km.Edition.name).join(km.Product, km.Product.id == km.Edition.product_id)
             .where(km.Product.manual_id.like(f"{manual_prefix}%")).order_by(km.Edition.id))
        return [(k, n) for k, n in session.execute(q)]
    except Exception:  # a half-built store must not stop the seed
        return []


def match_edition(edition: str | None, tier: str | None,
                  known: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The store's spelling of an edition and tier (a tier row's name includes its edition), when it has one."""
    if not edition or not known:
        return edition, tier
    e = _norm(edition)
    ed = next((n for k, n in known if k != "tier" and _norm(n) == e), None)
    if ed is None:
        return edition, tier
    if not tier:
        return ed, tier
    t = _norm(tier)
    tiers = [n for k, n in known if k == "tier" and _norm(n).startswith(e)]
    hit = next((n for n in tiers if _norm(n) == e + t), None) \
        or next((n for n in tiers if t in _norm(n)[len(e):]), None)
    return ed, hit or tier


def seed(engine: Engine | None = None, today: date | None = None) -> list[str]:
    """Upsert the demo policies; returns their numbers."""
    from core.db import engine_for
    from knowledge.ingest import load_manifest

    engine = engine or engine_for()
    today = today or today_china()
    manifest = {e["file"][:3]: e for e in load_manifest()}
    numbers: list[str] = []
    people_index: dict[str, int] = {}

    def person_id(p: P) -> tuple[date, str]:
        idx = people_index.setdefault(p.name, len(people_index) + 1)
        born = years_before(today, p.age, days=37 + idx * 11)
        return born, fake_id(idx, born, p.female)

    with Session(engine) as s, s.begin():
        for sp in specs():
            entry = manifest[sp.manual]
            known = kb_edition_names(s, sp.manual)
            pol = s.scalar(select(pm.Policy).where(pm.Policy.number == sp.number)) or pm.Policy(number=sp.number)
            _, holder_id = person_id(sp.holder)
            eff = today - timedelta(days=sp.effective_days_ago)
            end = years_before(eff, -sp.years) - timedelta(days=1)
            pol.holder_name = sp.holder.name
            pol.holder_mobile = fake_mobile(people_index[sp.holder.name])
            pol.holder_id_number = holder_id
            pol.insurer = entry["insurer"]
            pol.manual_id = entry["file"].rsplit(".", 1)[0]
            pol.product = entry["product_line"]
            pol.edition, pol.tier = match_edition(sp.edition, sp.tier, known)
            pol.effective_date, pol.end_date = eff, end
            pol.payment_term_years = sp.payment_term_years
            pol.waiting_days = sp.waiting_days if sp.waiting_days is not None else PRODUCT_WAITING.get(sp.manual)
            pol.is_transfer, pol.is_renewal = sp.transfer, sp.renewal
            pol.addons = list(sp.addons)
            pol.family_policy = sp.family_policy
            pol.status = "active"
            pol.insured.clear()
            pol.family.clear()
            s.add(pol)
            s.flush()
            for p in sp.insured:
                born, pid = person_id(p)
                pol.insured.append(pm.InsuredPerson(relation=p.relation, name=p.name, birth_date=born, id_number=pid))
            for p in sp.family:
                born, pid = person_id(p)
                pol.family.append(pm.FamilyMember(relation=p.relation, name=p.name, birth_date=born, id_number=pid,
                                                  since=today - timedelta(days=p.since_days or 0)))
            numbers.append(sp.number)
        # seeded usage is demo history only: refresh it, never touch ticket-made rows
        s.execute(delete(pm.UsageRecord).where(pm.UsageRecord.policy_number.in_(numbers),
                                               pm.UsageRecord.ticket_number.is_(None),
                                               pm.UsageRecord.note == SEED_NOTE))
        for row in _seed_usage(s, today):
            s.add(row)
    return numbers


SEED_NOTE = "demo history (policies.seed)"


def _seed_usage(s: Session, today: date) -> list[pm.UsageRecord]:
    """One past escort (陪诊) for the 平安 family policy, when the store knows that service."""
    try:
        if not inspect(s.get_bind()).has_table("kb_services"):
            return []
        from knowledge import models as km

        svc = s.scalar(select(km.Service).where(km.Service.manual_id.like("000%"), km.Service.name.like("%陪诊%"))
                       .order_by(km.Service.id))
    except Exception:
        return []
    if svc is None:
        return []
    return [pm.UsageRecord(policy_number="PAH2025000101", service_manual_id=svc.manual_id, service_key=svc.key,
                           service_name=svc.name, person_name="刘芳", used_on=today - timedelta(days=60),
                           counts_as_used=True, note=SEED_NOTE)]


def credentials(engine: Engine | None = None) -> list[dict]:
    """Number, holder, mobile and ID last four of every seeded policy (for demos and tests)."""
    from core.db import engine_for

    with Session(engine or engine_for()) as s:
        rows = s.scalars(select(pm.Policy).where(pm.Policy.number.in_([sp.number for sp in specs()]))
                         .order_by(pm.Policy.number))
        return [{"number": p.number, "holder": p.holder_name, "mobile": p.holder_mobile,
                 "id_last4": p.holder_id_number[-4:], "product": p.product, "edition": p.edition, "tier": p.tier}
                for p in rows]


def main() -> None:
    from migrations import upgrade_head

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    upgrade_head()
    numbers = seed()
    print(f"seeded {len(numbers)} demo policies")
    for c in credentials():
        print(f"  {c['number']}  {c['holder']}  {c['mobile']}  ID …{c['id_last4']}  {c['product']} "
              f"{c['edition'] or ''} {c['tier'] or ''}")


if __name__ == "__main__":
    main()
