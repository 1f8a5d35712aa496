"""The service API against a temporary SQLite store: knowledge, eligibility, tickets, operators, errors.

Expected facts are read from the manual text itself (the lines a source cites), not typed in.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.config import MANUALS_DIR
from tests.api_fixtures import api, err  # noqa: F401 - the shared app fixture and error check
from core.clock import now_china

PINGAN = "000_0cd53a263ec9ebf5"


def manual_lines(manual_id: str) -> list[str]:
    return (Path(MANUALS_DIR) / f"{manual_id}.txt").read_text(encoding="utf-8").splitlines()


def cited_text(src: dict) -> str:
    """The manual lines a source cites, joined without blanks."""
    lines = manual_lines(src["manual_id"])[src["line_start"] - 1: src["line_end"]]
    return re.sub(r"\s+", "", "".join(lines))


def future(days: float = 3) -> str:
    return (now_china() + timedelta(days=days)).replace(microsecond=0).isoformat()


# -- health, OpenAPI ---------------------------------------------------------------
def test_healthz_reports_counts(api, kb_engine):
    r = api.get("/healthz")
    assert r.status_code == 200
    k = r.json()["knowledge"]
    assert k["manuals"] == len(list(MANUALS_DIR.glob("0*.txt")))
    assert k["services"] > 50 and k["hospitals"] > 500


def test_healthz_503_when_store_not_built(tmp_path):
    from api.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'empty.db'}", build_if_empty=False)
    with TestClient(app) as c:
        e = err(c.get("/healthz"), 503, "knowledge_not_built")
        assert e["details"]["counts"] is None


def test_openapi_documents_every_endpoint(api):
    paths = api.get("/openapi.json").json()["paths"]
    for p in ("/healthz", "/api/services", "/api/services/{service}", "/api/coverage", "/api/hospitals",
              "/api/hospitals/search", "/api/eligibility", "/api/tickets", "/api/tickets/{number}",
              "/api/tickets/{number}/cancel", "/api/operator/tickets", "/api/operator/tickets/{number}/transition"):
        assert p in paths, p


# -- services --------------------------------------------------------------------
def test_services_by_insurer_alias(api):
    r = api.get("/api/services", params={"insurer": "平安"})
    assert r.status_code == 200
    items = r.json()
    assert items and {s["insurer_short"] for s in items} == {"平安健康"}
    for s in items:  # every service cites its heading in the manual
        assert s["source"]["manual_id"] == PINGAN
        assert re.sub(r"\s+", "", s["name"])[:4] in cited_text(s["source"])


@pytest.mark.parametrize("insurer,words,expect", [("平安", "二诊", "第二诊疗"), ("众安", "绿通", "绿通"),
                                                  ("太保寿险", "MDT", "多学科会诊")])
def test_service_words_customers_use(api, insurer, words, expect):
    items = api.get("/api/services", params={"insurer": insurer, "q": words}).json()
    assert items and expect in items[0]["name"]
    detail = api.get(f"/api/services/{words}", params={"insurer": insurer}).json()
    assert detail["id"] == items[0]["id"]
    assert detail["facts"]
    for f in detail["facts"][:10]:
        assert f["source"]["cite"].startswith("《")


def test_service_detail_by_id_and_unknown(api):
    sid = api.get("/api/services", params={"insurer": "平安", "q": "陪诊"}).json()[0]["id"]
    d = api.get(f"/api/services/{sid}").json()
    assert d["name"] == "就医陪诊" and d["lead_time_hours"] is not None
    assert str(d["lead_time_hours"]) in cited_text(next(f["source"] for f in d["facts"]
                                                          if str(d["lead_time_hours"]) in f["value"]))
    err(api.get("/api/services/999999"), 404, "unknown_service")
    err(api.get("/api/services/不存在的服务xyz"), 404, "unknown_service")
    err(api.get("/api/services", params={"insurer": "火星保险"}), 400, "unknown_insurer")


# -- coverage --------------------------------------------------------------------
def test_coverage_covered_with_source_line(api):
    r = api.get("/api/coverage", params={"insurer": "平安", "service": "陪诊", "city": "苏州"})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["covered"] is True and c["status"] == "covered"
    assert c["city"] == {"name": "苏州市", "short": "苏州", "code": "320500", "province": "江苏省"}
    assert c["service"]["name"] == "就医陪诊"
    assert c["sources"] and all("苏州" in cited_text(s) for s in c["sources"])
    assert "苏州市" in c["reason"]


def test_coverage_not_covered_cites_the_list(api):
    c = api.get("/api/coverage", params={"insurer": "平安", "service": "陪诊", "city": "拉萨"}).json()
    assert c["covered"] is False and c["status"] == "not_covered"
    # the cited list really has no 拉萨
    assert c["sources"] and not any("拉萨" in cited_text(s) for s in c["sources"])
    assert "陪诊" in cited_text(c["sources"][0])


def test_coverage_partial_names_the_listed_places(api):
    """众安 院外特药 lists only 宜城市 for 襄阳 (001 line 753): partial, not covered."""
    c = api.get("/api/coverage", params={"insurer": "众安", "service": "院外特药", "city": "襄阳"}).json()
    assert c["status"] == "partial" and c["covered"] is None and c["places"] == ["宜城市"]
    assert "襄阳市只有下辖的宜城市" in c["reason"]
    assert [s["line_start"] for s in c["sources"]] == [753] and "宜城市" in cited_text(c["sources"][0])
    own = api.get("/api/coverage", params={"insurer": "众安", "service": "院外特药", "city": "宜城"}).json()
    assert own["status"] == "covered" and own["covered"] is True and own["places"] == ["宜城市"]


def test_coverage_count_is_the_rows_own_number(api):
    """平安 门诊协助 (附件1): 成都市 83 on line 2708, 崇州市 1 on line 2710 — never 84, never 成都's for 崇州."""
    c = api.get("/api/coverage", params={"insurer": "平安", "service": "门诊协助", "city": "成都"}).json()
    assert (c["status"], c["hospitals_count"], c["places"]) == ("covered", 83, ["成都市"])
    z = api.get("/api/coverage", params={"insurer": "平安", "service": "门诊协助", "city": "崇州"}).json()
    assert (z["status"], z["hospitals_count"], z["places"]) == ("covered", 1, ["崇州市"])
    assert "崇州市" in z["reason"] and "1 家" in z["reason"]


