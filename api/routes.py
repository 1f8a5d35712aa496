"""Customer and operator endpoints."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from api import schemas as S
from api.deps import (header_identity, knowledge_base, parse_verifier, policy_source, require_operator,
                      resolve_insurer, resolve_scope, resolve_service, ticket_service)
from api.errors import ApiError
from api.views import (city_out, coverage_reason_zh, hospital_out, service_detail, service_summary, source_out,
                       ticket_out)
from knowledge import geo

router = APIRouter(prefix="/api")
ERR = {400: {"model": S.ErrorOut}, 404: {"model": S.ErrorOut}, 422: {"model": S.ErrorOut}}


def _city(text: str):
    """A prefecture from the customer's words; 400 city_unknown / city_ambiguous otherwise."""
    res = geo.resolve_city(text[:64])
    if res.status == "ambiguous":
        names = "、".join(f"{c.province}{c.name}" for c in res.candidates[:5])
        raise ApiError(400, "city_ambiguous", f"“{text[:40]}”可能指{names}，请说明是哪一个城市。",
                       candidates=[city_out(c) for c in res.candidates])
    if res.status != "ok" or res.city is None:
        raise ApiError(400, "city_unknown", f"没有识别出城市“{text[:40]}”，请提供地级市名称，例如“苏州”或“杭州”。")
    return res.city


def _scoped_service(kb, service: str, insurer: str | None):
    """The service in the scope an insurer or product name gives (the product's manual first)."""
    scope = resolve_scope(kb, insurer)
    return resolve_service(kb, service, scope.insurer if scope else None,
                           manual_id=scope.manual_id if scope else None, edition=scope.edition if scope else None)


# -- knowledge ---------------------------------------------------------------------
@router.get("/services", response_model=list[S.ServiceSummary], responses=ERR, tags=["knowledge"],
            summary="Services, optionally of one insurer or matching words")
def list_services(kb=Depends(knowledge_base),
                  insurer: Optional[str] = Query(None, max_length=40, description="平安, 众安, 太保寿险 …"),
                  q: Optional[str] = Query(None, max_length=100, description="name or alias (二诊, 绿通, MDT)")):
    scope = resolve_scope(kb, insurer)
    ins = scope.insurer if scope else None
    if q and q.strip():
        items = kb.resolve_service(q, insurer=ins.id if ins else None)
    else:
        items = kb.services(insurer=ins.id if ins else None)
    if scope and scope.manual_id:
        items = [v for v in items if v.manual_id == scope.manual_id]
    return [service_summary(kb, v) for v in items]


@router.get("/services/{service}", response_model=S.ServiceDetail, responses=ERR, tags=["knowledge"],
            summary="One service with every fact the manual states (id, name or alias)")
def get_service(service: str = Path(max_length=100), insurer: Optional[str] = Query(None, max_length=40),
                kb=Depends(knowledge_base)):
    return service_detail(kb, _scoped_service(kb, service, insurer))


@router.get("/coverage", response_model=S.CoverageOut, responses=ERR, tags=["knowledge"],
            summary="Is a service available in a city? status covered / partial / not_covered / unknown")
def coverage(insurer: Optional[str] = Query(None, max_length=40),
             service: str = Query(min_length=1, max_length=100), city: str = Query(min_length=1, max_length=64),
             kb=Depends(knowledge_base)):
    ins = resolve_insurer(kb, insurer)
    svc = _scoped_service(kb, service, insurer)
    _city(city)
    ans = kb.coverage(svc.id, city)
    others = [{"id": v.id, "name": v.name, "insurer_short": v.insurer_short}
              for v in kb.resolve_service(service, insurer=ins.id if ins else None)[1:4]] if not service.isdigit() else []
    return {"covered": {"covered": True, "not_covered": False}.get(ans.status), "status": ans.status,
            "service": service_summary(kb, svc), "city": city_out(ans.city), "reason": coverage_reason_zh(svc, ans),
            "reason_code": ans.reason, "hospitals_count": ans.hospitals_count, "places": list(ans.places),
            "sources": [source_out(kb, e) for e in ans.evidence], "other_services": others}


@router.get("/hospitals", response_model=S.HospitalsOut, responses=ERR, tags=["knowledge"],
            summary="Hospitals of a service's list in a city")
