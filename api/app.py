"""The service API: `app = create_app()`; serve with `uvicorn api.app:app --port 8000`.

Start-up brings the pol_/tkt_ schema to the newest Alembic revision and builds the
knowledge store when it is empty, so a fresh clone answers on first start.
"""
from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from api import errors
from api.errors import error_body
from api.routes import op, router
from api.schemas import ErrorOut
from core.config import database_url
from core.db import engine_for

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class BodyLimit:
    """Refuse request bodies over MAX_BODY bytes with 413 (declared length or streamed bytes)."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = False
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = True
        chunks: list[bytes] = []
        if not too_big and scope.get("method") in ("POST", "PUT", "PATCH"):
            size, more = 0, True
            while more:  # read the whole (small) body first, so nothing oversized reaches a route
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                chunks.append(msg.get("body", b""))
                size += len(chunks[-1])
                more = msg.get("more_body", False)
                if size > self.limit:
                    too_big = True
                    break
        if too_big:
            resp = JSONResponse(error_body("payload_too_large", f"请求内容太大了（上限 {self.limit // 1024} KB）。",
                                           limit_bytes=self.limit), status_code=413)
            return await resp(scope, receive, send)
        if chunks:
            body, sent = b"".join(chunks), False

            async def replay():
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            return await self.app(scope, replay, send)
        return await self.app(scope, receive, send)


class ClientKey:
    """Identity checks made while serving a request count against its client address too (core.throttle).
    Behind a reverse proxy listed in TRUSTED_PROXIES, the address is the last X-Forwarded-For hop."""

    def __init__(self, app):
        self.app = app
        self.trusted = {p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from core.throttle import client

        peer = (scope.get("client") or ("unknown", 0))[0]
        if peer in self.trusted:
            fwd = dict(scope.get("headers") or []).get(b"x-forwarded-for", b"").decode("latin-1")
            hops = [h.strip() for h in fwd.split(",") if h.strip()]
            peer = hops[-1] if hops else peer
        with client(f"ip:{peer}"):
            return await self.app(scope, receive, send)


def knowledge_counts(engine) -> dict[str, int] | None:
    """Rows per main kb_ table; None when the store has not been built."""
    from knowledge import models as m

    if not inspect(engine).has_table("kb_manuals"):
        return None
    with Session(engine) as s:
        return {name: s.scalar(select(func.count()).select_from(model)) for name, model in
                (("manuals", m.Manual), ("services", m.Service), ("facts", m.ServiceFact),
                 ("coverage_lists", m.CoverageList), ("hospitals", m.Hospital), ("passages", m.Passage))}


def prepare(engine, build_if_empty: bool = True) -> None:
    """Schema at head, knowledge store built (the only writes start-up makes)."""
    from migrations import upgrade_head

    upgrade_head(engine)
    counts = knowledge_counts(engine)
    if build_if_empty and not (counts and counts["manuals"]):
        from knowledge.ingest import build

        log.warning("knowledge store is empty: building it from knowledge/manuals")
        report = build(engine)
        log.warning("knowledge store built: %d manuals", len(report.manuals))


def create_app(url: str | None = None, build_if_empty: bool | None = None) -> FastAPI:
    """url: database (default DATABASE_URL or var/app.db). build_if_empty: default on unless
    API_BUILD_KNOWLEDGE=0."""
    import policies  # noqa: F401 - registers pol_ tables
    import tickets  # noqa: F401 - registers tkt_ tables
    from knowledge.query import KnowledgeBase
    from policies.source import DbPolicySource
    from assist.services import ticket_service

    from core.secrets import enforce

    enforce("service API + channels gateway")  # APP_ENV=production: no dev or missing secret
    from core import logsafe

    logsafe.install()  # no mobile or ID number in any log line
    engine = engine_for(url or database_url())
    if build_if_empty is None:
        build_if_empty = os.environ.get("API_BUILD_KNOWLEDGE", "1") != "0"

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        prepare(engine, build_if_empty)
        yield

    app = FastAPI(
        title="健康管理增值服务 API", version="1.0",
        description="Services, coverage, eligibility and tickets for insurers' health-management services. "
                    "Every fact carries its source (manual, section, lines, quote). Errors are "
                    '`{"error": {"code", "message", "details"}}` with stable codes.',
        lifespan=lifespan, responses={400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 500: {"model": ErrorOut},
                                         503: {"model": ErrorOut, "description": "database unavailable; retry"}})
    from assist.guard import guarded

    kb = KnowledgeBase(engine)
    # identity checks behind the throttle (core.throttle): per policy / ticket number and per client address
    pol, _ = guarded(engine, DbPolicySource(engine))
    app.state.engine = engine
    app.state.kb = kb
    app.state.policies = pol
    _, app.state.tickets = guarded(engine, pol, ticket_service(engine, kb=kb, policies=pol), throttle=pol.throttle)
    errors.install(app)
    app.include_router(router)
    app.include_router(op)
    from channels import include as include_channels

    include_channels(app)  # /wechat, /widget, /ivr (channels gateway in front of Rasa)

    @app.get("/healthz", tags=["ops"], summary="Database reachable and knowledge store built",
             responses={503: {"model": ErrorOut}})
    def healthz():
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            counts = knowledge_counts(engine)
            schema = inspect(engine).has_table("tkt_tickets") and inspect(engine).has_table("pol_policies")
        except Exception as exc:  # noqa: BLE001 - any failure is "not healthy"
            log.warning("health check failed: %s", exc)
            return JSONResponse(error_body("db_unreachable", "数据库暂时无法访问。", error=exc.__class__.__name__),
                                status_code=503)
        if not counts or not counts["manuals"] or not counts["services"]:
            return JSONResponse(error_body("knowledge_not_built", "知识库尚未构建，请运行 python -m knowledge build。",
                                           counts=counts), status_code=503)
        if not schema:
            return JSONResponse(error_body("schema_missing", "保单和工单数据表尚未创建，请运行 python -m migrations。"),
                                status_code=503)
        return {"status": "ok", "database": engine.dialect.name, "knowledge": counts}

    app.add_middleware(BodyLimit)
    app.add_middleware(ClientKey)
    return app


app = create_app()
