"""Policy store: seed, identity verification, DB and HTTP sources."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import MANUALS_DIR
from policies import models as pm
from policies.http import HttpPolicySource
from policies.seed import credentials, seed, specs
from core.identity import PolicyNotVerified, PolicySourceUnavailable, Verifier
from policies.source import DbPolicySource
from tickets.testing import postgres_reachable, temp_database
from core.ids import ValidationError, is_id_number, is_mobile

TODAY = date(2025, 3, 18)

_PG_SKIP = postgres_reachable()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path):
    if request.param == "postgres" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with temp_database(request.param, tmp_path) as engine:
        seed(engine, today=TODAY)
        yield engine


def cred(engine, number):
    return next(c for c in credentials(engine) if c["number"] == number)


def test_verification_by_mobile_or_id_last4(seeded):
    src = DbPolicySource(seeded)
    c = cred(seeded, "PAH2025000101")
    by_mobile = src.get("PAH2025000101", Verifier(mobile=c["mobile"]))
    by_id = src.get("pah2025000101", Verifier(id_last4=c["id_last4"].lower()))
    assert by_mobile == by_id
    assert by_mobile.family_policy and len(by_mobile.insured) == 3
    assert by_mobile.holder_mobile_masked == c["mobile"][:3] + "****" + c["mobile"][-4:]
    assert "holder_mobile" not in by_mobile.__dataclass_fields__  # the raw number never leaves the source


def test_refusal_is_identical_for_wrong_proof_and_unknown_policy(seeded):
    src = DbPolicySource(seeded)
    c = cred(seeded, "PAH2025000101")
    errors = []
    for number, ver in [("PAH2025000101", Verifier(mobile="13900009999")),
                        ("PAH2025000101", Verifier(id_last4="0000")),
                        ("PAH2025000101", Verifier()), ("PAH2025000101", None),
                        ("PAH2025000101", Verifier(mobile="not a phone")),
                        ("PAH2099999999", Verifier(mobile=c["mobile"]))]:
        with pytest.raises(PolicyNotVerified) as ei:
            src.get(number, ver)
        errors.append((ei.value.code, ei.value.message))
    assert len(set(errors)) == 1
    assert "保单号" in errors[0][1]


@pytest.mark.parametrize("garbage", ["", "12", "保单", "x" * 200, "PAH-2025-0001;--'"])
def test_garbage_policy_number_is_a_validation_error(seeded, garbage):
    with pytest.raises(ValidationError) as ei:
        DbPolicySource(seeded).get(garbage, Verifier(mobile="13900000001"))
    assert ei.value.codes[0] in ("policy_number_invalid", "policy_number_missing")


def test_seed_is_idempotent(seeded):
    def snapshot():
        with Session(seeded) as s:
            return (s.scalar(select(func.count()).select_from(pm.Policy)),
                    s.scalar(select(func.count()).select_from(pm.InsuredPerson)),
                    s.scalar(select(func.count()).select_from(pm.FamilyMember)), credentials(seeded))

    before = snapshot()
    seed(seeded, today=TODAY)
    assert snapshot() == before
    assert before[0] == len(specs())


def test_seed_people_are_valid_and_cover_the_cases(seeded):
    with Session(seeded) as s:
        pols = list(s.scalars(select(pm.Policy)))
        for p in pols:
            assert is_mobile(p.holder_mobile) and p.holder_mobile.startswith("1")
            assert is_id_number(p.holder_id_number)
            for person in list(p.insured) + list(p.family):
                assert is_id_number(person.id_number)
                assert person.id_number[6:14] == person.birth_date.strftime("%Y%m%d")
        by_manual = {}
        for p in pols:
            by_manual.setdefault(p.manual_id[:3], []).append(p)
        assert set(by_manual) == {"000", "001", "002", "003", "004"}  # one or more per manual
        assert any(p.is_transfer for p in pols) and any(p.is_renewal for p in pols)
        assert any(p.family_policy for p in by_manual["000"])
        assert any(p.family for p in by_manual["004"])
        minors = [i for p in pols for i in p.insured if (TODAY - i.birth_date).days < 18 * 365]
        assert minors
        # waiting periods relative to today: some policies started within the last 30 days
        assert any((TODAY - p.effective_date).days < 30 for p in by_manual["000"])
        # the gynaecological-cancer product insures women: even sex digit
        assert all(int(i.id_number[16]) % 2 == 0 for p in by_manual["002"] for i in p.insured)


def test_seed_names_come_from_the_manifest_and_manual_text(seeded):
    import yaml

    manifest = yaml.safe_load((MANUALS_DIR / "manifest.yaml").read_text(encoding="utf-8"))["manuals"]
    lines = {e["file"][:3]: (e["insurer"], e["product_line"]) for e in manifest}
    text = {e["file"][:3]: re.sub(r"\s+", "", (MANUALS_DIR / e["file"]).read_text(encoding="utf-8"))
            for e in manifest}
    with Session(seeded) as s:
        for p in s.scalars(select(pm.Policy)):
            key = p.manual_id[:3]
            assert (p.insurer, p.product) == lines[key]
            for addon in p.addons:
                assert addon in text[key], addon
            for part in filter(None, [p.edition, p.tier]):  # no store here: as the manual writes them
                for token in re.findall(r"\d{4}\s*(?:庆典)?\s*版|[\u4e00-\u9fff]+版|\d\s*档|[一二三四]档", part):
                    assert re.sub(r"\s+", "", token) in text[key], (p.number, token)


def test_seed_uses_the_store_edition_names_when_built(tmp_path):
    from knowledge import models as km
    from knowledge.ingest import build

    with temp_database("sqlite", tmp_path) as engine:
        build(engine, only={"004"})
        seed(engine, today=TODAY)
        with Session(engine) as s:
            names = set(s.scalars(select(km.Edition.name)))
            if not names:
                pytest.skip("the 太保蓝本 adapter produced no editions")
            lanben = list(s.scalars(select(pm.Policy).where(pm.Policy.manual_id.like("004%"))))
            assert len({p.edition for p in lanben}) >= 6  # 2019, 2020, 2021, 2022, 2023, 无忧管家, 普惠版
            for p in lanben:
                assert p.edition in names, p.edition
                assert p.tier is None or p.tier in names, p.tier


def test_policy_view_helpers(seeded):
    c = cred(seeded, "CPL2023000501")
    view = DbPolicySource(seeded).get(c["number"], Verifier(mobile=c["mobile"]))
    assert view.find_person("许娟").role == "family" and view.find_person("许娟").since is not None
    assert view.find_person("陌生人") is None
    child = view.find_person("高乐乐")
    assert child.age_on(TODAY) < 18
    assert view.is_in_force(TODAY) and not view.is_in_force(view.end_date + timedelta(days=1))


# -- HTTP adapter ------------------------------------------------------------------------------
POLICY_JSON = {
    "number": "EXT20250001", "insurer": "众安在线财产保险股份有限公司", "product": "尊享e生·中高端医疗保险 PLUS",
    "manual_id": "001_01c07bc6b9f80855", "edition": None, "tier": None,
    "effective_date": "2024-12-01", "end_date": "2025-11-30", "payment_term_years": 1,
    "transfer": False, "renewal": True, "addons": ["门急诊保险金"], "family_policy": False, "status": "active",
    "holder": {"name": "测试甲", "mobile": "13900001234", "id_number": "11010519491231002X"},
    "insured": [{"relation": "self", "name": "测试甲", "birth_date": "1949-12-31", "id_number": "11010519491231002X"}],
    "family_members": [],
    "usage": [{"service": {"manual_id": "001_01c07bc6b9f80855", "key": "k", "name": "就医陪诊"},
               "person_name": "测试甲", "used_on": "2025-01-05", "ticket_number": None, "counts_as_used": True}],
}


class FakeInsurer:
    """The insurer's lookup endpoint as documented in docs/tickets.md."""

    def __init__(self, mode="ok", policy=None):
        self.mode, self.policy, self.calls = mode, policy or POLICY_JSON, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.mode == "timeout":
            raise httpx.ConnectTimeout("slow", request=request)
        if self.mode == "500":
            return httpx.Response(500, text="oops")
        if self.mode == "badjson":
            return httpx.Response(200, text="<html>")
        if self.mode == "422":
            return httpx.Response(422, json={"error": "invalid_policy_number"})
        assert request.method == "POST" and request.url.path == "/api/policies/lookup"
        assert request.headers["authorization"] == "Bearer t0k"
        body = json.loads(request.content)
        if body["policy_number"] != self.policy["number"]:
            return httpx.Response(404, json={"error": "not_found"})
        h = self.policy["holder"]
        if self.mode != "lenient" and body.get("mobile") != h["mobile"] and body.get("id_last4") != h["id_number"][-4:]:
            return httpx.Response(403, json={"error": "verification_failed"})
        return httpx.Response(200, json={"policy": self.policy})