def hospitals(insurer: Optional[str] = Query(None, max_length=40),
              service: str = Query(min_length=1, max_length=100), city: str = Query(min_length=1, max_length=64),
              kb=Depends(knowledge_base)):
    svc = _scoped_service(kb, service, insurer)
    c = _city(city)
    items = kb.hospitals(svc.id, city)
    return {"service": service_summary(kb, svc), "city": city_out(c), "count": len(items),
            "hospitals": [hospital_out(kb, h) for h in items]}


@router.get("/hospitals/search", response_model=S.HospitalSearchOut, responses=ERR, tags=["knowledge"],
            summary="Hospitals by full name, short name or alias (协和, 华西, 温医二院)")
def hospital_search(q: str = Query(min_length=1, max_length=100), limit: int = Query(10, ge=1, le=50),
                    kb=Depends(knowledge_base)):
    items = kb.find_hospital(q, limit=limit)
    return {"query": q, "count": len(items), "hospitals": [hospital_out(kb, h) for h in items]}


# -- eligibility -------------------------------------------------------------------
@router.post("/eligibility", response_model=S.EligibilityOut,
             responses={**ERR, 401: {"model": S.ErrorOut}, 403: {"model": S.ErrorOut}}, tags=["eligibility"],
             summary="May this person use this service? eligible / not_eligible / need_info, each reason sourced")
def eligibility(body: S.EligibilityIn, request: Request, kb=Depends(knowledge_base),
                policies=Depends(policy_source), headers=Depends(header_identity)):
    """The policy and verifier may also come in the X-Policy-Number / X-Verifier headers."""
    from assist.eligibility import EligibilityRequest, check

    h_number, h_verifier = headers
    if not body.policy_number and h_number:
        body = body.model_copy(update={"policy_number": h_number})
    if h_verifier is not None and not (body.verifier or body.mobile or body.id_last4):
        body = body.model_copy(update={"mobile": h_verifier.mobile, "id_last4": h_verifier.id_last4})
    return check(kb, request.app.state.engine, policies, EligibilityRequest.from_dict(body.model_dump())).payload


# -- tickets (customers) -----------------------------------------------------------
def _identity(body_number, body_verifier, body_mobile, body_last4, headers) -> tuple[Optional[str], object]:
    h_number, h_verifier = headers
    verifier = parse_verifier(body_verifier, body_mobile, body_last4) or h_verifier
    return body_number or h_number, verifier


@router.post("/tickets", response_model=S.TicketCreatedOut, status_code=201,
             responses={**ERR, 200: {"model": S.TicketCreatedOut, "description": "idempotent repeat"}, 401: {"model": S.ErrorOut},
                        403: {"model": S.ErrorOut}, 409: {"model": S.ErrorOut}}, tags=["tickets"],
             summary="Book a service (verified policy holder; Idempotency-Key makes repeats safe)")
def create_ticket(body: S.TicketCreateIn, kb=Depends(knowledge_base), svc_tickets=Depends(ticket_service),
                  policies=Depends(policy_source), headers=Depends(header_identity),
                  idempotency_key: Optional[str] = Header(None, max_length=128)):
    from fastapi.responses import JSONResponse

    number, verifier = _identity(body.policy_number, body.verifier, body.mobile, body.id_last4, headers)
    if not number:
        raise ApiError(422, "policy_number_missing", "请提供保单号（请求体 policy_number 或 X-Policy-Number 请求头）。")
    if verifier is None:
        raise ApiError(401, "verifier_missing", "请提供投保人手机号或身份证号后四位以核实身份。")
    key = idempotency_key or body.idempotency_key
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise ApiError(422, "idempotency_key_mismatch", "请求头和请求体中的请求编号不一致。")
    policy = policies.get(number, verifier)  # proves identity before anything is resolved or stored
    ins = resolve_insurer(kb, body.insurer) or kb.resolve_insurer(policy.insurer)
    svc = resolve_service(kb, body.service, ins, manual_id=policy.manual_id, edition=policy.edition)
    res = svc_tickets.create_ticket(
        service=svc.id, policy_number=number, person_name=body.person_name, person_id_number=body.person_id_number,
        city=body.city, hospital=body.hospital, preferred_time=body.preferred_time, contact_phone=body.contact_phone,
        idempotency_key=key, channel=body.channel, conversation_id=body.conversation_id, notes=body.notes,
        verifier=verifier)
    out = S.TicketCreatedOut(created=res.created, ticket=ticket_out(res.ticket)).model_dump(mode="json")
    return JSONResponse(out, status_code=201 if res.created else 200)