def test_coverage_unknown_when_manual_has_no_list(api):
    svc = next(s for s in api.get("/api/services", params={"insurer": "众安"}).json()
               if s["coverage_scope"] == "unspecified" and s["name"].startswith("健康档案"))
    c = api.get("/api/coverage", params={"service": str(svc["id"]), "city": "上海"}).json()
    assert c["covered"] is None and c["status"] == "unknown" and c["city"]["code"] == "310000"
    assert "核实" in c["reason"]


def test_coverage_city_errors(api):
    e = err(api.get("/api/coverage", params={"insurer": "平安", "service": "陪诊", "city": "SZ"}), 400, "city_ambiguous")
    names = {c["name"] for c in e["details"]["candidates"]}
    assert {"苏州市", "深圳市"} <= names
    err(api.get("/api/coverage", params={"insurer": "平安", "service": "陪诊", "city": "火星"}), 400, "city_unknown")
    err(api.get("/api/coverage", params={"insurer": "太保", "service": "陪诊", "city": "苏州"}), 400, "unknown_insurer")
    err(api.get("/api/coverage", params={"insurer": "平安", "service": "量子纠缠服务", "city": "苏州"}), 404,
        "unknown_service")
    err(api.get("/api/coverage", params={"insurer": "平安", "service": "陪诊"}), 422, "invalid_input")