def http_source(fake, **kw):
    return HttpPolicySource("https://insurer.example/api/", token="t0k", transport=httpx.MockTransport(fake), **kw)


def test_http_source_reads_the_contract():
    fake = FakeInsurer()
    view = http_source(fake).get("ext20250001", Verifier(id_last4="002x"))
    assert view.source == "http" and view.is_renewal and view.addons == ("门急诊保险金",)
    assert view.insured[0].id_masked.endswith("002X") and view.usage[0].counts_as_used
    assert json.loads(fake.calls[0].content) == {"policy_number": "EXT20250001", "id_last4": "002X"}


@pytest.mark.parametrize("number,ver", [("EXT20250001", Verifier(mobile="13900009999")),
                                        ("EXT20259999", Verifier(mobile="13900001234")),
                                        ("EXT20250001", Verifier())])
def test_http_refusals_are_generic(number, ver):
    with pytest.raises(PolicyNotVerified):
        http_source(FakeInsurer()).get(number, ver)


def test_http_answers_are_checked_again_locally():
    # an insurer that forgets to verify must still not leak the policy
    with pytest.raises(PolicyNotVerified):
        http_source(FakeInsurer("lenient")).get("EXT20250001", Verifier(mobile="13900009999"))


@pytest.mark.parametrize("mode", ["timeout", "500", "badjson"])
def test_http_failures_are_unavailable(mode):
    with pytest.raises(PolicySourceUnavailable):
        http_source(FakeInsurer(mode)).get("EXT20250001", Verifier(mobile="13900001234"))