@router.get("/tickets/{number}", response_model=S.TicketOut, responses={**ERR, 401: {"model": S.ErrorOut}},
            tags=["tickets"], summary="A ticket's status (X-Verifier: contact mobile, holder mobile or ID last four)")
def get_ticket(number: str = Path(max_length=40), svc_tickets=Depends(ticket_service),
               headers=Depends(header_identity)):
    h_number, verifier = headers
    if verifier is None:
        raise ApiError(401, "verifier_missing", "请提供手机号或身份证号后四位以核实身份（X-Verifier 请求头）。")
    t = svc_tickets.get_ticket(number, verifier)
    if h_number and _norm_policy(h_number) != t.policy_number:
        from tickets.service import TicketNotFound

        raise TicketNotFound()
    return ticket_out(t)


@router.post("/tickets/{number}/cancel", response_model=S.TicketOut,
             responses={**ERR, 401: {"model": S.ErrorOut}, 409: {"model": S.ErrorOut}}, tags=["tickets"],
             summary="Cancel one's own ticket")
def cancel_ticket(number: str = Path(max_length=40), body: Optional[S.TicketCancelIn] = None,
                  svc_tickets=Depends(ticket_service), headers=Depends(header_identity)):
    body = body or S.TicketCancelIn()
    pnum, verifier = _identity(body.policy_number, body.verifier, body.mobile, body.id_last4, headers)
    if verifier is None:
        raise ApiError(401, "verifier_missing", "请提供手机号或身份证号后四位以核实身份。")
    t = svc_tickets.get_ticket(number, verifier)
    if pnum and _norm_policy(pnum) != t.policy_number:
        from tickets.service import TicketNotFound

        raise TicketNotFound()
    return ticket_out(svc_tickets.cancel_ticket(number, verifier, body.reason))


def _norm_policy(text: str) -> str:
    from core.ids import normalize_policy_number

    return normalize_policy_number(text)


# -- operators ---------------------------------------------------------------------
op = APIRouter(prefix="/api/operator", dependencies=[Depends(require_operator)], tags=["operator"],
               responses={401: {"model": S.ErrorOut}})


@op.get("/tickets", response_model=S.TicketListOut, summary="Tickets, newest first")
def op_list(request: Request, status: Optional[str] = Query(None, max_length=16),
            policy_number: Optional[str] = Query(None, max_length=40),
            limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=100_000)):
    from tickets.models import STATUSES, Ticket
    from tickets.service import ticket_view

    if status and status not in STATUSES:
        raise ApiError(422, "status_invalid", f"未知的工单状态：{status}", allowed=list(STATUSES))
    q = select(Ticket)
    if status:
        q = q.where(Ticket.status == status)
    if policy_number:
        q = q.where(Ticket.policy_number == _norm_policy(policy_number))
    with Session(request.app.state.engine) as s:
        total = s.scalar(select(func.count()).select_from(q.subquery()))
        rows = s.scalars(q.options(selectinload(Ticket.events))
                         .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)).all()
        items = [ticket_out(ticket_view(t)) for t in rows]
    return {"count": len(items), "total": total, "tickets": items}


@op.get("/tickets/{number}", response_model=S.TicketOut, responses={404: {"model": S.ErrorOut}},
        summary="One ticket with its audit trail")
def op_get(request: Request, number: str = Path(max_length=40)):
    from tickets.models import Ticket
    from tickets.service import TicketNotFound, normalize_ticket_number, ticket_view

    n = normalize_ticket_number(number)
    with Session(request.app.state.engine) as s:
        t = s.scalar(select(Ticket).where(Ticket.number == n).options(selectinload(Ticket.events)))
        if t is None:
            raise TicketNotFound()
        return ticket_out(ticket_view(t))


@op.post("/tickets/{number}/transition", response_model=S.TicketOut,
         responses={404: {"model": S.ErrorOut}, 409: {"model": S.ErrorOut}, 422: {"model": S.ErrorOut}},
         summary="Move a ticket along its lifecycle (submitted → accepted → scheduled → completed; or rejected / cancelled)")
def op_transition(body: S.TicketTransitionIn, number: str = Path(max_length=40), svc_tickets=Depends(ticket_service),
                  operator: str = Depends(require_operator)):
    # the actor is the owner of the key that authenticated this request, never a name the body states
    return ticket_out(svc_tickets.transition(number, body.to_status, actor=f"operator:{operator}", note=body.note))