# -- hospitals -------------------------------------------------------------------
def test_hospitals_of_a_service_in_a_city(api):
    r = api.get("/api/hospitals", params={"insurer": "太保健康", "service": "门诊绿通", "city": "上海"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["city"]["code"] == "310000" and body["count"] == len(body["hospitals"]) > 0
    for h in body["hospitals"]:
        assert h["city_name"] == "上海市"
        assert re.sub(r"\s+", "", h["name"]) in cited_text(h["source"])


def test_hospital_search_by_short_name(api):
    body = api.get("/api/hospitals/search", params={"q": "华西"}).json()
    top = body["hospitals"][0]
    assert top["city_name"] == "成都市" and "华西" in top["name"]
    assert top["name"] in cited_text(top["source"])
    assert api.get("/api/hospitals/search", params={"q": "zzzz不存在"}).json()["count"] == 0
    err(api.get("/api/hospitals/search", params={"q": ""}), 422, "invalid_input")


# -- eligibility -----------------------------------------------------------------
def _elig(api, number, service, **body):
    c = api.creds[number]
    return api.post("/api/eligibility", json={"service": service, "policy_number": number,
                                              "verifier": c["mobile"], **body})


def test_eligible_with_every_reason_sourced(api):
    r = _elig(api, "PAH2025000103", "二诊", case={"diagnosis": "confirmed", "disease": "恶性肿瘤",
                                                  "diagnosis_hospital_public": True, "diagnosis_hospital_grade": 3})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["decision"] == "eligible" and d["missing"] == [] and d["service"]["name"] == "国内第二诊疗"
    waiting = next(x for x in d["reasons"] if x["code"] == "waiting")
    assert waiting["passed"] is True and "转保" in waiting["message"]
    assert "转保" in cited_text(waiting["source"])  # the manual's waiver clause
    for x in d["reasons"]:
        if x["source"]:
            assert x["source"]["manual_id"] == PINGAN and x["source"]["line_start"] >= 1


def test_identity_in_headers(api):
    c = api.creds["PAH2025000103"]
    r = api.post("/api/eligibility", json={"service": "二诊", "case": {"diagnosis": "confirmed"}},
                 headers={"X-Policy-Number": c["number"], "X-Verifier": c["id_last4"]})
    assert r.status_code == 200 and r.json()["policy"]["number"] == c["number"]
    assert r.json()["policy"]["holder_mobile_masked"].startswith(c["mobile"][:3])


def test_not_eligible_inside_waiting_period(api):
    d = _elig(api, "PAH2025000102", "二诊", case={"diagnosis": "confirmed"}).json()
    assert d["decision"] == "not_eligible"
    w = next(x for x in d["reasons"] if x["code"] == "waiting")
    assert w["passed"] is False
    days = re.search(r"(\d+)\s*天等待期", w["message"]).group(1)
    assert re.search(rf"(?<!\d){days}(?!\d)", cited_text(w["source"]))  # cites the clause stating the days


def test_family_pool_used_up_from_usage_records(api):
    """刘芳 used the 平安 escort 60 days ago (seeded usage); the family policy's pool allows 1 per year."""
    d = _elig(api, "PAH2025000101", "陪诊", person={"name": "刘芳"}, case={"city": "苏州"}).json()
    assert d["decision"] == "not_eligible"
    assert d["facts_used"]["uses_this_period"] == 1 and "family pool" in d["facts_used"]["uses_from"]
    usage = next(x for x in d["reasons"] if x["code"] == "usage")
    assert usage["passed"] is False and "1次" in cited_text(usage["source"])
    cov = next(x for x in d["reasons"] if x["code"] == "coverage")
    assert cov["passed"] is True and "苏州" in cited_text(cov["source"])
    assert d["coverage"]["covered"] is True and d["coverage"]["city"]["name"] == "苏州市"


def test_edition_picks_the_versions_service(api):
    """太保蓝本 2020 一档 has no 多学科会诊; the 2023 尊享版 3 档 has 重疾多学科会诊."""
    d = _elig(api, "CPL2020000510", "MDT", case={"diagnosis": "confirmed"}).json()
    ent = next(x for x in d["reasons"] if x["code"] == "entitlement")
    assert d["decision"] == "not_eligible" and ent["passed"] is False and d["service"]["name"] == "多学科会诊"
    d = _elig(api, "CPL2023000501", "MDT", person={"name": "许娟"},
              case={"diagnosis": "confirmed", "diagnosis_hospital_public": True, "diagnosis_hospital_grade": "三级甲等"},
              policy_extra={"cooling_off_days": 15}).json()
    ent = next(x for x in d["reasons"] if x["code"] == "entitlement")
    assert ent["passed"] is True and d["service"]["name"] == "重疾多学科会诊"
    assert d["person"] == {"name": "许娟", "role": "family", "relation": "spouse"}


def test_hospital_gives_the_city_for_coverage(api):
    d = _elig(api, "CPH2025000302", "门诊绿通", case={"hospital": "华西"}).json()
    assert d["coverage"]["city"]["name"] == "成都市" and d["coverage"]["hospital"]["name"] == "四川大学华西医院"
    cov = next(x for x in d["reasons"] if x["code"] == "coverage")
    assert cov["passed"] is True and "华西" in cited_text(cov["source"])
    # a hospital of the same city that is not on the list
    listed = api.get("/api/hospitals", params={"service": str(d["service"]["id"]), "city": "成都"}).json()["hospitals"]
    other = next(h["name"] for h in api.get("/api/hospitals/search", params={"q": "成都市第一人民医院"}).json()["hospitals"]
                 if h["city_name"] == "成都市")
    assert other not in {h["name"] for h in listed}
    d = _elig(api, "CPH2025000302", "门诊绿通", case={"hospital": other}).json()
    cov = next(x for x in d["reasons"] if x["code"] == "coverage")
    assert cov["passed"] is False and d["coverage"]["covered"] is False and other in cov["message"]


def test_without_policy_the_stated_facts_decide(api):
    """No policy: the rules run on what the customer states; what is missing is asked for."""
    r = api.post("/api/eligibility", json={"insurer": "平安", "service": "二诊"})
    d = r.json()
    assert r.status_code == 200 and d["decision"] == "need_info" and d["facts_used"]["stated"] is True
    assert "policy.effective_date" in [m["fact"] for m in d["missing"]]
    today = date.today()
    inside = api.post("/api/eligibility", json={"insurer": "平安", "service": "门诊协助",
                                                "policy_extra": {"effective_date": str(today - timedelta(days=20)),
                                                                 "is_transfer": False}})
    assert inside.json()["decision"] == "not_eligible"
    assert any(x["code"] == "waiting" and x["passed"] is False and "30" in x["source"]["quote"]
               for x in inside.json()["reasons"])
    moved = api.post("/api/eligibility", json={"insurer": "平安", "service": "门诊协助",
                                               "policy_extra": {"effective_date": str(today - timedelta(days=3)),
                                                                "is_transfer": True}})
    assert not any(x["code"] == "waiting" and x["passed"] is False for x in moved.json()["reasons"])


def test_a_product_name_is_an_insurer_parameter(api):
    r = api.get("/api/coverage", params={"insurer": "尊享e生PLUS", "service": "院内陪护", "city": "成都"})
    assert r.status_code == 200 and r.json()["service"]["manual_id"].startswith("001")
    r = api.get("/api/coverage", params={"insurer": "兰本", "service": "重疾陪诊", "city": "上海"})
    assert r.status_code == 200 and r.json()["service"]["manual_id"].startswith("004")


def test_eligibility_identity_errors(api):
    c = api.creds["PAH2025000103"]
    other = api.creds["PAH2025000102"]
    wrong = err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"],
                                                   "verifier": other["mobile"]}), 403, "policy_verification_failed")
    nosuch = err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": "PAH2099999999",
                                                    "verifier": c["mobile"]}), 403, "policy_verification_failed")
    assert wrong == nosuch  # "not yours" and "no such" look the same
    err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"], "verifier": "0000"}),
        403, "policy_verification_failed")
    err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": "!!#", "verifier": c["mobile"]}),
        422, "policy_number_invalid")
    err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"], "verifier": "abc"}),
        422, "verifier_invalid")
    err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"]}), 401, "verifier_missing")
    err(_elig(api, "PAH2025000103", "二诊", person={"name": "张三"}), 422, "person_not_on_policy")
    err(_elig(api, "PAH2025000103", "MDT", insurer="众安"), 422, "service_not_for_policy")
    err(_elig(api, "PAH2025000103", "二诊", case={"city": "SZ"}), 400, "city_ambiguous")
    err(_elig(api, "PAH2025000103", "二诊", person={"relation": "外星人"}), 422, "relation_invalid")
    err(api.post("/api/eligibility", json={"service": "二诊", "surprise": 1}), 422, "invalid_input")
    err(api.post("/api/eligibility", content=b"{not json", headers={"content-type": "application/json"}), 422,
        "invalid_json")