def test_http_malformed_policy_is_unavailable():
    broken = dict(POLICY_JSON, effective_date="someday")
    with pytest.raises(PolicySourceUnavailable):
        http_source(FakeInsurer(policy=broken)).get("EXT20250001", Verifier(mobile="13900001234"))


def test_http_invalid_number():
    fake = FakeInsurer()
    with pytest.raises(ValidationError):
        http_source(fake).get("??", Verifier(mobile="13900001234"))
    assert fake.calls == []  # garbage never reaches the insurer
    with pytest.raises(ValidationError):
        http_source(FakeInsurer("422")).get("EXT20250001", Verifier(mobile="13900001234"))


def test_http_merges_local_usage(tmp_path):
    with temp_database("sqlite", tmp_path) as engine:
        with Session(engine) as s, s.begin():
            s.add(pm.UsageRecord(policy_number="EXT20250001", service_manual_id="001_01c07bc6b9f80855",
                                 service_key="k2", service_name="门诊绿通", person_name="测试甲",
                                 used_on=date(2025, 2, 1), ticket_number="T20250130-000001", counts_as_used=True))
        view = http_source(FakeInsurer(), usage_engine=engine).get("EXT20250001", Verifier(mobile="13900001234"))
        assert [u.service.name for u in view.usage] == ["就医陪诊", "门诊绿通"]