# -- tickets ---------------------------------------------------------------------
def _ticket_body(**over):
    body = {"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
            "hospital": "苏州大学附属第一医院", "preferred_time": future(3), "contact_phone": "13912345678",
            "notes": "需要轮椅"}
    body.update(over)
    return body


def _hdr(api, number="PAH2025000101", **extra):
    return {"X-Policy-Number": number, "X-Verifier": api.creds[number]["mobile"], **extra}


def _ticket_count(api, number="PAH2025000101") -> int:
    r = api.get("/api/operator/tickets", params={"policy_number": number, "limit": 200},
                headers={"X-API-Key": "dev-operator-key"})
    return r.json()["total"]


def test_ticket_create_status_cancel(api):
    h = _hdr(api, **{"Idempotency-Key": "api-test-1"})
    r = api.post("/api/tickets", json=_ticket_body(), headers=h)
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    assert r.json()["created"] is True and re.fullmatch(r"T\d{8}-\d{6}", t["number"])
    assert t["status"] == "submitted" and t["city"]["name"] == "苏州市" and t["coverage"] == "covered"
    assert t["service"]["name"] == "就医陪诊" and t["contact_phone_masked"] == "139****5678"

    # the same request again (time as the server returned it: same instant) replays the ticket
    again = api.post("/api/tickets", json=_ticket_body(preferred_time=t["preferred_time"]), headers=h)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["ticket"]["number"] == t["number"]

    got = api.get(f"/api/tickets/{t['number']}", headers={"X-Verifier": api.creds["PAH2025000101"]["id_last4"]})
    assert got.status_code == 200 and got.json()["number"] == t["number"]
    # someone else's proof, and a ticket that does not exist: the same 404
    other = {"X-Verifier": api.creds["PAH2025000102"]["mobile"]}
    a = err(api.get(f"/api/tickets/{t['number']}", headers=other), 404, "ticket_not_found")
    b = err(api.get("/api/tickets/T20200101-999999", headers=other), 404, "ticket_not_found")
    assert a == b
    err(api.get(f"/api/tickets/{t['number']}"), 401, "verifier_missing")
    err(api.post(f"/api/tickets/{t['number']}/cancel", json={"reason": "改期"}, headers=other), 404,
        "ticket_not_found")

    c = api.post(f"/api/tickets/{t['number']}/cancel", json={"reason": "改期"}, headers=_hdr(api))
    assert c.status_code == 200 and c.json()["status"] == "cancelled"
    assert [e["to_status"] for e in c.json()["events"]] == ["submitted", "cancelled"]
    err(api.post(f"/api/tickets/{t['number']}/cancel", headers=_hdr(api)), 409, "transition_not_allowed")


def test_ticket_idempotent_repeat(api):
    body = _ticket_body(preferred_time=future(4), idempotency_key="api-test-idem")
    first = api.post("/api/tickets", json=body, headers=_hdr(api))
    assert first.status_code == 201, first.text
    n = _ticket_count(api)
    second = api.post("/api/tickets", json=body, headers=_hdr(api))
    assert second.status_code == 200 and second.json()["created"] is False
    assert second.json()["ticket"]["number"] == first.json()["ticket"]["number"]
    assert _ticket_count(api) == n
    err(api.post("/api/tickets", json={**body, "notes": "不同内容"}, headers=_hdr(api)), 409, "idempotency_conflict")
    err(api.post("/api/tickets", json=body, headers=_hdr(api, **{"Idempotency-Key": "other"})), 422,
        "idempotency_key_mismatch")


def test_ticket_validation_errors_store_nothing(api):
    before = _ticket_count(api)
    err(api.post("/api/tickets", json=_ticket_body(contact_phone="12345"), headers=_hdr(api)), 422, "mobile_invalid")
    err(api.post("/api/tickets", json=_ticket_body(preferred_time=future(-1)), headers=_hdr(api)), 422, "time_in_past")
    lead = err(api.post("/api/tickets", json=_ticket_body(preferred_time=future(1)), headers=_hdr(api)), 422,
               "time_too_soon")
    svc = api.get("/api/services/陪诊", params={"insurer": "平安"}).json()
    assert f"{svc['lead_time_hours']} 小时" in lead["message"]  # the manual's lead time
    err(api.post("/api/tickets", json=_ticket_body(person_id_number="110105194912310021"), headers=_hdr(api)), 422,
        "id_number_checksum")
    err(api.post("/api/tickets", json=_ticket_body(city="SZ"), headers=_hdr(api)), 422, "city_ambiguous")
    err(api.post("/api/tickets", json=_ticket_body(city="拉萨"), headers=_hdr(api)), 422, "city_not_covered")
    err(api.post("/api/tickets", json=_ticket_body(person_name="张三"), headers=_hdr(api)), 422, "person_not_on_policy")
    many = err(api.post("/api/tickets", json=_ticket_body(contact_phone="1", preferred_time=future(-2)),
                        headers=_hdr(api)), 422, "validation_failed")
    assert {i["code"] for i in many["details"]["issues"]} == {"mobile_invalid", "time_in_past"}
    err(api.post("/api/tickets", json=_ticket_body(service="量子服务"), headers=_hdr(api)), 404, "unknown_service")
    # identity
    err(api.post("/api/tickets", json=_ticket_body(), headers={"X-Policy-Number": "PAH2025000101"}), 401,
        "verifier_missing")
    err(api.post("/api/tickets", json=_ticket_body(),
                 headers={"X-Policy-Number": "PAH2025000101", "X-Verifier": api.creds["PAH2025000103"]["mobile"]}),
        403, "policy_verification_failed")
    err(api.post("/api/tickets", json=_ticket_body(),
                 headers={"X-Policy-Number": "PAH2025000101", "X-Verifier": "13X"}), 422, "verifier_invalid")
    err(api.post("/api/tickets", json=_ticket_body(policy_number="%%%", verifier="13900000001")), 422,
        "policy_number_invalid")
    err(api.post("/api/tickets", json=_ticket_body(notes="长" * 501), headers=_hdr(api)), 422, "invalid_input")
    assert _ticket_count(api) == before


def test_ticket_identity_in_body(api):
    c = api.creds["ZAV2025000401"]
    body = {"service": "绿通", "policy_number": c["number"], "id_last4": c["id_last4"], "person_name": c["holder"],
            "city": "杭州", "preferred_time": future(5), "contact_phone": "13812345678"}
    r = api.post("/api/tickets", json=body)
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    assert t["service"]["name"] == "重疾绿通" and t["service"]["manual_id"].startswith("003")
    # the contact phone also proves the right to see the ticket
    assert api.get(f"/api/tickets/{t['number']}", headers={"X-Verifier": "13812345678"}).status_code == 200
    # a policy number header that is not the ticket's: same 404
    err(api.get(f"/api/tickets/{t['number']}", headers={"X-Verifier": "13812345678", "X-Policy-Number": "PAH2025000101"}),
        404, "ticket_not_found")


# -- operators -------------------------------------------------------------------
def test_operator_key_required(api):
    err(api.get("/api/operator/tickets"), 401, "operator_key_required")
    err(api.get("/api/operator/tickets", headers={"X-API-Key": "wrong"}), 401, "operator_key_required")
    err(api.post("/api/operator/tickets/T20260101-000001/transition", json={"to_status": "accepted"}), 401,
        "operator_key_required")


def test_operator_lifecycle(api):
    r = api.post("/api/tickets", json=_ticket_body(preferred_time=future(6)), headers=_hdr(api))
    number = r.json()["ticket"]["number"]
    key = {"X-API-Key": "dev-operator-key"}
    listed = api.get("/api/operator/tickets", params={"status": "submitted"}, headers=key).json()
    assert number in [t["number"] for t in listed["tickets"]]
    for to in ("accepted", "scheduled", "completed"):
        t = api.post(f"/api/operator/tickets/{number}/transition", json={"to_status": to, "operator": "王敏"},
                     headers=key)
        assert t.status_code == 200 and t.json()["status"] == to
    events = api.get(f"/api/operator/tickets/{number}", headers=key).json()["events"]
    assert [e["to_status"] for e in events] == ["submitted", "accepted", "scheduled", "completed"]
    assert events[-1]["actor"] == "operator:default"  # the key's owner (issue 15), not the body's "王敏"
    err(api.post(f"/api/operator/tickets/{number}/transition", json={"to_status": "accepted"}, headers=key), 409,
        "transition_not_allowed")
    err(api.post(f"/api/operator/tickets/{number}/transition", json={"to_status": "teleported"}, headers=key), 422,
        "invalid_input")
    err(api.post("/api/operator/tickets/T20200101-999999/transition", json={"to_status": "accepted"}, headers=key),
        404, "ticket_not_found")
    err(api.get("/api/operator/tickets", params={"status": "weird"}, headers=key), 422, "status_invalid")


def test_operator_key_from_environment(api, monkeypatch):
    monkeypatch.setenv("OPERATOR_API_KEY", "s3cret-key")
    err(api.get("/api/operator/tickets", headers={"X-API-Key": "dev-operator-key"}), 401, "operator_key_required")
    assert api.get("/api/operator/tickets", headers={"X-API-Key": "s3cret-key"}).status_code == 200


# -- request size ----------------------------------------------------------------
def test_huge_body_refused(api):
    big = {"service": "二诊", "case": {"disease": "x" * 70_000}}
    e = err(api.post("/api/eligibility", json=big), 413, "payload_too_large")
    assert e["details"]["limit_bytes"] == 64 * 1024

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(20):
            yield b" " * 4096

    err(api.post("/api/tickets", content=chunks(), headers={"content-type": "application/json"}), 413,
        "payload_too_large")
    # just under the limit is read (and then rejected by the field limits, not by size)
    err(api.post("/api/eligibility", json={"service": "二诊", "case": {"disease": "x" * 60_000}}), 422, "invalid_input")
