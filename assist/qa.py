"""Answer a customer's question from the store: which service fits, what a service gives, where it
applies, whether the stated facts allow it, and any fact a clause of the manual states.

answer(kb, text, ctx) reads the message (assist.understand), settles the scope (product > insurer named
> the conversation), picks the service, and routes:
  list of services | recommendation | coverage | eligibility on stated facts | own-policy check |
  an aspect (amount, count, lead time, ...) answered from the service's clauses | description.
Every fact comes with its Source; when no clause states what was asked, the reply says the manual does
not say and offers the hotline or a human. Channel-neutral: actions and the API render the Reply.
"""
from __future__ import annotations

from typing import Any

import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import timedelta

from assist.citecheck import unchecked
from assist.lexicon import Aspect, lexicon
from assist.understand import CATEGORY, SHARED, Reading, read, services_in, without_editions, without_names, without_tiers
from knowledge.matching import norm

log = logging.getLogger(__name__)

# how many clauses / services an answer shows at most
MAX_LISTED = 12
MIN_CLAUSE_SCORE = 2.5  # idf overlap below this: no clause answers the question
MIN_OWN_OVERLAP = 3.0  # a clause must share this much of the customer's own words (idf) when they said any


@dataclass
class Context:
    """What the conversation already settled (slots) and the channel's insurer."""

    insurer: str | None = None  # short name
    product: str | None = None
    service: str | None = None
    city: str | None = None
    channel_insurer: str | None = None
    in_form: bool = False
    last_kind: str | None = None  # kind of the previous answer (coverage, fact, ...)
    last_aspect: str | None = None  # the aspect it answered
    pending: str | None = None  # the question that waits for the customer's product (ask_product)
    edition_said: str | None = None  # an earlier message that named the product's edition (蓝本2023专业版)
    earlier: str | None = None  # the previous message, when it was answered as an eligibility question


@dataclass
class Reply:
    kind: str
    text: str
    sources: list = field(default_factory=list)  # knowledge.views.Source
    options: list = field(default_factory=list)  # [(title, payload)]
    items: list = field(default_factory=list)
    remember: dict = field(default_factory=dict)  # slot -> value for the conversation
    check_policy: bool = False  # the customer wants their own policy checked (start the form)
    handoff: bool = False
    aspect: str | None = None  # the aspect a fact answer answered
    pending: str | None = None  # the question to answer again once the product is known


@dataclass
class Scope:
    manual_ids: set[str] | None  # None: every manual
    insurer: Any = None
    product: str | None = None
    edition: str | None = None
    tier: str | None = None
    decided_by: str = ""  # product | insurer | context | channel | ""


# -- entry point ---------------------------------------------------------------------------
def answer(kb, text: str, ctx: Context | None = None, engine=None, policies=None) -> Reply:
    """The reply to a message, sent only when every number it states occurs in the lines it cites, in the
    customer's message or in a name it uses (assist.citecheck); otherwise the honest fallback."""
    rep = _answer(kb, text, ctx or Context(), engine, policies)
    if not rep.sources:
        return rep
    bad = unchecked(kb, rep.text, rep.sources, said=text or "")
    if not bad:
        return rep
    log.warning("reply withheld: %s not in the cited lines (%s)", sorted(bad), rep.kind)
    return Reply("not_in_manual", UNCHECKED_REPLY, options=[("转人工", "/human_handoff")], handoff=True,
                 remember=rep.remember)


UNCHECKED_REPLY = "这个问题我没能在手册原文里核对到准确的说法，为免给您错误的信息，请输入“转人工”由客服帮您确认。"


def _answer(kb, text: str, ctx: Context, engine=None, policies=None) -> Reply:
    """A message asking several things (…几位专家？会给书面报告吗？) is answered as a whole, then each
    question whose aspect that answer does not state is answered in its context."""
    r = read(kb, text or "")
    if r.facts.relation not in (None, "self") and "contact" in r.aspect_keys() and not _ASKS_NUMBER.search(r.text):
        r.aspects = [a for a in r.aspects if a.key != "contact"]  # 我老公能打这个电话做咨询吗: who may use it
        r.cues.add("eligibility")
    if ctx.earlier and ctx.last_kind == "eligibility" and _changes_the_case(r):
        _carry_facts(kb, read(kb, ctx.earlier), r)  # "那门诊协助呢？", "要是转保过来的呢？"
        r.cues |= {"eligibility", "changed_case"}  # "要是出院20天了呢？": the same question, one thing changed
    whole = _answer_one(kb, r, ctx, engine, policies)
    parts = _sub_questions(text or "")
    if len(parts) < 2 or whole.kind not in _ANSWERS or whole.check_policy:
        return whole
    mem = whole.remember
    named = r.products
    said = (named[0].tier or named[0].edition or named[0].product) if named else None  # 2022版 尊享版2档 too
    then = replace(ctx, service=mem.get("service") or ctx.service, insurer=mem.get("insurer") or ctx.insurer,
                   product=said or mem.get("product") or ctx.product)
    out = whole
    for part in parts:
        rp = read(kb, part)
        asked = [a for a in rp.aspects if a.key != "content"]
        if not asked or any(a.clause.search(out.text) for a in asked):
            continue  # nothing specific asked, or the answer already states it
        extra = _answer_one(kb, rp, then, engine, policies)
        if extra.kind in _ANSWERS and extra.text not in out.text:
            out = replace(out, text=out.text + "\n" + extra.text, sources=out.sources + extra.sources,
                          items=out.items + extra.items, handoff=out.handoff or extra.handoff)
    return out


_ASKS_NUMBER = re.compile(r"多少|号码|几号|哪个号|是什么|怎么联系|联系方式|打哪")
HYPOTHETICAL = re.compile(r"如果|要是|假如|假设|换成|换作")


# Aspects a situation's own words raise (确诊 -> diagnosis, 24小时照顾 -> hours): they describe the case and
# ask nothing when the message states a need (…住院期间需要有人24小时照顾他).
_CASE_WORDS = {"diagnosis", "who", "hours", "age"}


def _changes_the_case(r: Reading) -> bool:
    """A follow-up to an eligibility answer that changes one thing and asks nothing new of its own (那门诊协助呢,
    要是他确诊了呢, 如果是转保的呢): the case is the earlier one with this change."""
    f = r.facts
    stated = {"waiting"} if f.waiting_over is not None or f.effective_days is not None else set()  # 都过了等待期
    asked = [a for a in r.aspects if a.key not in ("who", "content") and a.key not in stated]
    return not asked and "own_policy" not in r.cues and ("followup" in r.cues or bool(HYPOTHETICAL.search(r.text)))


def _other_tier(kb, said, text: str):
    """The product said before, with the tier a follow-up names instead ("尊享版呢？" after 2023专业版); a
    tier word the edition cannot place leaves the tier open."""
    from assist.names import index_for

    if not said.edition or not re.search(r"[版档]", text):
        return said
    edition, tier = index_for(kb).edition_in(said.edition + text, said.manual_id)
    return replace(said, edition=edition or said.edition, tier=tier) if tier != said.tier else said


_USED_WAS = re.compile(r"用(?:的|过的|掉的)是([^，,。？?；;]{2,16})")


def _carry_facts(kb, before: Reading, r: Reading) -> None:
    """The facts of the earlier message that this one does not restate, into `r`; uses made of another
    service do not carry."""
    from dataclasses import fields

    same_service = not r.services or not before.services or r.services[0][0] is before.services[0][0]
    used = _USED_WAS.search(r.text)
    if used and before.services and any(v is not before.services[0][0] for v, _s in services_in(kb, used.group(1))):
        same_service = False  # "那如果她用的是住院探视，不是就医陪诊呢": the uses were of another service
        if before.facts.uses and r.facts.uses is None:
            r.facts.uses = 0
        r.text = r.text.replace(used.group(1), "，", 1)  # the service used is not the one asked about
    f = r.facts
    for fd in fields(f):
        if fd.name == "said" or getattr(f, fd.name) is not None or getattr(before.facts, fd.name) is None:
            continue
        if fd.name in ("uses", "used_days") and not same_service:
            continue
        if fd.name in ("pregnancy", "accident") and r.disease:
            setattr(f, fd.name, False)  # "那如果她是阑尾炎住院呢": a new cause of the stay, not childbirth
            continue
        setattr(f, fd.name, getattr(before.facts, fd.name))
    f.said += [w for w in before.facts.said if w not in f.said and (same_service or w not in ("uses", "used_days"))]
    r.disease = r.disease or before.disease
    if not r.products and not r.insurer and before.products:
        r.products = [_other_tier(kb, before.products[0], r.text)] + before.products[1:]  # 蓝本2023尊享版3档


_ANSWERS = ("fact", "eligibility", "coverage", "not_in_manual")
_ASKS = re.compile(r"[？?]")


def _sub_questions(text: str) -> list[str]:
    """The questions of a message, split at its question marks (each part long enough to ask something)."""
    parts = [p.strip(" ，,。") for p in _ASKS.split(text)]
    parts = [p for p in parts if len(p) >= 4]
    if len(parts) < 2:
        return [text]
    return parts


def _answer_one(kb, r: Reading, ctx: Context, engine=None, policies=None) -> Reply:
    """The reply to one reading of a message (answer() reads each message and each of its questions once)."""
    if not r.text:
        return Reply("clarify", "您好，请问想了解哪项健康服务？可以直接说服务名称或您遇到的情况。")
    scope = _scope(kb, r, ctx)
    lx = lexicon()
    if ctx.pending and (r.products or r.insurer) and not _strong(services_in(kb, r.text)) and len(r.text) <= 40:
        # "我的是尊享e生PLUS" after "which product?": the waiting question, now with its product
        return _answer_one(kb, read(kb, f"{r.text}，{ctx.pending}"), Context(channel_insurer=ctx.channel_insurer),
                           engine, policies)
    named = services_in(kb, without_editions(kb, r.products, without_tiers(kb, r.text)), scope.manual_ids)
    if scope.decided_by == "context" and ctx.channel_insurer and not _strong(named):
        # a service the conversation's insurer does not have, but the channel's does: the channel's
        ins = kb.resolve_insurer(ctx.channel_insurer)
        other = services_in(kb, r.text, set(ins.manuals)) if ins is not None and ins is not scope.insurer else []
        if _strong(other):
            scope, named = Scope(set(ins.manuals), ins, decided_by="channel"), other
    wants_list = "list_services" in r.cues and not _strong(named) and not r.situation
    if wants_list:
        return _list_services(kb, scope)
    asks = [a for a in r.aspects if a.key not in ("who", "content")]  # 我老公是被保险人: context, not asked
    told = not ctx.service and not ({a.key for a in asks} - _CASE_WORDS) and "eligibility" not in r.cues
    if r.situation and not _strong(named) and (not (r.places or r.hospitals) or r.cues & {"recommend", "list_services"}) and (
            "recommend" in r.cues or "list_services" in r.cues or not (asks or ctx.service) or told):
        return _recommend(kb, r, scope)  # a situation, and services only by their kind: which fits
    svc_cands = _candidates(kb, named, scope, ctx, r)
    if not svc_cands and scope.manual_ids and r.situation and asks and "recommend" not in r.cues:
        fits = _fitting(kb, r, scope.manual_ids)  # 上门换药…能换几个部位: asked of the one service it fits
        svc_cands = fits[:1] if len(fits) == 1 else []
    if not svc_cands and scope.edition and (_FAMILY.search(r.text) or r.facts.relation not in (None, "self")) \
            and not [a for a in r.aspects if a.key not in ("who", "content", "count", "number", "choose")]:
        fam = _edition_family(kb, scope)  # 太保蓝本2023尊享版2档，家里人也能用吗？最多能加几个？
        if fam is not None:
            return fam
    if not svc_cands:
        unlisted = _unlisted_member(kb, r, None, scope)
        if unlisted is not None:  # 外阴癌算不算 and no service named: the product's manual never names it
            return unlisted
        if r.situation and not r.aspects or "recommend" in r.cues and r.situation:
            return _recommend(kb, r, scope)
        if "contact" in r.aspect_keys():
            rep = _contact(kb, scope, None, with_hours="hours" in r.aspect_keys())
            rep.pending = r.text if rep.kind == "ask_product" else None
            return rep
        if r.situation:
            return _recommend(kb, r, scope)
        if scope.manual_ids and lexicon().buying_the_policy.search(r.text):  # 最高多大岁数还能买: the product's terms
            return _silent(kb, scope, "这款保险的投保条件（投保年龄、保费等），服务手册只介绍健康服务")
        mids = sorted(scope.manual_ids or ())
        if r.aspect_keys() == ["how"] and len(mids) == 1:
            common = _common_step(kb, mids[0], r.aspects[0])
            if common is not None:  # 这些健康服务在哪里申请: the step the manual gives for most of its services
                return _clause_reply(kb, r, None, [common], scope)
        if r.aspects and scope.manual_ids:
            hits = _best_clauses(kb, r, None, scope)
            if hits:
                return _clause_reply(kb, r, None, hits, scope)
        if scope.decided_by in ("product", "insurer") and len(r.text) <= 16:
            return _list_services(kb, scope)
        if scope.manual_ids:
            hit = _content_clause(kb, r, None, scope)
            if hit:
                return _clause_reply(kb, r, None, [hit], scope)
        return _clarify(kb, r, scope)
    svc = svc_cands[0]
    ambiguous = _ambiguous(svc_cands, scope, r.text)
    if ambiguous:
        return ambiguous
    each = _each_product(kb, r, svc_cands, scope, ctx, engine, policies)
    if each is not None:  # 众安的重疾绿通: both 众安 products have it, with rules of their own
        return each
    remember = {"service": svc.name, "insurer": svc.insurer_short} if _strong(named) or not named else {}
    if remember and (scope.product or _single_product(kb, svc.manual_id)):
        remember["product"] = scope.product or _product_name(kb, svc.manual_id)
    aspects = r.aspect_keys()
    followup = not aspects and not r.facts.any() and (len(r.text) <= 14 or "followup" in r.cues)
    if followup and ctx.last_kind == "coverage" and ctx.city and not (r.places or r.hospitals):
        from knowledge import geo

        r.places = [res for _a, _b, res in geo.find_cities(ctx.city) if res.status != "unknown"][:1]
    if followup and ctx.last_kind == "fact" and ctx.last_aspect == "excluded":
        exclusion = _excluded_reply(kb, r, svc, followup=True) or _not_excluded_reply(kb, r, svc)  # 那挂消化内科呢？
        if exclusion is not None:
            exclusion.remember = remember
            return exclusion
    if followup and ctx.last_kind == "fact" and ctx.last_aspect:
        r.aspects = [a for a in lx.aspects if a.key == ctx.last_aspect]
        aspects = r.aspect_keys()
    asks_fact = bool(set(aspects) - {"content", "who"}) and "coverage" not in r.cues
    if (r.places or r.hospitals or r.province) and not asks_fact:
        if True:
            rep = _coverage(kb, r, svc, ctx)
            rep.remember = {**remember, **rep.remember}
            return rep
    if not (r.places or r.hospitals or r.province) and _ASKS_WHERE.search(r.text):
        rep = _where_offered(kb, svc)  # 能在哪些城市用: the list's cities, or the manual's words on its reach
        rep.remember = remember
        return rep
    if "own_policy" in r.cues:
        rep = Reply("check_policy", f"好的，帮您核对保单能否使用{svc.name}。", check_policy=True)
        rep.remember = remember
        return rep
    if "eligibility" in r.cues and not r.facts.any() and "who" in aspects:
        rep = _who(kb, svc, scope)
        rep.remember = {**remember, **rep.remember}
        return rep
    drug = _drug_reply(kb, r, scope)
    if drug is not None:
        drug.remember = {**remember, **drug.remember}
        return drug
    excluded = _excluded_reply(kb, r, svc)
    if excluded is not None:  # 能约口腔科吗 and the manual lists 口腔科 outside the service
        excluded.remember = remember
        return excluded
    foreign = _foreign_words(kb, r, svc)
    for_other = "eligibility" in r.cues and (r.facts.relation not in (None, "self")  # 我老公想用我的…陪他去看病
                                             or bool(_specialties_said(r.text)))
    if foreign and not r.facts.about_case() and not aspects and not for_other:  # asks about something the manual never mentions
        hit = _content_clause(kb, r, svc_cands, scope)
        if hit is None:
            rep = _silent(kb, scope, f"{svc.name}关于“{'、'.join(foreign[:2])}”的内容", svc)
            rep.remember = remember
            return rep
    unlisted = _unlisted_member(kb, r, svc, scope)
    if unlisted is not None:  # 外阴癌算不算特定妇科癌症 and the manual never names 外阴癌
        unlisted.remember = remember
        return unlisted
    unsaid = _unsaid_focus(kb, r, svc)
    if unsaid and not r.facts.about_case():  # 快递费是谁出: the service's text never mentions it
        rep = _silent(kb, scope, f"{svc.name}关于“{'、'.join(unsaid[:2])}”的内容", svc)
        rep.remember = remember
        return rep
    asks_for_relative = "who" in aspects and r.facts.relation not in (None, "self")  # 我妈也算吗
    if ("eligibility" in r.cues or r.facts.about_case() or asks_for_relative) and not _pure_fact_question(r):
        rep = _eligibility(kb, engine, policies, r, svc, scope)
        rep.remember = {**remember, **rep.remember}
        return rep
    ent = _entitlement_reply(kb, r, svc_cands, scope) if (
        "count" in aspects or "has" in r.cues or _asks_has(r.text, svc)
        or ("eligibility" in r.cues and not r.facts.any())) else None
    if ent is not None:
        ent.remember = {**remember, **ent.remember}
        return ent
    if aspects and aspects != ["content"]:
        if "contact" in aspects and set(aspects) <= {"contact", "hours"}:  # 热线几点到几点能打: the line and its hours
            rep = _contact(kb, scope, svc if _strong(named) else None, with_hours="hours" in aspects)
        else:
            hits = _best_clauses(kb, r, svc_cands, scope)
            if not hits and not _strong(named) and scope.manual_ids:  # a guessed service: the whole manual
                hits = _best_clauses(kb, r, None, scope)
                svc = hits[0].service if hits else svc  # None: a clause outside any service (预授权)
            rep = _clause_reply(kb, r, svc, hits, scope)
        if rep.kind == "fact" and set(aspects) & _QUANTITIES and r.facts.about_case() and svc is not None:
            rep = _with_verdict(kb, engine, policies, r, svc, scope, rep)  # 确诊复发了，她能用几次
        rep.remember = {**remember, **rep.remember}
        return rep
    hit = _content_clause(kb, r, svc_cands, scope)
    rep = _clause_reply(kb, r, svc, [hit], scope) if hit else _describe(kb, svc, scope)
    rep.remember = remember
    return rep


# -- scope and service -----------------------------------------------------------------------
def _scope(kb, r: Reading, ctx: Context) -> Scope:
    if r.products:
        p = r.products[0] if r.products[0].edition else _edition_carried(kb, ctx, r, r.products[0])
        return Scope({m.manual_id for m in r.products}, kb.resolve_insurer(p.insurer_short), p.product,
                      p.edition, p.tier, "product")
    if r.insurer is not None:
        return Scope(_manuals_said(kb, r, r.insurer), r.insurer, decided_by="insurer")
    if r.insurer_group:  # 太保: the manuals of both 太保 insurers
        return Scope({m for i in r.insurer_group for m in i.manuals}, None, decided_by="insurer_group")
    if ctx.product:
        from assist.names import index_for

        ps = [p for p in index_for(kb).products_in(ctx.product) if p.manual_id not in r.denied]
        if ps:
            p = _edition_carried(kb, ctx, r, ps[0])  # the edition said earlier, with this message's tier words
            return Scope({p.manual_id}, kb.resolve_insurer(p.insurer_short), p.product, p.edition, p.tier, "context")
    for name, how in ((ctx.insurer, "context"), (ctx.channel_insurer, "channel")):
        ins = kb.resolve_insurer(name) if name else None
        if ins is not None:
            return Scope(_manuals_said(kb, r, ins), ins, decided_by=how)
    return Scope(None)


def _edition_carried(kb, ctx: Context, r: Reading, p):
    """The product mention `p` with the edition an earlier message named (换成尊享版 after 蓝本2023专业版…); a tier
    this message names replaces the earlier one (蓝本2023尊享版3档… then 那2档呢: 2023, 2档). `p` when none."""
    if not ctx.edition_said:
        return p
    from assist.names import edition_features, index_for
    from assist.text import to_digits

    said, f = ctx.edition_said, edition_features(r.text)
    if "tier" in f or "tier_n" in f:
        said = re.sub(r"(专业|关爱|尊享)版?|\d\s*档", "", to_digits(said))
    again = index_for(kb).products_in(f"{said}，{r.text}")
    return again[0] if again and again[0].manual_id == p.manual_id and again[0].edition else p


def _manuals_said(kb, r: Reading, ins) -> set[str]:
    """The insurer's manuals, narrowed to one when the message says something only that manual has: a
    name of the insurer's own (众安互联网医院) or a number (a service line), or denies the others' product
    (不是尊享e生)."""
    manuals = set(ins.manuals) - r.denied or set(ins.manuals)
    if len(manuals) < 2:
        return manuals
    spans: list[str] = []
    for short in {ins.short_name, *(ins.aliases or ())}:
        for m in re.finditer(re.escape(short) + r"[\u4e00-\u9fffA-Za-z]{2,8}", r.text):
            run = m.group(0)  # its longest prefix found in a manual
            spans += [run[:k] for k in range(len(run), len(short) + 1, -1)]
    spans += re.findall(r"\d{5,}", r.text)
    for span in spans:
        having = {mid for mid in manuals if span in _manual_text(kb, mid)}
        if len(having) == 1:
            return having
        if having:
            break  # the longest prefix both manuals have decides nothing
    return manuals


def _strong(named) -> bool:
    return any(s > CATEGORY for _v, s in named)


_YES_NO_FORMS = r"(吗|么|嘛)[？?]?$|能不能|可不可以|是否"  # a yes/no question
_YES_NO = re.compile(_YES_NO_FORMS + "|会不会")  # …about the service in hand


def _candidates(kb, named, scope: Scope, ctx: Context, r: Reading) -> list:
    """Services the question is about, best first: named in the message, else the conversation's."""
    only_a_run = bool(named) and named[0][1] <= SHARED + 10.0  # 重疾住院手术 shares a run of 重大疾病住院护工服务
    if only_a_run and ctx.service and ctx.last_kind == "eligibility" and _changes_the_case(r) \
            and not (r.products or r.insurer):
        named = []  # "那如果是重疾住院手术呢？" changes the case, not the service
    if named and (_strong(named) or not ctx.service or r.products or r.insurer):
        best = named[0][1]
        return [v for v, s in named if s >= best - 1e-6] + [v for v, s in named if s < best - 1e-6][:4]
    # only kinds of service named (重疾, 住院): the conversation's service stays
    if ctx.service and (named or r.situation or r.aspects or r.facts.any() or r.places or r.hospitals or r.province
                        or r.cues & {
            "eligibility", "coverage", "followup", "own_policy", "book"} or _YES_NO.search(r.text)):
        again = services_in(kb, ctx.service, scope.manual_ids)
        if again:
            return [again[0][0]]
    return []


def _ambiguous(cands: list, scope: Scope, question: str = "") -> Reply | None:
    """The same service at several insurers / products and nothing decides which: ask, offering only
    those that have it."""
    top = cands[0]
    if scope.manual_ids is not None:
        return None
    same = [v for v in cands if norm(v.name) == norm(top.name) or v is top]
    if len({v.manual_id for v in same}) <= 1:
        same = [v for v in cands if v.manual_id != top.manual_id or v is top]  # the top score at several manuals
    manuals = list(dict.fromkeys(v.manual_id for v in same))
    if len(manuals) <= 1:
        return None
    opts: list[tuple[str, str]] = []
    for v in same:
        label = v.product or v.insurer_short
        if all(label != t for t, _ in opts):
            opts.append((label, f"{label}的{v.name}"))
    names = "、".join(t for t, _ in opts)
    return Reply("ask_product", f"{names}都有“{top.name}”，请问您的保单是哪一款？", options=opts,
                 remember={"service": top.name}, pending=question)


def _each_product(kb, r: Reading, cands: list, scope: Scope, ctx: Context, engine, policies) -> Reply | None:
    """The insurer is named but not which of its products, and the service is in several of them: the
    question (a fact, a rule, or eligibility on stated facts) is answered for each product, under its name.
    None when one product decides."""
    if scope.decided_by != "insurer" or not scope.manual_ids or len(scope.manual_ids) < 2 or ctx.pending == "each":
        return None
    if "own_policy" in r.cues or "book" in r.cues:
        return None
    top = cands[0]

    def key(v) -> str:
        return re.sub(r"服务$", "", norm(v.name))

    manuals = list(dict.fromkeys(v.manual_id for v in cands if key(v) == key(top) and v.manual_id in scope.manual_ids))
    names = {m: _product_name(kb, m) for m in manuals}
    if len(manuals) < 2 or not all(names.values()):
        return None
    only = _named_in_one(kb, _without_service(without_names(kb, r.text), top), manuals)
    if only is not None:  # 众安互联网医院的重疾绿通, …打10109955: words only one product's manual uses
        return _answer_one(kb, read(kb, f"{names[only]}的{without_names(kb, r.text)}"),
                           Context(channel_insurer=ctx.channel_insurer, pending="each"), engine, policies)
    parts, srcs, kinds = [], [], []
    offer = False  # the offer to check the own policy: once, after every product's answer
    for m, name in names.items():
        rep = _answer_one(kb, read(kb, f"{name}的{without_names(kb, r.text)}"),
                          Context(channel_insurer=ctx.channel_insurer, pending="each"), engine, policies)
        if rep.kind in ("ask_product", "ask_service", "clarify"):
            return None
        parts.append(f"【{name}】\n" + "\n".join(x for x in rep.text.split("\n") if x != _OFFER_OWN_CHECK))
        offer = _OFFER_OWN_CHECK in rep.text
        srcs += list(rep.sources)
        kinds.append(rep.kind)
    head = f"{scope.insurer.short_name if scope.insurer else ''}有{len(manuals)}款产品都有“{top.name}”，规定分别是：\n"
    kind = kinds[0] if len(set(kinds)) == 1 else "fact"
    return Reply(kind, head + "\n".join(parts) + (f"\n{_OFFER_OWN_CHECK}" if offer else ""), sources=srcs,
                 remember={"service": top.name, "insurer": top.insurer_short},
                 options=[(name, f"{name}的{top.name}") for name in names.values()])


def _named_in_one(kb, text: str, manuals: list[str]) -> str | None:
    """The one manual of several whose text holds the message's distinctive words (a name of four characters or
    more, a phone number) when the others' do not; None when no word tells them apart or words disagree."""
    words = {w for w in kb.tokens(text) if len(w) >= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", w)}
    words |= set(re.findall(r"\d{5,}", text))
    found = set()
    for w in words:
        holders = [m for m in manuals if w in _manual_text(kb, m)]
        if len(holders) == 1:
            found.add(holders[0])
    return found.pop() if len(found) == 1 else None


def _single_product(kb, manual_id: str) -> bool:
    return bool(_product_name(kb, manual_id))


def _product_name(kb, manual_id: str) -> str | None:
    from assist.names import index_for

    p = index_for(kb).products.get(manual_id)
    return p[0] if p else None


# -- routes ---------------------------------------------------------------------------------
def _list_services(kb, scope: Scope) -> Reply:
    if scope.manual_ids is None:
        return _ask_product(kb, "您的保单是哪家保险公司、哪款产品的？告诉我后为您列出手册里的服务。")
    services = [s for s in kb.services() if s.manual_id in scope.manual_ids]
    if not services:
        return _silent(kb, scope, "提供哪些服务")
    by_product: dict[str, list] = {}
    for s in services:
        by_product.setdefault(s.product or s.insurer_short, []).append(s)
    parts = []
    for prod, svcs in by_product.items():
        names = list(dict.fromkeys(s.name for s in svcs))
        parts.append(f"【{prod}】" + "、".join(names) + (f"（共 {len(names)} 项）" if len(names) > 8 else ""))
    text = "手册里列了这些健康服务：\n" + "\n".join(parts) + "\n想了解哪一项，直接说服务名称就可以。"
    srcs = [svcs[0].source for svcs in by_product.values()]
    return Reply("services", text, sources=srcs, options=[(s.name, s.name) for s in services[:6]],
                 items=[{"name": s.name, "product": s.product, "cite": s.source.cite()} for s in services],
                 remember=_scope_slots(scope))


def fitting_services(kb, text: str, manual_ids: set[str] | None = None) -> list:
    """The services that fit the situation a message describes (出院回家想请护士上门换药), best first; []
    when it describes none. The booking form uses it when the customer describes rather than names."""
    return _fitting(kb, read(kb, text or ""), manual_ids)


def _fitting(kb, r: Reading, manual_ids: set[str] | None) -> list:
    pool = [s for s in kb.services() if manual_ids is None or s.manual_id in manual_ids]
    scored = []
    for s in pool:
        w = r.situation.get(s.category or "", 0.0)
        if w:
            # the service's own words for the situation (its name and description) decide between equals
            words = r.text
            bonus = sum(1 for ch in set(re.findall(r"[\u4e00-\u9fff]{2}", words)) if ch in (s.name + s.description))
            scored.append((w + 0.1 * bonus, s))
    if not scored:
        return []
    scored.sort(key=lambda x: (-x[0], x[1].id))
    best = scored[0][0]
    return [s for w, s in scored if w >= best * 0.6][:6]


def _other_edition(kb, svc, scope: Scope, clause) -> bool:
    """The clause stands under another edition's heading than the one in scope (太保蓝本无忧管家(2023版)
    服务说明 when the customer has 太保蓝本（2023版）)."""
    if not scope.edition or not clause.section:
        return False
    section = norm(clause.section.split(">")[-1])
    named = {e.edition for e in kb.entitlements(svc.id) if norm(e.edition) in section}
    return bool(named) and scope.edition not in named


def _in_edition(kb, svc, scope: Scope) -> bool:
    """The service is in the scope's edition (and tier, when said); a service without tables is."""
    rows = kb.entitlements(svc.id)
    if not rows:
        return True
    return any(e.edition == scope.edition and e.included and (not scope.tier or not e.tier or e.tier == scope.tier)
               for e in rows)


def _recommend(kb, r: Reading, scope: Scope) -> Reply:
    """Which service fits the situation: services of the situation's categories, best first."""
    chosen = _fitting(kb, r, scope.manual_ids)
    if scope.edition:  # 蓝本2023尊享版3档: only services the customer's edition (and tier) includes
        mine = [s for s in chosen if _in_edition(kb, s, scope)]
        chosen = mine or chosen
    if not chosen and r.situation and scope.manual_ids and scope.decided_by in ("product", "insurer", "channel"):
        return _none_fits(kb, r, scope)  # 平安健康 and a nurse at home: it has no such service
    if not chosen:
        return _clarify(kb, r, scope)
    lines, srcs = [], []
    for s in chosen:
        desc = _clip(s.description, 70)
        lines.append(f"· {s.name}（{s.product or s.insurer_short}）" + (f"：{desc}" if desc else ""))
        srcs.append(s.source)
    head = "根据您说的情况，手册里这些服务可能帮得上：" if len(chosen) > 1 else "根据您说的情况，这项服务可能帮得上："
    tail = "" if scope.manual_ids else "\n不同保险公司、产品的服务不一样，告诉我您的保单是哪一款，可以帮您确认。"
    remember = {**_scope_slots(scope), **_hospital_slots(r)}  # 下下周要去广州中山大学附属肿瘤医院: kept to book
    remember["service"] = chosen[0].name  # the best fit: "帮我约一下" books it, and the summary shows which
    return Reply("recommend", head + "\n" + "\n".join(lines) + tail, sources=srcs,
                 options=[(s.name, f"{s.name}怎么申请") for s in chosen[:4]], remember=remember,
                 items=[{"name": s.name, "insurer": s.insurer_short} for s in chosen])


def _hospital_slots(r: Reading) -> dict:
    """The hospital the message names and its city, when it names one hospital of one city (a booking
    that follows takes them); nothing when the name fits several."""
    if not r.hospitals:
        return {}
    h = r.hospitals[0]
    alike = [x for x in r.hospitals if x.score >= h.score - 5]
    if len({x.name for x in alike}) > 1 or not h.city_name:
        return {}
    from assist.names import hospital_city

    city = hospital_city(h)
    return {"hospital": h.name, **({"city": city} if city else {})}


def _none_fits(kb, r: Reading, scope: Scope) -> Reply:
    """The situation is clear but none of the product's services is of its kind: say so, list what it has."""
    from knowledge.vocab import CATEGORIES, Category

    kinds = [CATEGORIES.get(Category(c), "") for c, _w in sorted(r.situation.items(), key=lambda x: -x[1])
             if c in Category.__members__.values()][:2]
    name = scope.product or (scope.insurer.short_name if scope.insurer is not None else "") or "您的保单"
    services = list(dict.fromkeys(s.name for s in kb.services() if s.manual_id in (scope.manual_ids or set())))
    line, srcs = _hotline(kb, scope.insurer, scope)
    text = (f"{name}的服务手册里没有找到{'、'.join(k for k in kinds if k) or '适合这种情况'}这类服务。"
            f"手册里有的服务是：{'、'.join(services[:12])}{' 等' if len(services) > 12 else ''}。\n"
            + (f"可以拨打{line}咨询，" if line else "") + "也可以输入“转人工”由客服帮您看看。")
    return Reply("not_in_manual", text, sources=srcs, handoff=True,
                 options=[("转人工", "/human_handoff")] + [(n, n) for n in services[:4]])


def _describe(kb, svc, scope: Scope) -> Reply:
    desc = _clip(svc.description, 200)
    if not desc:
        return _silent(kb, scope, f"{svc.name}的具体内容", svc)
    lines = [f"{svc.name}（{svc.product or svc.insurer_short}）：{desc}"]
    srcs = [_fact_source(svc, "content")]
    if svc.usage_text:
        lines.append(f"使用次数：{_clip(svc.usage_text, 80)}")
        srcs.append(_fact_source(svc, "usage_limit"))
    return Reply("service_info", "\n".join(lines), sources=srcs,
                 options=[("覆盖哪些城市", f"{svc.name}覆盖哪些城市"), ("怎么申请", f"{svc.name}怎么申请"),
                          ("帮我预约", "/open_ticket")],
                 items=[{"name": svc.name, "insurer": svc.insurer_short}])


def _coverage(kb, r: Reading, svc, ctx: Context) -> Reply:
    from assist.eligibility import Case, coverage_facts
    from assist.errors import AssistError

    res = r.places[0] if r.places and r.places[0].city else None
    if res is None and not r.hospitals and r.province:
        return _province_coverage(kb, svc, r.province)
    # the customer's own word when it is a county-level place (昆山 answers "昆山属于苏州"), else the city
    place = (res.query if res.via == "county" and res.query else res.city.name) if res else None
    if res is not None and res.via != "county":
        place = _county_after(res) or place  # 江苏宿迁沭阳县: 沭阳县, which its prefecture's span holds
    out = None
    try:  # of the hospitals the words may name (北京天坛医院 / 首都医科大学附属北京天坛医院), a listed one first
        for h in (_listed_first(kb, svc, r.hospitals, place) or [None]):
            _res, got = coverage_facts(kb, svc, Case(city=place, hospital=h.name if h else None), short=True)
            if out is None or (got is not None and got["status"] == "covered"):
                out = got
            if out is not None and out["status"] == "covered":
                break
    except AssistError as e:
        return Reply("ask_city", e.message if hasattr(e, "message") else str(e))
    if out is None:
        return Reply("ask_city", f"请问您想在哪个城市使用{svc.name}？")
    status = out["status"]
    srcs = [s for s in (out.get("sources") or []) if s]
    where = (out.get("hospital") or {}).get("name") or out["city"]["short"]
    reason = out.get("reason") or ""
    county = _COUNTY.search(without_names(kb, r.text)) if status in ("covered", "partial") and not out.get("hospital") else None
    urban = _urban_only(kb, svc) if county else None
    if county and urban is not None:  # 兰州下面的榆中县 and the service covers city districts only
        return Reply("coverage", f"{county.group(0).lstrip('的在是到去住了里')}不在{svc.name}的服务范围内：手册写明服务只覆盖城市市区。"
                     f"手册原文：“{_clip(urban.text, 120)}”", sources=[kb.clause_source(urban)] + srcs,
                     options=[("转人工", "/human_handoff")], remember={"city": out["city"]["short"]},
                     items=[{"status": "not_covered", **out["city"]}])
    if status == "unknown":
        named = _place_in_service_text(kb, svc, out["city"]["name"])
        if named is not None:  # no list, but the service's own words name the city (北京、上海等400个城市)
            return Reply("coverage", f"{where}在{svc.name}的服务范围内，手册原文：“{_clip(named.text, 120)}”",
                         sources=[kb.clause_source(named)], options=[("帮我预约", "/open_ticket")],
                         remember={"city": out["city"]["short"]}, items=[{"status": "covered", **out["city"]}])
        few = _places_named(kb, svc)
        if few is not None:  # 北上广地区三甲医院: 上海 is one of them, 成都 is not
            c, cities = few
            inside = out["city"]["short"] in cities
            head = (f"{where}在{svc.name}的服务范围内" if inside else f"{where}不在{svc.name}的服务范围内") + \
                f"：手册写明服务在{'、'.join(cities)}提供。"
            return Reply("coverage", head + f"手册原文：“{_clip(c.text, 120)}”", sources=[kb.clause_source(c)],
                         options=[("帮我预约", "/open_ticket")] if inside else [("转人工", "/human_handoff")],
                         remember={"city": out["city"]["short"]},
                         items=[{"status": "covered" if inside else "not_covered", **out["city"]}])
        scope_clause = _scope_clause(kb, svc)
        text = (f"无法确认{where}能否使用{svc.name}：手册没有列出它的城市或医院名单。"
                + (f"手册原文：“{_clip(scope_clause.text, 120)}”" if scope_clause else "")
                + "可以转人工帮您核实。")
        if scope_clause:
            srcs = [kb.clause_source(scope_clause)] + srcs
    elif status in ("covered", "not_covered") and reason:
        text = reason
    else:
        text = reason or f"{where}：{svc.name}"
    if status == "not_covered" and not out.get("hospital"):
        every = kb.listed_cities(svc.id, SHORT_LIST + 1)  # one more: a longer list is not named
        near = kb.covered_nearby(svc.id, out["city"].get("code"))
        if 0 < len(every) <= SHORT_LIST:  # a short list (北京、上海、广州): where it is offered at all
            text += f"\n手册列出的服务城市只有：{'、'.join(_short_city(n) for n, _s in every)}。"
            srcs += [src for _n, src in every]
        elif near:  # where the customer could use it instead: the listed cities of the same province
            text += f"\n同省能用这项服务的城市有：{'、'.join(n for n, _s in near)}。"
            srcs += [src for _n, src in near]
    listed = kb.hospitals(svc.id, out["city"]["name"]) if status in ("covered", "partial") else []
    if listed and (_asks_list(r.text) or len(listed) <= 8):  # each hospital named is cited
        names = "、".join(h.name for h in listed[:8]) + ("等" if len(listed) > 8 else "")
        text += f"\n{out['city']['short']}的服务医院有：{names}。"
        srcs += [h.source for h in listed[:8] if h.source]
    opts = [("帮我预约", "/open_ticket"), ("转人工", "/human_handoff")] if status != "covered" else [
        ("帮我预约", "/open_ticket")]
    return Reply("coverage", text, sources=srcs, options=opts,
                 remember={"city": out["city"]["short"]}, items=[{"status": status, **out.get("city", {})}])


def _county_after(res) -> str | None:
    """The county-level place said after its prefecture (宿迁沭阳县 -> 沭阳县), or None."""
    from knowledge import geo

    tail = res.query or ""
    for head in (res.city.province, res.city.province.rstrip("省市"), res.city.name, res.city.short):
        if head and tail.startswith(head):
            tail = tail[len(head):]
    if len(tail) < 2 or tail == res.query:
        return None
    got = geo.resolve_city(tail)
    return tail if got.status == "ok" and got.via == "county" and got.city and got.city.code == res.city.code else None


def _listed_first(kb, svc, hospitals: list, city: str | None) -> list:
    """The hospitals a message may name, the service's own list's spelling of each first (邵逸夫医院: the
    list's 浙江大学医学院附属邵逸夫医院 before another manual's 浙江大学附属邵逸夫医院), then the rest; with a
    city said, those of other cities last."""
    if not hospitals:
        return hospitals
    # 逸夫医院 matched inside 邵逸夫医院: the longer mention is the one said
    hospitals = [h for h in hospitals if not any(h.matched and h.matched != o.matched and h.matched in o.matched
                                                 for o in hospitals)]
    listed = {x.name for c in ([city] if city else {h.city_name for h in hospitals if h.city_name})
              for x in kb.hospitals(svc.id, c)}
    same = [x for h in hospitals for x in kb.find_hospital(h.matched or h.name, limit=5) if x.name in listed]
    out = list({x.name: x for x in same + list(hospitals)}.values())
    if city:
        out.sort(key=lambda x: not (x.name in listed or (x.city_name or "") in (city or "")))
    return out


def _short_city(name: str) -> str:
    """北京市 -> 北京 (a short list reads as people say it); 阿拉善盟, 沙市 stay."""
    return name[:-1] if name.endswith("市") and len(name) > 2 else name


SHORT_LIST = 6  # a service offered in this many listed cities or fewer names them all when a city is not one
_COUNTY = re.compile(r"[\u4e00-\u9fff]{1,3}(县(?!级|医院|城)|镇(?!痛|静)|乡(?!下))")  # 榆中县, 周庄镇 (not 县级市)
_URBAN_ONLY = re.compile(r"仅(覆盖|限|支持)?[^，。；,;]{0,6}市区|(县|镇|村)[^，。；,;]{0,8}(不支持|不覆盖|暂不)")


def _urban_only(kb, svc):
    """The service's clause saying it covers city districts only (城市下属的县、村、镇等不支持), or None."""
    return next((c for c in kb.clauses(service_id=svc.id) if _URBAN_ONLY.search(c.text)), None)


def _province_coverage(kb, svc, province: str) -> Reply:
    """A whole province asked about (山西那边能用吗): the province's own row, the listed places inside it,
    or none of them."""
    status, places, srcs = kb.province_coverage(svc.id, province)
    if status == "partial":
        srcs = srcs[:8]  # the lines of the places named
    if status == "covered":
        text = f"{province}在{svc.name}的服务范围内（手册把{province}整体列入清单）。"
    elif status == "partial":
        names = "、".join(places[:8]) + ("等" if len(places) > 8 else "")
        text = f"{province}只有部分地方在{svc.name}的清单里：{names}。请确认就医地点是否在其中。"
    elif status == "not_covered":
        text = f"{province}不在{svc.name}的服务范围内（手册所列地区和医院中没有{province}的）。"
    else:
        return Reply("ask_city", f"{svc.name}在{province}哪个城市使用？告诉我城市，我帮您查。")
    opts = [("帮我预约", "/open_ticket")] if status == "covered" else [("转人工", "/human_handoff")]
    return Reply("coverage", text, sources=list(srcs), options=opts, items=[{"status": status, "province": province}])


def _drug_reply(kb, r: Reading, scope: Scope) -> Reply | None:
    """A drug the message names that is on one of the manual's drug lists: which list, with its line."""
    for tok in dict.fromkeys(kb.tokens(without_names(kb, r.text))):
        if len(tok) < 3 or tok in _stop_words():
            continue
        for d in kb.find_drug(tok, limit=3):
            if d.score < 90 or (scope.manual_ids and d.source.manual_id not in scope.manual_ids):
                continue
            extra = "，".join(x for x in (d.spec, d.maker) if x)
            text = f"{d.name}在手册的{d.list_name}里" + (f"（{extra}）" if extra else "") + "。"
            return Reply("drug", text, sources=[d.source], items=[{"drug": d.name, "list": d.list_name}])
    return None


def _asks_list(text: str) -> bool:
    return bool(re.search(r"哪些|哪几家|哪家|名单|清单|列表|具体在哪|有什么医院|都有谁", text))


def _place_in_service_text(kb, svc, city: str):
    """A clause of the service that names the city (its short name), or None."""
    short = re.sub(r"(市|地区|盟|自治州)$", "", city)
    if len(short) < 2:
        return None
    for c in kb.clauses(service_id=svc.id):
        if short in c.text and not re.search(short + r".{0,4}(除外|不含|不包括)", c.text):
            return c
    return None


_PLACES_NAMED: dict = {}


def _places_named(kb, svc):
    """(clause, cities) where the service's own words say it is delivered in a few named cities and nowhere
    else (北上广地区三甲医院 / 北京、上海、广州): no 全国, no N个城市, no 等 after the names; None otherwise.
    Read once per service (the store is read-only)."""
    key = (id(kb), svc.id)
    if key not in _PLACES_NAMED:
        _PLACES_NAMED[key] = _read_places_named(kb, svc)
    return _PLACES_NAMED[key]


def _read_places_named(kb, svc):
    from knowledge import geo

    for c in kb.clauses(service_id=svc.id):
        if re.search(r"全国|\d+\s*个(重点)?城市|等(地|城市|\d)|除外|不含|以外|[√×✓✗\t]", c.text):
            continue  # a nationwide reach, examples, exceptions, or a row of a table
        said = [w for w in sorted(geo.groups(), key=len, reverse=True) if w in c.text]
        if said:  # 北上广
            cities, rest = list(geo.groups()[said[0]]), c.text.replace(said[0], "")
        else:
            found = [(a, b, r.city.short) for a, b, r in geo.find_cities(c.text) if r.status == "ok" and r.city]
            cities = list(dict.fromkeys(name for _a, _b, name in found))
            rest = "".join(ch for i, ch in enumerate(c.text) if not any(a <= i < b for a, b, _n in found))
        if 1 <= len(cities) <= 6 and re.search(r"地区|城市|医院|地域|范围", rest):  # not 晋城市 alone
            return c, cities
    return None


_ASKS_WHERE = re.compile(r"(哪些|哪几个|什么|哪个)(城市|地方|地区|省)|在哪(里|儿)?(能|可以)用|(城市|医院)(名单|清单|列表)"
                         r"|覆盖(哪|范围|了哪)")


def _where_offered(kb, svc) -> Reply:
    """Where a service is offered, asked without a place: the cities of its list (a few, with how many), or,
    with no list, that the manual lists none and what it says of its reach."""
    every = kb.listed_cities(svc.id, 1000)
    if every:
        shown = "、".join(_short_city(n) for n, _s in every[:MAX_LISTED])
        more = f"等 {len(every)} 个城市/地区" if len(every) > MAX_LISTED else ""
        lists = kb.service_lists(svc.id)  # the whole lists: the count is theirs
        return Reply("coverage", f"手册列出的{svc.name}服务城市有：{shown}{more}。告诉我您所在的城市，可以帮您查是否在范围内。",
                     sources=[src for _n, kind, src in lists if kind == "city"], options=[("帮我预约", "/open_ticket")])
    lists = kb.service_lists(svc.id)
    if lists:  # a hospital list: where it is offered is the cities of its hospitals
        name, _kind, src = lists[0]
        return Reply("coverage", f"手册列出了{svc.name}的服务医院名单（{name}）。告诉我您所在的城市或医院，可以帮您查是否在名单上。",
                     sources=[src], options=[("帮我预约", "/open_ticket")])
    scope_clause = _scope_clause(kb, svc)
    text = f"无法确认具体哪些城市能用{svc.name}：手册没有列出它的城市或医院名单。" + (
        f"手册原文：“{_clip(scope_clause.text, 160)}”" if scope_clause else "") + "具体城市可以转人工帮您核实。"
    return Reply("coverage", text, sources=[kb.clause_source(scope_clause)] if scope_clause else [],
                 options=[("转人工", "/human_handoff")])


def _scope_clause(kb, svc):
    """The service's clause that states its reach (N个城市, 全国, 覆盖), or None."""
    for c in kb.clauses(service_id=svc.id):
        if re.search(r"\d+\s*(个|座)?.{0,6}(城市|地区)|全国|覆盖", c.text):
            return c
    return None


def _contact(kb, scope: Scope, svc, with_hours: bool = False) -> Reply:
    ins = svc and kb.resolve_insurer(svc.insurer) or scope.insurer
    if ins is None:
        return _ask_product(kb, "请问您的保单是哪家保险公司的？告诉我后给您对应的客服电话。")
    contacts = [c for c in kb.contacts(ins.id) if scope.manual_ids is None or c.source.manual_id in scope.manual_ids]
    mine = [c for c in contacts if svc is not None and c.service_id == svc.id and c.kind in ("phone", "hours")]
    general = [c for c in contacts if c.service_id is None and c.kind == "phone"]
    shown = (mine + general)[:3]
    if not shown:
        others = [c for c in contacts if c.kind in ("app", "wechat", "online", "email")][:2]
        text = f"手册里没有写{ins.short_name}的客服电话。" + (
            "可以通过这些渠道联系：" + "；".join(f"{c.label}：{c.value}" for c in others) + "。" if others else "")
        return Reply("contact", text + "也可以输入“转人工”由客服帮您处理。", sources=[c.source for c in others],
                     options=[("转人工", "/human_handoff")], handoff=True)
    hours = {c.source.line_start: c.value for c in contacts if c.kind == "hours"}
    extra: list = []  # the lines of hours found beside a number

    def said(c) -> str:  # a phone with the hours its own line gives (工作时间 周一至周日8:00—22:00)
        h = hours.get(c.source.line_start) if c.kind == "phone" else None
        if h is None and with_hours and c.kind == "phone":  # 几点有人接: the hours a line beside the number gives
            line = next((x for x in contacts if x.kind == "hours" and c.value in (x.source.quote or "")), None)
            if line is not None:
                h = line.value
                extra.append(line.source)
        return f"{c.label}：{c.value}" + (f"（{h}）" if h and h not in c.value else "")

    phones = {c.source.line_start for c in shown if c.kind == "phone"}
    shown = [c for c in shown if not (c.kind == "hours" and c.source.line_start in phones)]
    text = "；".join(said(c) for c in shown) + "。"
    return Reply("contact", text, sources=[c.source for c in shown] + extra, options=[("转人工", "/human_handoff")],
                 items=[{"kind": c.kind, "label": c.label, "value": c.value} for c in shown])


def _clarify(kb, r: Reading, scope: Scope) -> Reply:
    if scope.manual_ids:
        services = [s for s in kb.services() if s.manual_id in scope.manual_ids]
        opts = [(n, n) for n in list(dict.fromkeys(s.name for s in services))[:8]]
        return Reply("ask_service", "您想了解哪项服务？可以直接说服务名称，或者说说您遇到的情况。", options=opts)
    return _ask_product(kb, "请问您想了解哪项服务？也可以告诉我您的保单是哪家保险公司、哪款产品。")


def _ask_product(kb, text: str) -> Reply:
    from assist.names import index_for

    opts = [(p[0], p[0]) for p in index_for(kb).products.values()]
    return Reply("ask_product", text, options=opts)


def _silent(kb, scope: Scope, what: str, svc=None) -> Reply:
    """The manual does not say: say so, give the hotline, offer a human."""
    ins = (kb.resolve_insurer(svc.insurer) if svc is not None else None) or scope.insurer
    line, srcs = _hotline(kb, ins, scope, svc)
    text = f"手册里没有写{what}。" + (f"可以拨打{line}咨询，" if line else "") + "也可以输入“转人工”由客服帮您确认。"
    return Reply("not_in_manual", text, sources=srcs, options=[("转人工", "/human_handoff")], handoff=True)


def _hotline(kb, ins, scope: Scope, svc=None) -> tuple[str, list]:
    """The phone to offer: the service's own, then its manual's general line, then the insurer's."""
    if ins is None:
        return "", []
    if svc is not None:
        phones = [c for c in kb.contacts(ins.id) if c.kind == "phone" and c.source.manual_id == svc.manual_id]
        for c in sorted(phones, key=lambda c: (c.service_id != svc.id, c.service_id is not None)):
            return f"{c.label} {c.value}", [c.source]
    for c in kb.contacts(ins.id):
        if c.kind == "phone" and c.service_id is None and (
                scope.manual_ids is None or c.source.manual_id in scope.manual_ids):
            return f"{c.label} {c.value}", [c.source]
    for c in kb.contacts(ins.id):
        if c.kind == "phone":
            return f"{c.label} {c.value}", [c.source]
    return "", []


def _scope_slots(scope: Scope) -> dict:
    out = {}
    if scope.insurer is not None:
        out["insurer"] = scope.insurer.short_name
    if scope.product:
        out["product"] = scope.product
    return out


# -- eligibility on the facts stated ------------------------------------------------------
# the rules engine's check codes each stated fact bears on
_FACT_CODES = {
    "effective": {"waiting", "cooling_off", "validity"}, "transfer": {"waiting"}, "renewal": {"waiting"},
    "relation": {"beneficiary", "guardian"}, "age": {"age", "guardian"},
    "diagnosis": {"diagnosis", "disease", "diagnosis_hospital", "first_diagnosis"},
    "uses": {"usage", "entitlement"}, "addon": {"addon"}, "hospital": {"diagnosis_hospital"},
    "condition_days": {"validity"}, "join_days": {"validity"}, "upgraded": {"validity"},
    "designated_days": {"validity", "beneficiary"}, "family_policy": {"usage", "beneficiary"},
    "pregnancy": {"diagnosis"}, "accident": {"diagnosis"}, "stay_days": {"stay"},
}


_RULE_ASPECTS = {"who", "age", "diagnosis", "waiting", "transfer"}
_OFFER_OWN_CHECK = "如果想按您的保单核对，可以说“查我的保单”。"  # the last line of a stated-facts verdict
_QUANTITIES = {"amount", "count", "duration", "lead_time", "response_time"}


def _waiting_length(kb, svc, scope: Scope) -> Reply | None:
    """How long the service's waiting period is, as the rules read it from the manual (a number of days,
    none, or after the cooling-off period); None when the manual gives no number."""
    if svc is None:
        return None
    from assist.eligibility import cached_service_rule

    rule = cached_service_rule(kb, svc.id, scope.edition, scope.tier)
    w = rule.waiting if rule is not None else None
    if w is None or w.source is None:
        return None
    if w.kind == "days" and w.days:
        text = f"{svc.name}的等待期：{w.days} 天。"
    elif w.kind == "none":
        text = f"{svc.name}没有等待期。"
    elif w.kind == "after_cooling_off" and rule.cooling_off.days:
        text = f"{svc.name}在犹豫期（{rule.cooling_off.days} 天）结束后可以使用。"
    else:
        return None
    src = rule.cooling_off.source if w.kind == "after_cooling_off" and rule.cooling_off.source else w.source
    quote = kb.excerpt(src.manual_id, src.line_start, src.line_end, limit=160)
    return Reply("fact", f"{text}\n手册原文：“{quote}”", sources=[src], aspect="waiting",
                 options=[("怎么申请", f"{svc.name}怎么申请"), ("帮我预约", "/open_ticket")])


_WAITING_ASKED = re.compile(r"(等待期|犹豫期)[^，。？?,；;]{0,6}?(多少天|几天|多久|多长|是多少|有多少|几个月)"
                            r"|(多少天|几天|多久|多长|几个月)的?(等待期|犹豫期)")  # how long it is, not a count after it
_WAITING_STATED = re.compile(r"(等待期|犹豫期)[^。；;]{0,12}?\d+\s*(天|日|个月)|\d+\s*(天|日|个月)[^。；;]{0,6}(等待期|犹豫期)")
_AGE_STATED = re.compile(r"\d+\s*周?岁|未成年|成年|监护人|儿童|老人|老年|婴|幼")  # an age rule a clause states
_NUMBER = re.compile(r"\d+(\.\d+)?\s*(%|元|万|次|个?(工作)?(天|小时|日)|个|年|月|周|分钟|岁|家|人|名)")  # a quantity with its unit
_HOW_MUCH = re.compile(r"多少|几[次天个家年月周小回岁位项种类]|多久|多长|多大(年[龄纪]|岁数)?|面额|面值|比例")  # asks for a number


def _pure_fact_question(r: Reading) -> bool:
    """A question about an aspect (次数, 金额, 材料 ...) rather than a yes/no on the customer's case: no
    fact stated beyond context, or only aspects that are not rules. A quantity asked for (一年能用几次)
    is a fact question even when the message says who the customer is (我老婆是被保险人)."""
    keys = set(r.aspect_keys())
    if not keys:
        return False
    if keys & _QUANTITIES and "eligibility" not in r.cues:
        return True
    if keys & _RULE_ASPECTS:
        return False
    if not r.facts.any():
        return True
    return "eligibility" not in r.cues


def _with_verdict(kb, engine, policies, r: Reading, svc, scope: Scope, rep: Reply) -> Reply:
    """A quantity asked with the customer's case stated: the rules' verdict on the case first, when they
    settle it, then the quantity."""
    e = _eligibility(kb, engine, policies, r, svc, scope)
    decision = (e.items or [{}])[0].get("decision")
    lines = e.text.split("\n")
    if decision == "eligible" or lines[0].startswith("按您说的情况，可以"):
        head = [lines[0]]
    elif decision == "not_eligible":
        head = [x for x in lines[:2] if not x.startswith("如果想")]
    else:
        return rep
    rep.text = "\n".join(head + [rep.text])
    rep.sources = list(e.sources[:1]) + list(rep.sources)
    rep.items = list(rep.items) + e.items
    return rep


def _tiers_with(kb, svc, scope: Scope) -> list[tuple[str, Any]]:
    """(tier as said, its row's source) of the scope's edition whose row includes the service."""
    if not scope.edition:
        return []
    out = []
    for e in kb.entitlements(svc.id):
        if e.edition == scope.edition and e.included and e.tier and e.tier != scope.tier:
            said = re.sub(r"^[（(][^）)]*[）)]\s*", "", e.tier.replace(e.edition, "").strip())  # （前5个保单年度）
            out.append((said or e.tier, e.source))
    return out


def fact_question(kb, text: str) -> bool:
    """A question about an aspect of a service (一年能用几次, 要准备什么材料), not about the customer's case."""
    r = read(kb, text or "")
    return bool(r.text) and _pure_fact_question(r) and "own_policy" not in r.cues and "eligibility" not in r.cues


def _eligibility(kb, engine, policies, r: Reading, svc, scope: Scope) -> Reply:
    from assist.eligibility import Case, EligibilityRequest, Person, PolicyExtra, check
    from assist.errors import AssistError
    from assist.text import to_digits
    from core.clock import today_china

    if engine is None or policies is None:
        from assist.services import services

        engine, policies = engine or kb.engine, policies or services().policies
    f = r.facts
    today = today_china()
    eff = None
    if f.effective_days is not None:
        eff = today - timedelta(days=f.effective_days if f.effective_days >= 0 else 1)
    req = EligibilityRequest(
        service=svc.name, insurer=scope.product or svc.insurer_short,
        person=Person(relation=("本人" if f.relation == "self" else f.relation_word) if f.relation else None,
                      age=f.age, is_insured=f.insured, designated=f.designated,
                      designated_since=today - timedelta(days=f.designated_days) if f.designated_days else None),
        case=Case(diagnosis=f.diagnosis, disease=r.disease, accident=f.accident,
                  pregnancy=f.pregnancy if f.pregnancy is not None or not r.disease else False,  # 因为肺炎住院
                  diagnosis_hospital_public=f.hospital_public, diagnosis_hospital_grade=f.hospital_grade,
                  uses_this_period=0 if f.uses and f.uses_by_other and f.family_policy is False
                  and f.relation in (None, "self") else f.uses,  # a relative's use, on separate policies
                  stay_days=f.stay_days),
        policy_extra=PolicyExtra(effective_date=eff, edition=scope.edition, tier=scope.tier,
                                 # most policies are neither: the answer notes the exception when it matters
                                 is_transfer=bool(f.transfer), is_renewal=bool(f.renewal),
                                 is_family_policy=f.family_policy,
                                 waiting_over=f.waiting_over, upgraded=f.upgraded,
                                 condition_met_date=today - timedelta(days=f.condition_days)
                                 if f.condition_days is not None else None,
                                 join_date=today - timedelta(days=f.join_days) if f.join_days is not None else None,
                                 # "带了门急诊加油包": the add-on the service asks for, as the manual names it
                                 addons=([svc.addon_required or "addon"] if f.addon else []) if f.addon is not None
                                 else None))
    try:
        res = check(kb, engine, policies, req, today=today)
    except AssistError as e:
        return Reply("eligibility", getattr(e, "message", str(e)))
    d = res.decision
    said_codes = set().union(*(_FACT_CODES.get(k, set()) for k in f.said)) if f.said else set()
    if scope.tier:
        said_codes.add("entitlement")  # "尊享版呢？": the tier said decides whether it is included
    if f.relation == "self" and f.age is None:
        said_codes.discard("guardian")  # the insured asks for themselves: a guardian is not what they said
    failed = [x for x in d.reasons if x.passed is False]
    relevant = [x for x in d.reasons if x.code in said_codes]
    needs = [x for x in relevant if x.passed is None and x.code in said_codes
             and x.code != "guardian"]  # who applies for a minor is how, not whether
    name = svc.name
    tiers_have: list = []
    if failed:
        head = f"按手册的规定，这种情况不能使用{name}。"
        body = failed[:3]
        tiers_have = _tiers_with(kb, svc, scope) if any(x.code == "entitlement" for x in failed) else []
    elif d.status == "eligible" or (said_codes and relevant and not needs):
        head = f"按您说的情况，可以使用{name}。"
        body = [x for x in relevant if x.passed] or [x for x in d.reasons if x.passed][:2]
    else:
        head = f"能否使用{name}要看具体情况："
        body = (needs or [x for x in d.reasons if x.passed is None])[:3]
    lines = [head] + [x.message_zh for x in body]
    if f.relation == "self" and f.relation_word and f.relation_word not in ("我", "我自己", "本人", "自己"):
        # 被保险人是我儿子: the rules check the insured himself; the customer speaks of their son
        who = "您" + f.relation_word.removeprefix("我")  # 您儿子
        lines = [x.replace("您是被保险人本人", f"{who}是被保险人") for x in lines]
    if f.relation == "child" or (f.age is not None and f.age < 18):  # a minor: who applies for them
        lines += [x.message_zh for x in relevant if x.code == "guardian" and x.passed is None and x not in body]
    if tiers_have:  # 专业版 has none: the tiers of the edition that have it
        lines.append(f"{scope.edition}中包含{name}的是：{'、'.join(t for t, _s in tiers_have)}。")
    others = [m for m in d.missing if not any(m.split(".")[-1] in c for c in said_codes)][:3]
    if not failed and others and d.status != "eligible":
        from rules.engine import FACT_ZH

        lines.append("另外还要看：" + "、".join(FACT_ZH.get(m, m) for m in others) + "。")
    srcs = ([x.source for x in body if x.source] or [svc.source]) + [src for _t, src in tiers_have]  # every tier named
    status = d.status
    cap = _days_cap(kb, svc) if f.used_days is not None and not failed else None
    if cap is not None and f.used_days is not None:  # days already used against the cap (累计不超过30天)
        n, c = cap
        quote, src = _with_continuation(kb, c)
        more = re.search(r"(再|还)(想|要)?(用|要|申请|陪|住)\s*(\d+)\s*(天|日)", to_digits(r.text))
        want = int(more.group(4)) if more else 0
        if f.used_days >= n:
            lines = [f"按手册的规定，这种情况不能使用{name}了：累计上限 {n} 天，您说的已经用了 {f.used_days} 天。",
                     f"手册原文：“{quote}”"]
            srcs, status, failed = [src], "not_eligible", [c]
        elif want and f.used_days + want > n:  # 已经用了20天，想再用15天: past the cap
            lines = [f"按手册的规定，这种情况不能使用{name}：累计上限 {n} 天，您说已经用了 {f.used_days} 天，"
                     f"再用 {want} 天会超过上限。", f"手册原文：“{quote}”"]
            srcs, status, failed = [src], "not_eligible", [c]
        else:
            if not needs:
                lines[0] = f"按您说的情况，可以使用{name}。"
                status = "eligible"
            lines.insert(1, f"{name}累计上限 {n} 天，您说已经用了 {f.used_days} 天，还没有用满。"
                            f"\n手册原文：“{quote}”")
            srcs.insert(0, src)
    if not failed:
        hit = _content_clause(kb, r, [svc], scope)
        if hit is not None and _other_edition(kb, svc, scope, hit.clause):
            hit = None  # 无忧管家's table says nothing of the 2023 edition the customer has
        against, clause = "", None
        if hit is not None:
            against, clause = _clause_says_no(kb, r, svc, hit.clause.text, f), hit.clause
        if not against:  # a condition anywhere in the service's own clauses
            against, clause = _conditions_against(kb, r, svc, f)
        if against and clause is not None:  # the manual's own condition rules the stated case out
            quote, src = _with_continuation(kb, clause)
            lines = [f"按手册的规定，这种情况不能使用{name}：{against}", f"手册原文：“{quote}”"]
            srcs, status = [src], "not_eligible"
        elif hit is not None:
            quote, src = _with_continuation(kb, hit.clause)
            lines.insert(1, f"手册原文：“{quote}”")
            srcs.insert(0, src)
    lines.append(_OFFER_OWN_CHECK)
    return Reply("eligibility", "\n".join(lines), sources=srcs,
                 options=[("查我的保单", "/ask_eligibility"), ("怎么申请", f"{name}怎么申请")],
                 items=[{"decision": status}])


_FAMILY_KINDS = {"insured_and_family", "designated_family", "family_pool", "family"}


def _who(kb, svc, scope: Scope) -> Reply:
    """Who may use the service (the family question asked without naming the person)."""
    text = (svc.beneficiary_text or "").strip()
    if not text:
        return _silent(kb, scope, f"{svc.name}家人能不能使用", svc)
    src = _fact_source(svc, "beneficiary")
    kind = svc.beneficiary or ""
    if kind == "insured":
        head = f"{svc.name}仅限被保险人本人使用，家人不能使用。"
    elif kind in _FAMILY_KINDS:
        head = f"{svc.name}家人也可以使用，但要符合手册的条件："
    else:
        head = f"{svc.name}谁能使用要看具体情况，手册是这样写的："
    return Reply("eligibility", f"{head}\n手册原文：“{_clip(text, 160)}”", sources=[src],
                 options=[("查我的保单", "/ask_eligibility")])


def _entitlement_reply(kb, r: Reading, cands: list, scope: Scope) -> Reply | None:
    """Services whose uses differ by edition and tier (the manual's entitlement tables): the row of the
    edition and tier the customer names, or every tier of the edition; None without such a table."""
    for svc in cands[:4]:
        rows = kb.entitlements(svc.id)
        if not rows:
            continue
        if not scope.edition:
            eds = list(dict.fromkeys(e.edition for e in rows))
            return Reply("ask_edition", f"{svc.name}的次数因版本和档次不同，请问您的保单是哪个版本、哪一档？",
                         options=[(e, f"{e}的{svc.name}能用几次") for e in eds[:6]], remember={"service": svc.name})
        mine = [e for e in rows if e.edition == scope.edition and (not scope.tier or e.tier == scope.tier)]
        if not mine:
            continue
        family = _family_uses(svc, scope) if (r.facts.relation not in (None, "self") or _FAMILY.search(r.text)) else []
        if family:  # 家人一年能用几次: the tier's row for designated relatives
            text = f"{scope.edition}的{svc.name}，指定家人可用的次数：\n" + "\n".join(f"{_tier_label(f.data.get('tier'), scope)}：{f.value.split(':', 1)[-1].strip()}"
                             for f in family[:6])
            return Reply("fact", text, sources=[family[0].source], aspect="count")
        lines = []
        for e in mine[:6]:
            label = (e.tier or e.edition).replace(e.edition, "").strip() or e.edition
            lines.append(f"{label}：{e.text.strip()}" if e.included else f"{label}：不包含{svc.name}")
        head = (f"{scope.edition}{'' if not scope.tier else ''}的{svc.name}：" if len(mine) > 1
                else f"{mine[0].tier or mine[0].edition}的{svc.name}："
                + (mine[0].text.strip() if mine[0].included else "不包含这项服务") + "。")
        text = head if len(mine) == 1 else head + "\n" + "\n".join(lines)
        return Reply("fact", text, sources=[mine[0].source], aspect="count",
                     items=[{"edition": e.edition, "tier": e.tier, "included": e.included, "text": e.text}
                            for e in mine])
    return None


_FAMILY = re.compile(r"家人|家里人|家属|亲属|直系|全家")


def _asks_has(text: str, svc) -> bool:
    """"（一档）有多学科会诊吗", "包含重疾陪诊吗": whether the product includes the service named."""
    names = "|".join(re.escape(n) for n in sorted({svc.name, *svc.aliases}, key=len, reverse=True) if n)
    return bool(names) and bool(re.search(rf"(有没有|有|包含|包括|含)({names})(服务)?(吗|么|嘛|不|没有|[?？]|$)", text))


def _family_uses(svc, scope: Scope) -> list:
    """The service's beneficiary facts that give designated relatives their own number of uses, for the
    edition (and tier) in scope."""
    return [f for f in svc.facts if f.attribute == "beneficiary" and isinstance(f.data, dict)
            and f.data.get("family_usage_limit") is not None and f.data.get("edition") == scope.edition
            and (not scope.tier or f.data.get("tier") == scope.tier)]


def _edition_family(kb, scope: Scope) -> Reply | None:
    """Who besides the insured may use the edition's services, per tier (the 服务对象 row of its table),
    when the customer asks about the family without naming a service."""
    rows: dict[str, Any] = {}
    for svc in kb.services():
        for f in svc.facts if svc.manual_id in (scope.manual_ids or {svc.manual_id}) else ():
            d = f.data if isinstance(f.data, dict) else {}
            if f.attribute == "beneficiary" and d.get("max_members") and d.get("edition") == scope.edition \
                    and (not scope.tier or d.get("tier") == scope.tier):
                rows.setdefault(d.get("tier") or "", f)
    if not rows:
        return None
    lines = [f"{_tier_label(t, scope)}：{f.value.split(':', 1)[-1].strip()}" for t, f in sorted(rows.items())]
    head = f"{scope.edition}可以由家人使用服务的档次和人数：" if len(rows) > 1 else f"{scope.edition}的服务对象："
    return Reply("fact", head + "\n" + "\n".join(lines), sources=[f.source for f in rows.values()][:3], aspect="who")


def _tier_label(tier: str | None, scope: Scope) -> str:
    return (tier or scope.edition or "").replace(scope.edition or "", "").strip() or (tier or "")


# -- aspects from clauses -----------------------------------------------------------------------
@dataclass
class _Hit:
    clause: Any  # ClauseView
    score: float
    service: Any
    value: str | None
    aspect: Aspect | None


def _query_words(kb, r: Reading, svc_names: list[str]) -> tuple[set[str], set[str]]:
    """(the customer's content words, the aspects' own words) for retrieval."""
    from assist.understand import numeral_forms
    from knowledge.matching import service_core

    text = without_names(kb, r.text)
    forms = {m for n in svc_names for m in (n, n.replace(" ", ""), *numeral_forms(n))}
    forms |= {c for n in svc_names for c in [service_core(n)] if len(c) >= 5}  # not 基因检测, 药品: words asked
    parts = [p for n in svc_names if "·" in n for p in n.split("·") if len(p) >= 3]  # 众安互联网医院·视频问诊
    forms |= {x for p in parts for x in (p, without_names(kb, p).strip()) if len(x) >= 3}
    for n in sorted(forms, key=len, reverse=True):  # 院外特药直付 said for 院外特药直付服务
        text = text.replace(n, " ")
    for p in r.products:
        text = text.replace(p.product, " ")
    words = kb.features(text)
    for term, names in lexicon().manual_terms.items():  # 重疾 is what the manual calls 重大疾病
        if term.lower() in text.lower():
            for n in names:
                words |= kb.features(n)
    extra: set[str] = set()
    for a in r.aspects:
        extra.update(a.expand)
    return words, extra - words


def _pools(kb, svcs: list | None, scope: Scope) -> list[tuple[Any, list, float]]:
    pools: list[tuple[Any, list, float]] = []
    if svcs:
        top = svcs[0]
        for s in svcs[:4]:
            if s.manual_id == top.manual_id:
                pools.append((s, kb.clauses(service_id=s.id), 1.0 if s is top else 0.6))
        pools.append((None, [c for c in kb.clauses(manual_id=top.manual_id) if c.service_id is None], 0.5))
    elif scope.manual_ids:
        for mid in sorted(scope.manual_ids):
            pools.append((None, kb.clauses(manual_id=mid), 0.8))
    return pools


def _best_clauses(kb, r: Reading, svcs: list | None, scope: Scope) -> list[_Hit]:
    """For each aspect asked (at most three), the clause that best answers it: the customer's own words
    weigh most, the aspect's words a little; the clause must state the aspect (zh.yaml aspects.clause),
    and a value of the aspect's unit counts. Clauses of the service come first, then of its manual's
    general sections."""
    aspects = [a for a in r.aspects if a.key != "content"] or list(r.aspects)
    words, extra = _query_words(kb, r, [n for s in (svcs or []) for n in (s.name, *s.aliases)])
    pools = _pools(kb, svcs, scope)
    top = svcs[0] if svcs else None
    # passes: clauses sharing the customer's words, then (none shares any) the service's own clauses that
    # state the aspect
    said = {w for w in words if kb.idf(w) >= MIN_OWN_OVERLAP}
    stated = _quantities(r.text)
    passes: list[set[str] | None] = ([said] if said else []) + [None]
    hits: list[_Hit] = []
    for a in aspects[:3]:
        best: _Hit | None = None
        valued: _Hit | None = None  # the best clause that states a value of the aspect's unit
        for need in passes:
            for svc, clauses, weight in pools:
                if need is None and (svc is None or svc is not top) and not (top is None and a.key in _WHOLE_MANUAL):
                    continue  # without shared words only the service's own clauses (or, no service, a rule's)
                label = None  # the heading before a clause names what it states (6) 前提条件: / 已过…)
                for c in clauses:
                    labelled, label = label is not None and bool(a.clause.search(label)), \
                        (c.text if _heading(c.text) else None)
                    if not (a.clause.search(c.text) or labelled) or _heading(c.text):
                        continue
                    if svc is None and top is not None and _about_another(kb, c, top):
                        continue  # a general section's clause about another service (…专属护工，每天最长24小时)
                    own, _ = kb.overlap(words, c.id)
                    m = _value(a, c.text, r.text)
                    if a.key == "duration" and m is None and not labelled:
                        continue  # its only number is a deadline (2个工作日内完成) or a lead time
                    if need is not None and kb.overlap(need, c.id)[0] < MIN_OWN_OVERLAP:
                        continue  # shares none of what the customer asked about
                    whole = top is None and a.key in _WHOLE_MANUAL
                    if need is None and m is None and (a.unit is not None or weight < 1.0 and not whole):
                        continue  # a quantity asked: without shared words, only a clause stating one
                    fit = _quantity_fit(stated, c.text)
                    if fit < 0:
                        continue  # 在 200 公里以内 and the customer lives 300 公里 away
                    more, _ = kb.overlap(extra, c.id)
                    states = min(len(set(a.clause.findall(c.text))), 3) if a.key in ("cancel", "documents") else 1
                    sc = (own + 0.3 * more + (2.0 if m or labelled else 0.0) + (1.5 if a.key == "documents" else 0.5) * states
                          + 0.5 + 3.0 * fit) * weight  # a list of several documents is the materials list
                    if best is None or sc > best.score or (need is None and m and svc is not None
                                                           and best.service is not top and svc is top) \
                            or (need is None and m and best.service is None):
                        best = _Hit(c, sc, svc, m.group(0) if m else None, a)  # the service's own first
                    if m and (valued is None or sc > valued.score):
                        valued = _Hit(c, sc, svc, m.group(0), a)
            if best is not None and best.score >= MIN_CLAUSE_SCORE and (best.service is top or need is None) \
                    and (valued is not None or a.unit is None or top is None):
                break  # a weak match, outside the service or with no number, lets its own clauses have their say
        if best is not None and best.value is None and valued is not None and valued.score >= VALUED_SHARE * best.score:
            best = valued  # a question about a quantity: the clause with the number
        if best is not None:
            best = _same_polarity(kb, r, best)
        if best is not None and best.score >= MIN_CLAUSE_SCORE and all(h.clause.id != best.clause.id for h in hits):
            hits.append(best)
        elif best is not None and any(h.clause.id == best.clause.id for h in hits):
            continue
    return hits


_SERVICE_NAMES: dict = {}


def _about_another(kb, c, top) -> bool:
    """The clause names another service of the manual (its name or an alias) and not `top`."""
    key = (id(kb), c.manual_id)
    if key not in _SERVICE_NAMES:
        from knowledge.matching import service_core

        names = {}
        for s in kb.services():
            if s.manual_id == c.manual_id:
                names[s.id] = {n for n in (service_core(s.name), s.name, *s.aliases) if n and len(n) >= 2}
        _SERVICE_NAMES[key] = names
    names = _SERVICE_NAMES[key]
    if any(n in c.text for n in names.get(top.id, ())):
        return False
    return any(n in c.text for sid, ns in names.items() if sid != top.id for n in ns)


_MEASURE = r"(公里|千米|周岁|岁|元)"
_STATED_QTY = re.compile(r"(\d+(?:\.\d+)?)\s*(?:多|几)?\s*" + _MEASURE)
_BOUND_QTY = re.compile(r"(超过|大于|高于|不足|少于|低于|满)?\s*(\d+(?:\.\d+)?)\s*" + _MEASURE
                        + r"\s*(以内|以下|之内|内|以上|及以上|及以下)?")


def _quantities(text: str) -> list[tuple[float, str]]:
    """The measured amounts a customer states (我家离医院300多公里, 70岁): (value, unit)."""
    return [(float(m.group(1)), "岁" if m.group(2) == "周岁" else "公里" if m.group(2) == "千米" else m.group(2))
            for m in _STATED_QTY.finditer(text or "")]


def _quantity_fit(stated: list[tuple[float, str]], clause: str) -> int:
    """Whether a clause's bounds (200 公里以内, 200 公里以上, 超过 65 周岁) hold the amounts the customer
    stated: 1 when one does, -1 when one rules them out, 0 when the clause bounds none of them."""
    if not stated:
        return 0
    fit = 0
    for m in _BOUND_QTY.finditer(clause):
        word, n, unit, side = m.group(1) or "", float(m.group(2)), m.group(3), m.group(4) or ""
        unit = "岁" if unit == "周岁" else "公里" if unit == "千米" else unit
        for v, u in stated:
            if u != unit:
                continue
            if side in ("以内", "以下", "之内", "内", "及以下") or word in ("不足", "少于", "低于"):
                ok = v <= n
            elif side in ("以上", "及以上") or word in ("超过", "大于", "高于", "满"):
                ok = v >= n
            else:
                continue
            if not ok:
                return -1
            fit = 1
    return fit


def _common_step(kb, manual_id: str, aspect) -> _Hit | None:
    """The application step a manual repeats for three or more of its services, word for word (a step: it
    names two of the aspect's words, 公众号 / 点击 / 进入 …): how its services are applied for when no
    service is named. None when the services each have their own."""
    seen: dict[str, tuple[set, Any]] = {}
    for c in kb.clauses(manual_id=manual_id):
        if c.service_id is not None and len(set(aspect.clause.findall(c.text))) >= 2 and not _heading(c.text):
            key = norm(re.sub(r"^\s*[-·•]?\s*[(（]?\d{1,2}[)）.、]?\s*", "", c.text))
            owners, first = seen.get(key, (set(), c))
            owners.add(c.service_id)
            seen[key] = (owners, first)
    best = max(seen.values(), key=lambda v: len(v[0]), default=None)
    if best is None or len(best[0]) < 3:
        return None
    return _Hit(best[1], float(len(best[0])), None, None, aspect)


# Rules a manual states once for all its services: asked with no service, its clause stating them answers.
_WHOLE_MANUAL = {"transfer"}


def _same_polarity(kb, r: Reading, hit: _Hit) -> _Hit:
    """A clause for the case where something has not happened (若预约时间未过期:) when the customer says it has
    (预约时间已经过了): the sibling clause for the case where it has (…已过期:), when one stands next to it."""
    m = re.search(r"(未|没有|尚未)([\u4e00-\u9fff]{2})", hit.clause.text[:24])
    if not m:
        return hit
    w = m.group(2)
    if re.search(r"(未|没|还没|尚未|不)" + w[0], r.text) or not re.search(rf"(已|已经){w[0]}|{w[0]}了", r.text):
        return hit
    siblings, i = _in_manual(kb, hit.clause)
    for c in (siblings[max(0, i - 2):i] + siblings[i + 1:i + 3]) if i is not None else ():
        if re.search(r"已(经)?" + w, c.text[:30]) and c.section == hit.clause.section:
            return _Hit(c, hit.score, hit.service, None, hit.aspect)
    return hit


def _heading(text: str) -> bool:
    """A title line (服务条件, 五、服务流程、申请条件…): it names what follows and answers nothing."""
    t = re.sub(r"^[(（]?[\d一二三四五六七八九十]{1,2}[)）、.．]\s*", "", text.strip()).rstrip(":：")  # (4) 服务次数:
    return len(t) <= 24 and not re.search(r"[，。；,;：:！？!?\d]", t)  # a sentence ends with 。


VALUED_SHARE = 0.5  # a quantity asked: the clause with a number wins unless it shares much less
STRONG_OVERLAP = 6.0  # a clause sharing this much of the customer's words answers them without an aspect


def _content_clause(kb, r: Reading, svcs: list | None, scope: Scope) -> _Hit | None:
    """The clause that shares most of what the customer said (no aspect needed), when it shares enough."""
    words, _extra = _query_words(kb, r, [n for s in (svcs or []) for n in (s.name, *s.aliases)])
    words = {w for w in words if kb.idf(w) >= MIN_OWN_OVERLAP}
    if not words:
        return None
    best: _Hit | None = None
    # the rarest word asked about (输液 in 能给打点滴输液吗) counts twice, in a question on no stated case
    key = max((w for w in words if len(w) >= 2), key=kb.idf, default="") if not r.facts.about_case() else ""
    stated = _quantities(r.text)
    for svc, clauses, weight in _pools(kb, svcs, scope):
        for c in clauses:
            if _heading(c.text):
                continue
            fit = _quantity_fit(stated, c.text)
            if fit < 0:
                continue  # 在 200 公里以内 and the customer lives 300 公里 away
            own, shared = kb.overlap(words, c.id)
            if not shared or max(kb.idf(w) for w in shared) < 4.0:
                continue
            boost = kb.idf(key) if key in shared and kb.idf(key) >= KEY_IDF else 0.0
            often = 0.1 * min(c.text.count(key), 5) if key else 0.0  # 病房 said four times: about 病房
            sc = (own + boost + often + 3.0 * fit) * weight
            if best is None or sc > best.score:
                best = _Hit(c, sc, svc, None, None)
    return best if best is not None and best.score >= STRONG_OVERLAP else None


_EVENT = r"(出院|手术|确诊|生效|投保|住院|达标|开具|购买)"
# a span after an event (出院已经20天, 手术后一个半月): the event, then the number and its unit
_SINCE_EVENT = re.compile(_EVENT + r"[^，。？?,.;；!！]{0,6}?(\d+|[一二两三四五六七八九十]+)\s*个?\s*(个月|天|日|周|礼拜|星期|年)")


def since_event(text: str) -> bool:
    """The message states a span after an event (出院已经两个月了): a fact the rules can judge."""
    return bool(_SINCE_EVENT.search(_halves(text)))


_SPAN = {"天": 1, "日": 1, "周": 7, "礼拜": 7, "星期": 7, "个月": 30, "月": 30, "年": 365}


def _days(n: str, unit: str) -> int:
    from assist.text import cn_number

    v = int(n) if n.isdigit() else (cn_number(n) or 0)
    return v * _SPAN.get(unit, 1)


def _clause_says_no(kb, r: Reading, svc, clause: str, f) -> str:
    """Why the clause's own condition rules out the case the customer states ('' when it does not): a
    deadline after an event already passed (出院后15天内 / 出院已经20天), an age limit, or what was asked
    named among the exclusions."""
    why = _deadline_or_age(r, clause, f)
    if why:
        return why
    if f.age is not None and _AGE_RULE.search(clause):
        return ""  # the clause's "no" is for an age the customer's is not
    if _says_no(kb, r, svc, [clause]):
        return "手册写明不在服务范围内。"
    return ""


# Clauses that say a service is for inpatients, strongest first: the one quoted to an outpatient.
_INPATIENT_STRENGTH = (re.compile(r"(仅限|限于|仅面向|只面向|仅针对|仅适用)[^，。；;]{0,12}住院"), re.compile(r"住院期间"),
                       re.compile(r"住院(治疗|患者|客户)"))


def _conditions_against(kb, r: Reading, svc, f) -> tuple[str, Any]:
    """A clause of the service whose condition the stated case fails: a deadline after an event already
    passed, an age limit, or a requirement the customer says is not met (还没开住院证 / 并且已开具…住院证).
    ("", None) when none does."""
    lx = lexicon()
    missing: list[str] = []  # what is not done, as runs of words: 给出院小结 -> 出院小结, 出院, 小结
    for m in lx.negated.finditer(without_names(kb, r.text)):
        toks = kb.tokens(m.group("x"))
        runs = {"".join(toks[i:j]) for i in range(min(2, len(toks))) for j in range(i + 1, len(toks) + 1)}
        missing += [w for w in runs if len(w) >= 2 and not any(k in w for k in lx.negated_skip)
                    and w not in _stop_words()]
    missing.sort(key=len, reverse=True)
    if f.outpatient and "住院" in (svc.name + (svc.description or "")):  # 只是看门诊: a service for inpatients
        held = [c for c in kb.clauses(service_id=svc.id) if lx.inpatient_clause.search(c.text)]
        held.sort(key=lambda c: next((i for i, rx in enumerate(_INPATIENT_STRENGTH) if rx.search(c.text)),
                                     len(_INPATIENT_STRENGTH)))
        if held:
            return "这项服务是为住院的客户提供的，您说的是看门诊。", held[0]
    said_kinds = _specialties_said(r.text)
    for c in kb.clauses(service_id=svc.id) if said_kinds else ():
        needed = [k for k in lx.specialties  # 所患疾病为…骨科疾病: a condition, not a row that lists 心血管疾病护理
                  if re.search(r"(为|属于|仅限|限于|患有|所患)[^，。；;]{0,16}" + k + r"(疾病|手术)", c.text)]
        if needed and not said_kinds & set(needed):
            named = next(w for k in said_kinds for w in lx.specialties[k] if w in r.text)
            return f"这项服务限{needed[0]}疾病，您说的{named}不属于{needed[0]}。", c
    clauses = kb.clauses(service_id=svc.id)
    told = _consequence_clause(kb, r, svc, clauses)
    if told is not None:  # 疑似重疾…若经专家门诊确诊不是重疾，则不再安排…: the case the customer describes
        c, then = told
        return f"手册写明这种情况{then}。", c
    for i, c in enumerate(clauses):
        why = _deadline_or_age(r, c.text, f)
        if why and not _another_case(kb, r, c.text, clauses[max(0, i - 3):i + 4]):
            return why, c
        if missing and lx.requirement.search(c.text):
            held = [w for w in missing if w in c.text]
            if held:
                return f"需要先满足“{held[0]}”这个条件，您说的还没有。", c
    return "", None


_IF = re.compile(r"若|如果|如|一旦|假如|倘若|凡")
_THEN_NOT = re.compile(r"不再|不予|(?:不能|无法|不可)(?:再|继续)?|将不|自动失效|视为放弃|不接受|不支持")


def _consequence_clause(kb, r: Reading, svc, clauses: list):
    """A clause of the service that states what happens in a case (若…则不再…) whose case part holds
    several of the customer's own words (疑似, 专家门诊, 不是重疾): None when none does."""
    words, _extra = _query_words(kb, r, [svc.name, *svc.aliases])
    best, best_score = None, 0.0
    for c in clauses:
        m_if, m_not = _IF.search(c.text), _THEN_NOT.search(c.text)
        if m_if is None or m_not is None or m_not.start() < m_if.start():
            continue
        case = c.text[m_if.start():m_not.start()]
        shared = {w for w in words if len(w) >= 2 and w in case}
        score = sum(kb.idf(w) for w in shared)
        if len(shared) >= 3 and max(kb.idf(w) for w in shared) >= 6.0 and score > best_score:
            then = re.split(r"[。；;,，]", c.text[m_not.start():])[0]
            best, best_score = (c, then), score
    return best if best_score >= 12.0 else None


_CASE_LABEL = re.compile(r"^\s*(?:[(（]?\d{1,2}[)）.、]\s*)?([\u4e00-\u9fff]{2,12})[:：]")


def _another_case(kb, r: Reading, clause: str, near: list) -> bool:
    """The clause is one labelled case of several next to it (一般住院手术:… / 重大疾病住院手术:…) and the
    customer's words fit another case better (重疾住院手术): its condition is not theirs."""
    m = _CASE_LABEL.match(clause)
    if not m:
        return False
    text = re.sub(r"(不是|并非|不属于|不算|没有|没|非)[\u4e00-\u9fff]{1,6}", "，", r.text)  # (不是重疾) is not said
    said = text + "".join(n for term, names in lexicon().manual_terms.items() if term in text for n in names)
    own = set(kb.tokens(m.group(1)))
    labels = [set(kb.tokens(x.group(1))) for c in near if c.text != clause for x in [_CASE_LABEL.match(c.text)] if x]
    labels = [t for t in labels if {w for w in t & own if len(w) >= 2}]  # siblings share a word (住院, 手术)

    def fit(toks: set[str], others: set[str]) -> int:
        return sum(1 for w in toks - others if len(w) >= 2 and w in said)

    return any(fit(t, own) > fit(own, t) for t in labels)


def _specialties_said(text: str) -> set[str]:
    """The medical specialties whose words the message uses (阑尾 -> 普外科; zh.yaml specialties)."""
    return {k for k, ws in lexicon().specialties.items() if any(w in text for w in ws)}


_CAP_DAYS = re.compile(r"(?:累计|合计|共计|最长|最多|上限)[^，。；,;\d]{0,6}?(\d+)\s*(?:天|日)(?!内|以内|之内)")


def _days_cap(kb, svc) -> tuple[int, Any] | None:
    """The most days the service gives in a period (全保单年度累计不超过30天 / 最长7天), with its clause."""
    best = None
    for c in kb.clauses(service_id=svc.id):
        m = _CAP_DAYS.search(c.text)
        if m and (best is None or ("累计" in c.text and "累计" not in best[1].text)):
            best = (int(m.group(1)), c)
    return best


_AGE_RULE = re.compile(r"(\d+)\s*周?岁\s*[（(]?含?[)）]?\s*(以下|及以下)[^。；;]{0,16}?(无法|不能|不可|不予|不提供|不适用)")


_HALF = ((re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*个半\s*月"), lambda m: f"{_days(m.group(1), '个月') + 15}天"),
         (re.compile(r"半\s*个\s*月"), lambda m: "15天"), (re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*个?半\s*年"),
                                                          lambda m: f"{_days(m.group(1), '年') + 182}天"),
         (re.compile(r"半\s*年"), lambda m: "182天"))
_AHEAD = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*个?\s*(个月|天|日|周|礼拜|星期)\s*(以后|之后|后)")
_WINDOW = re.compile(r"(?:仅|只)?(?:可|能)?预约\s*(\d+)\s*(日|天)(?:内|以内|之内)")


@lru_cache(maxsize=256)  # read once per message, not once per clause of the service
def _halves(text: str) -> str:
    """Spans said with a half (一个半月, 半个月, 半年) as days, so that they can be compared."""
    for rx, put in _HALF:
        text = rx.sub(put, text)
    return text


def _deadline_or_age(r: Reading, clause: str, f) -> str:
    q = _halves(r.text)
    window = _WINDOW.search(clause)
    if window and re.search(r"约|预约|安排", q):  # 仅可预约7日内的服务, asked for a month ahead
        for m in _AHEAD.finditer(q):
            if _days(m.group(1), m.group(2)) > int(window.group(1)):
                return f"只能预约{window.group(1)}{window.group(2)}内的服务，您说的时间超出了。"
    for m in _SINCE_EVENT.finditer(q):
        event, said = m.group(1), _days(m.group(2), m.group(3))
        limit = event + r"后?\s*(\d+)\s*(个月|天|日|周|年)"
        for d in (*re.finditer(limit + r"\s*(?:内|以内|之内)", clause),  # 出院后15天内
                  *re.finditer(r"(?:至|到)[^，。；,;]{0,4}?" + limit, clause)):  # 服务至客户出院后5天
            if said > _days(d.group(1), d.group(2)):
                return f"要在{event}后{d.group(1)}{d.group(2)}内，您说的已经超过了。"
    if f.age is not None:
        young = _AGE_RULE.search(clause)
        if young:  # 6 周岁（含）以下被保险人无法开具处方药品: an age the clause rules out
            if f.age <= int(young.group(1)):
                return f"{young.group(1)}周岁（含）以下{young.group(3)}使用。"
            return ""
        low = re.search(r"(\d+)\s*周?岁(以上|及以上)", clause)
        if low and f.age < int(low.group(1)):
            return f"要求{low.group(1)}周岁以上。"
        high = re.search(r"(\d+)\s*周?岁(以下|及以下)", clause)
        if high and f.age > int(high.group(1)):
            return f"要求{high.group(1)}周岁以下。"
    return ""


def _says_no(kb, r: Reading, svc, clauses: list[str]) -> bool:
    """A yes/no question (…吗, 能不能 …) whose key word the quoted clause puts right after a negation
    (可以指定医院、科室，但是不能指定医生); a changed case after an eligibility answer (如果她转进ICU了呢) asks it too."""
    if not re.search(_YES_NO_FORMS, r.text) and "changed_case" not in r.cues:
        return False
    words = _question_words(kb, r, svc)
    neg = r"(不能|不可以|不可|无法|不支持|不提供|不包括|不包含|不含|不予|不得|不保证|不允许|不接受|不负责)"
    asked = without_names(kb, r.text)
    if svc is not None:
        asked = asked.replace(svc.name, "，")
    for t in clauses:
        if any(len(x) >= 2 and x in asked for x in _excluded_items(t)):
            return True
        for w in words:
            for m in re.finditer(re.escape(w), t, re.IGNORECASE):
                before, after = t[max(0, m.start() - 6):m.start()], t[m.end():m.end() + 12]
                if re.search(neg + r"[\u4e00-\u9fff]{0,2}\s*$", before):  # 不支持 ICU 病房
                    return True
                lo = max(0, m.start() - 48)
                listed = re.search(neg + r"[\u4e00-\u9fffA-Za-z0-9 、及和或]{0,40}、[\u4e00-\u9fffA-Za-z0-9 ]{0,8}$",
                                   t[lo:m.start()])
                if listed and _in_list_only(asked, w, t, lo + listed.start()):
                    return True  # 不支持 ICU 病房、特需病房、…、各科室重症监护室: an item of the list
                if re.search(r"(不指定|不可指定|不能指定|无法指定|不保证)[\u4e00-\u9fff、及和或]{0,8}$",
                             t[max(0, m.start() - 14):m.start()]):
                    return True  # 不指定具体检查设备及医生: every item of the list
                if re.match(r"[^。；;]{0,8}(不属于|不在|除外|不包括|不含|不提供|不适用)", after):
                    return True
    return False


_ITEMS = r"((?:[\u4e00-\u9fff]{1,8}[、,，和及或]){0,8}[\u4e00-\u9fff]{1,8})"


def _in_list_only(asked: str, word: str, clause: str, neg_at: int) -> bool:
    """The question's words around `word`, as far as the clause shares them, occur only in the negated
    list: 重症监护室 in "不支持…、各科室重症监护室" yes; 普通病房 of "仅支持普通病房住院,不支持…特需病房" no."""
    i = asked.find(word)
    if i < 0:
        return True
    a, b = i, i + len(word)
    while a > 0 and asked[a - 1:b] in clause:
        a -= 1
    while b < len(asked) and asked[a:b + 1] in clause:
        b += 1
    phrase = asked[a:b]
    return all(m.start() >= neg_at for m in re.finditer(re.escape(phrase), clause))


def _excluded_items(clause: str) -> list[str]:
    """What a clause lists as outside the service: "急诊、产科、口腔科不属于服务范畴" -> 急诊, 产科, 口腔科;
    "不包括挂号费、药费" -> 挂号费, 药费. Searched for in the question, whatever its word cuts."""
    out: list[str] = []
    for m in re.finditer(_ITEMS + r"(?:等)?(?:均)?(不属于|不在[^，。；]{0,6}范围|除外|不适用)", clause):
        out += re.split(r"[、,，和及或]", m.group(1))
    for m in re.finditer(r"(不包括|不包含|不含|不提供|不支持|不承担|不可指定|不能指定)" + _ITEMS, clause):
        verb = "指定" if m.group(1).endswith("指定") else ""  # 不可指定医生: asked as 指定医生
        out += [verb + x for x in re.split(r"[、,，和及或]", m.group(2))]
    return [x for x in (re.sub(r"^(如|例如|包括|以及|比如)", "", x) for x in out) if x]


def _excluded_reply(kb, r: Reading, svc, followup: bool = False) -> Reply | None:
    """A yes/no question (or a follow-up to one) naming something a clause of the service lists as outside
    it: no, with that clause."""
    if not followup and not re.search(_YES_NO_FORMS + "|行不行", r.text):
        return None
    asked = _without_service(without_names(kb, r.text), svc)
    for c in kb.clauses(service_id=svc.id):
        items = [x for x in _excluded_items(c.text) if len(x) >= 2 and (x in asked or (
            x.startswith("指定") and re.search("指定.{0,5}" + re.escape(x[2:]), asked)))]  # 指定看哪个医生
        if items:
            quote, src = _with_continuation(kb, c)
            return Reply("fact", f"不可以。\n手册原文：“{quote}”",
                         sources=[src], options=[("转人工", "/human_handoff")], aspect="excluded")
    return None


def _not_excluded_reply(kb, r: Reading, svc) -> Reply | None:
    """"那挂消化内科呢？" right after "口腔科不属于服务范畴": an item of the same kind (a department, a fee)
    that the service's exclusion list does not name is within the service, with that list quoted."""
    asked = _noun_phrases(kb, _without_service(without_names(kb, r.text), svc))
    for c in kb.clauses(service_id=svc.id):
        items = [x for x in _excluded_items(c.text) if len(x) >= 2]
        kinds = {x[-1] for x in items}
        other = [w for w in asked if w[-1] in kinds and w not in items and not any(x in w for x in items)]
        if items and other:
            quote, src = _with_continuation(kb, c)
            return Reply("fact", f"可以使用{svc.name}：手册列出的不属于服务范围的是{'、'.join(items)}，{other[0]}"
                         f"不在其中（其他条件仍按手册）。\n手册原文：“{quote}”", sources=[src], aspect="excluded")
    return None


def _noun_phrases(kb, text: str) -> list[str]:
    """Runs of adjacent words of two or more characters (消化 + 内科 -> 消化内科; 挂, 那 break a run)."""
    out, run, end = [], "", -1
    for w in kb.tokens(text):
        at = text.find(w, max(end, 0))
        if len(w) >= 2 and at >= 0 and (at == end and run):
            run += w
        elif len(w) >= 2 and at >= 0:
            if run:
                out.append(run)
            run = w
        else:
            if run:
                out.append(run)
            run = ""
        end = at + len(w) if at >= 0 else end
    return out + ([run] if run else [])


def _customer_pays(kb, r: Reading, svc, clauses: list[str]) -> bool:
    """"挂号费你们出吗" and the quoted clause leaves that cost to the customer (由客户自行承担…挂号费)."""
    if "pays" not in r.cues:
        return False
    words, self_pay = _question_words(kb, r, svc), lexicon().self_pay
    return any(self_pay.search(t) and any(w in t for w in words) for t in clauses)


def _question_words(kb, r: Reading, svc) -> list[str]:
    """The question's content words (two characters or more, no names, not the service's name)."""
    text = without_names(kb, r.text)
    if svc is not None:
        text = text.replace(svc.name, "，")
    return [w for w in kb.tokens(text) if len(w) >= 2 and w not in _stop_words()]


def _value(a: Aspect, text: str, asked: str = ""):
    """The value of the aspect's unit in a clause; a duration is not a lead time (提前 48 小时). Of several,
    the one that follows what the customer asked about (一般手术…两次。重大疾病手术…6次 asked about 重疾)."""
    found = list(_values(a, text, asked))
    if len(found) <= 1 or not asked:
        return found[0] if found else None
    grams = {asked[i:i + 2] for i in range(len(asked) - 1) if re.fullmatch(r"[\u4e00-\u9fff]{2}", asked[i:i + 2])}
    grams |= {n for term, names in lexicon().manual_terms.items() if term.lower() in asked.lower() for n in names}

    def near(m) -> int:  # how many of the customer's words stand in the stretch before this value
        start = max(0, max((x.end() for x in found if x.end() <= m.start()), default=0))
        stretch = text[start:m.start()]
        return sum(1 for g in grams if g in stretch)

    best = max(found, key=near)
    return best if near(best) > near(found[0]) else found[0]


# The unit a question names (几个小时, 多少天): a duration in another unit (一年) does not answer it.
_ASKED_UNIT = ((re.compile(r"(几|多少)\s*个?\s*(小时|钟头)"), ("小时", "分钟")), (re.compile(r"(几|多少)\s*分钟"), ("分钟",)),
               (re.compile(r"(几|多少)\s*个?\s*(天|日)(?!期)"), ("天", "日")), (re.compile(r"(几|多少)\s*个\s*月"), ("月",)),
               (re.compile(r"(几|多少)\s*年"), ("年",)))


def _asked_units(asked: str) -> tuple[str, ...]:
    return next((units for rx, units in _ASKED_UNIT if rx.search(asked)), ())


_DATE = re.compile(r"\d{4}\s*年(\s*\d{1,2}\s*月(\s*\d{1,2}\s*[日号])?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]")


def _values(a: Aspect, text: str, asked: str = ""):
    if a.unit is None:
        return
    units = _asked_units(asked) if a.key in ("duration", "lead_time") else ()
    for m in a.unit.finditer(text):
        if units and not any(u in m.group(0) for u in units):
            continue  # 陪诊一次能陪几个小时 and the clause's 一年
        if a.key in ("duration", "response_time") and re.search(r"提前\s*$|至少\s*$", text[max(0, m.start() - 4):m.start()]):
            continue
        if re.search(r"\d\s*[x×*X]\s*$", text[max(0, m.start() - 4):m.start()]):
            continue  # 7x24 小时: round the clock, not a quantity
        if any(d.start() <= m.start() < d.end() for d in _DATE.finditer(text)):
            continue  # 2022 年 5 月 19 日: a date, not a length of time
        if a.key == "lead_time" and re.match(r"\s*(到达|到院|抵达|到)", text[m.end():m.end() + 3]) \
                and not re.search(r"提前.{0,6}(到|来)", asked):
            continue  # 陪诊员提前 15-30 分钟到达: when staff arrive, not how far ahead to book
        if a.key == "duration" and text[m.end():m.end() + 1] == "内" and (
                "工作" in m.group(0) or re.match(r"内\s*[^，。；,;]{0,3}?(响应|联系|完成|安排|反馈|回复|处理|审核|出具|送达|到达|预约|启动)",
                                              text[m.end():m.end() + 8])):
            continue  # "4 工作小时内响应": a deadline, not how long the service lasts ("时间为 4小时内" is)
        if a.key == "duration" and re.match(r"\s*(内\s*(不限次|有效|可用|可以使用|使用)|及?以上)", text[m.end():m.end() + 8]):
            continue  # "一年内不限次数使用", "五年以上…经验", "2 天及以上": not how long one use lasts
        yield m


KEY_IDF = 4.5  # a word this rare is what a question is about
MISSING_IDF = 7.5  # a word this rare left out by every clause quoted: the manual may not say it


def _unanswered_words(kb, r: Reading, svc, hits: list) -> list[str]:
    """The customer's key words that none of the quoted clauses holds, when they weigh more than the
    words the clauses do hold (empty: the clauses answer what was asked)."""
    from assist.understand import without_names

    words, extra = _query_words(kb, r, [n for s in ([svc] if svc else []) for n in (s.name, *s.aliases)])
    key = {w for w in words - extra if _rarity(kb, w) >= KEY_IDF and len(w) >= 2}
    asking = "".join(m.group(0) for a in r.aspects if a.key in ("cancel", "transfer") for p in a.ask
                     for m in p.finditer(r.text)
                     if any(h.aspect is a and a.clause.search(h.clause.text) for h in hits))
    if not key or not hits:
        return []
    raw = _manual_text(kb, hits[0].clause.manual_id)
    held: set[str] = set()
    for h in hits:
        _, shared = kb.overlap(key, h.clause.id)
        held |= shared
    # a word of the question (a whole word, not a function word) that the manual never uses (英文版,
    # 利息): the manual cannot be answering it
    said = set(kb.tokens(without_names(kb, r.text)))
    stop = _stop_words()
    missing = sorted((w for w in key - held if w in said and w not in raw and w not in stop and w not in asking
                      and re.fullmatch(r"[\u4e00-\u9fff]{2,}", w)), key=lambda w: -_rarity(kb, w))
    # 改到下个月 asks what a 不允许改期 clause answers: the aspect's own asking words are not missing
    if missing and not held:  # the quoted clauses hold none of the question's words
        return missing
    return []


def _unsaid_focus(kb, r: Reading, svc) -> list[str]:
    """What the question pins down (zh.yaml `focus`: 什么资质, 快递费谁出, A还是B, 路费另外付吗) when the
    service's own text mentions none of it: the manual does not say. Empty when nothing is pinned down,
    when the thing is an aspect the clauses are searched for (什么材料), or when the text mentions it."""
    lx = lexicon()
    base = without_names(kb, r.text)
    asked = _without_service(base, svc)
    found: list[str] = []
    chosen: set[str] = set()  # what the customer wants to choose (指定/选 X): each must be in the text
    for p in lx.focus:
        if "whole" in p.groupindex:  # 指定女陪诊员: the whole phrase (with its 陪诊) is what the manual would say
            for m in p.finditer(base):
                whole = m.group("whole")
                if not re.search("指定|选|挑", base[max(0, m.start("whole") - 2):m.start("whole")]):
                    whole = re.sub(r"^.*是(?=[\u4e00-\u9fff]{2})", "", whole)  # 陪诊的人是男的女的能挑吗
                    whole = re.split(r"[，,]", _without_service(whole, svc))[-1].lstrip("的")  # 陪诊医院能选吗
                whole = re.sub(r"^(看|找|要)?(具体|特定)?(的)?(哪个|哪位|哪家|哪一位|某个|某位|某家|一个|一位|个|位)", "",
                               whole)  # 指定具体哪位专家: 专家
                if len(whole) >= 2 and whole not in _stop_words() and not any(
                        a.asked_in(whole) for a in lx.aspects if a.key != "choose"):  # 女护工: the manual's words or none
                    found.append(whole)
                    chosen.add(whole)
            continue
        for m in p.finditer(asked):
            phrase = re.sub(r"(这些|那些|这个|那个|这种|之类|等等|等|都|们)+$", "", re.sub(r"^.*的", "", m.group("f")))
            for f in re.split(r"、|或者|或是|以及", phrase):  # 挂号费、检查费这些是谁出: each thing named
                f = re.sub(r"^(那个|这个|那|这)?(在|用|去|找|是|到|让)?", "", f)
                head = next(iter(kb.tokens(f)), "")  # 车来接 -> 车: what is asked for comes first
                if "还是" in f or any(f.startswith(w) for w in lx.payers):
                    continue  # 保险公司出还是我自己出: who pays, answered from the fee clauses
                if len(head) < 2 or len(f) > 2 * len(head) + 2:
                    f = head
                if len(f) >= 2 and not any(a.asked_in(f) for a in lx.aspects) and f not in _stop_words() \
                        and not (f in lx.raw["vague_words"] and set(r.aspect_keys()) - {"content", "who"}):
                    # 上传什么东西 asks for the materials; 礼品是什么东西 asks what the gift is
                    found.append(f)
    if not found:
        return []
    lines = kb._manual_lines(svc.manual_id) or []
    own = re.sub(r"\s+", "", "".join(lines[svc.line_start - 1:svc.line_end]))
    unsaid_chosen = [f for f in dict.fromkeys(found) if f in chosen and f not in own]
    if unsaid_chosen:
        return unsaid_chosen  # 能选美年大健康吗: that name is not in it
    found = [f[:-1] if len(f) >= 3 and f[-1] in _TRAILING_VERBS and f[:-1] in own else f for f in found]  # 病房用
    if any(f in own for f in found if f not in chosen):
        return []  # 挂号费、检查费谁出: the text speaks of some of it, its fee clauses answer
    return [f for f in dict.fromkeys(found) if f not in own]  # 什么资质: none of it is in the text


_TRAILING_VERBS = "用做去看住办买约"  # 什么病房用: the thing asked about is 病房


def _unlisted_member(kb, r: Reading, svc, scope: Scope) -> Reply | None:
    """'Does X count as Y' about a thing X that the manual never mentions: the manual does not say, with the
    clause that uses the category Y (or the service's best clause) and the hotline. None otherwise."""
    base = _without_service(without_names(kb, r.text), svc) if svc is not None else without_names(kb, r.text)
    manuals = [svc.manual_id] if svc is not None else sorted(scope.manual_ids or ())
    matches = [m for p in lexicon().counts_as for m in p.finditer(base)] if manuals else []
    raw = "".join(_manual_text(kb, mid) for mid in manuals) if matches else ""  # only when a pattern matched
    for m in matches:
        x = re.sub(r"^.*?(那|请问|问一下|问下|我的|我是|如果|要是|像|比如|得的是|得了|患了|是)", "", m.group("x"))
        x = re.sub(r"^(的|个|种)", "", x)
        y = (m.group("y") or "").strip("的")
        if len(x) < 2 or x in raw or x in _stop_words() or x in lexicon().raw["vague_words"] \
                or re.search(r"\d|[一二两三四五六七八九十几]|多少|哪|什么|要|能|会|可以|重新|还|也|再|就|用|吗", x) \
                or any(w in x for w in lexicon().relation_words) \
                or any(w in raw for w in kb.tokens(x) if len(w) >= 3):
            continue
        pool = kb.clauses(service_id=svc.id) if svc is not None else [c for mid in manuals for c in kb.clauses(manual_id=mid)]
        clause = next((c for c in pool if y and len(y) >= 2 and y in c.text), None)
        ins = (kb.resolve_insurer(svc.insurer) if svc is not None else None) or scope.insurer
        line, srcs = _hotline(kb, ins, scope, svc)
        what = f"“{x}”是否算{('“' + y + '”') if y else '在范围内'}"
        text = f"手册里没有提到“{x}”，没有写{what}。"
        if clause is not None:
            text += f"相关的内容是：\n手册原文：“{_clip(clause.text, 120)}”"
            srcs = [kb.clause_source(clause)] + srcs
        text += "\n" + (f"可以拨打{line}咨询，" if line else "") + "也可以输入“转人工”由客服帮您确认。"
        return Reply("not_in_manual", text, sources=srcs, options=[("转人工", "/human_handoff")], handoff=True)
    return None


def _without_service(text: str, svc) -> str:
    """The text without the service's own names: what is left is what it asks of the service."""
    for n in sorted({svc.name, *svc.aliases}, key=len, reverse=True):
        text = text.replace(n, "，")
    return text


def _foreign_words(kb, r: Reading, svc) -> list[str]:
    """Words of the question (whole words, not function words, not names) that the service's manual never
    uses: what the customer asks about is not in it."""
    text = _without_service(without_names(kb, r.text), svc)
    raw, stop = _manual_text(kb, svc.manual_id), _stop_words()
    words = [w for w in dict.fromkeys(kb.tokens(text))
             if re.fullmatch(r"[\u4e00-\u9fff]{2,}", w) and w not in raw and w not in stop
             and not (len(w) >= 3 and (w[:-1] in raw or w[1:] in raw))]  # 病房用: the manual's 病房 and a verb
    out: list[str] = []
    for w in words:  # 开病 + 假条 said as one: 开病假条
        if out and out[-1] + w in text:
            out[-1] += w
        else:
            out.append(w)
    return out


def _rarity(kb, w: str) -> float:
    """A word's idf over the clauses; a word no clause uses is as rare as can be."""
    v = kb.idf(w)
    if v > 0:
        return v
    import math

    return math.log(1 + (len(kb._clause_features[0]) + 0.5) / 0.5)


_TEXT: dict = {}


_STOP: set[str] = set()


def _stop_words() -> set[str]:
    """Chinese function words (jionlp's list), the asking words of zh.yaml's fillers, relation words and
    context words."""
    if not _STOP:
        import jionlp

        _STOP.update(jionlp.stopwords_loader())
        _STOP.update(lexicon().fillers)
        _STOP.update(lexicon().relation_words)  # who the customer is asking for is context (老婆, 我妈)
        _STOP.update(lexicon().raw["context_words"])  # when (上周) and how widely (全省) set the scene
    return _STOP


_IN_MANUAL: dict = {}


def _in_manual(kb, c) -> tuple[list, int | None]:
    """The clauses of c's manual in order and c's place among them (cached per store object, like
    _manual_text): what comes before and after a quoted clause."""
    key = (id(kb), c.manual_id)
    if key not in _IN_MANUAL:
        rows = kb.clauses(manual_id=c.manual_id)
        _IN_MANUAL[key] = (rows, {x.id: k for k, x in enumerate(rows)})
    rows, place = _IN_MANUAL[key]
    return rows, place.get(c.id)


def _manual_text(kb, manual_id: str) -> str:
    """A manual's whole text on one line (cached per store object): is a word anywhere in it?"""
    key = (id(kb), manual_id)
    if key not in _TEXT:
        _TEXT[key] = re.sub(r"\s+", "", "".join(kb._manual_lines(manual_id) or []))
    return _TEXT[key]




def _best_clause(kb, r: Reading, svcs: list | None, scope: Scope) -> _Hit | None:
    hits = _best_clauses(kb, r, svcs, scope)
    return hits[0] if hits else None


def _clause_reply(kb, r: Reading, svc, hit, scope: Scope) -> Reply:
    hits = hit if isinstance(hit, list) else ([hit] if hit else [])
    asked = [a for a in r.aspects if a.key != "content"]
    topics = [a for a in asked if a.key == "waiting"] if _WAITING_ASKED.search(r.text) else []
    if topics:  # 等待期是多少天: a number of days from a clause about something else is no answer
        hits = [h for h in hits if h.aspect is None or h.aspect.key not in _QUANTITIES
                or any(t.clause.search(h.clause.text) for t in topics)] or hits[:0]
    if not hits:
        labels = "、".join(a.label for a in asked) or "这个问题"
        what = f"{svc.name}的{labels}" if svc is not None else labels
        return _silent(kb, scope, what, svc)
    parts, srcs, quoted = [], [], []
    for h in hits:
        owner = h.service or svc
        name = owner.name if owner is not None else ""
        label = h.aspect.label if h.aspect else ""
        lead = f"{name}的{label}：{h.value.strip()}。" if h.value and name else (
            f"{label}：{h.value.strip()}。" if h.value else "")
        quote, src = _with_continuation(kb, h.clause, whole_list=bool(h.aspect and h.aspect.key in ("how", "documents")))
        if h.aspect is not None and h.aspect.key in _CONTINUED_ASPECTS:
            quote, src = _with_neighbours(kb, h.clause, h.aspect, quote, src)
        parts.append((lead + "\n" if lead else "") + f"手册原文：“{quote}”")
        srcs.append(src)
        quoted.append(quote)
        if re.search(r"客服电话|热线|致电|拨打", quote) and not re.search(r"\d{5,}|\d{3,4}-\d{5,}", quote):
            ins = (kb.resolve_insurer(svc.insurer) if svc is not None else None) or scope.insurer
            line, hl = _hotline(kb, ins, scope, svc)
            if line:  # "通过客服电话申请": the number the manual gives elsewhere
                parts.append(f"{line}。")
                srcs += hl
    first = hits[0]
    no = _says_no(kb, r, svc, quoted)  # as quoted: a FAQ's question with its answer (Q:…可以要求补贴? A:…不能…)
    if _customer_pays(kb, r, svc, [h.clause.text for h in hits]):
        parts.insert(0, "这部分不在服务范围内，需要您自己承担。")
    elif no:
        parts.insert(0, "不可以。")
    name = (first.service or svc).name if (first.service or svc) is not None else ""
    unsaid = [] if any(h.value for h in hits) else _unanswered_words(kb, r, svc, hits)
    quantities = [a for a in asked if a.key in _QUANTITIES | {"discount", "number", "age"}]
    if not unsaid and quantities and len(quantities) == len(asked) and not any(h.value for h in hits) \
            and not any(_NUMBER.search(h.clause.text) for h in hits) \
            and _HOW_MUCH.search(r.text) and not _YES_NO.search(r.text) \
            and not no and not _customer_pays(kb, r, svc, [h.clause.text for h in hits]):
        unsaid = [a.label for a in quantities]  # 面额多少 and the clause states no amount: the manual does not say
    if not unsaid and any(a.key == "age" for a in asked) and not no \
            and not any(_AGE_STATED.search(h.clause.text) for h in hits):
        unsaid = ["年龄"]  # 普惠版对年龄有什么要求 and the clause says only 符合年龄…要求: no age is written
    if not unsaid and any(a.key == "waiting" for a in asked) and _WAITING_ASKED.search(r.text) \
            and not any(_WAITING_STATED.search(h.clause.text) for h in hits):
        told = _waiting_length(kb, svc, scope)
        if told is not None:  # the rules read it from the manual's table (门诊协助有30天等待期)
            return told
        unsaid = ["等待期的天数"]  # 等待期是多少天 and the clauses say only 已过等待期后
    if unsaid:  # the clauses leave out what the question is about: say so, show what is written
        ins = (kb.resolve_insurer(svc.insurer) if svc is not None else None) or scope.insurer
        line, hl_srcs = _hotline(kb, ins, scope, svc)
        head = f"手册里没有写{'、'.join(unsaid[:2])}方面的具体规定。相关的内容是：\n"
        tail = "\n" + (f"可以拨打{line}咨询，" if line else "") + "也可以输入“转人工”由客服帮您确认。"
        return Reply("not_in_manual", head + "\n".join(parts) + tail, sources=srcs + hl_srcs,
                     options=[("转人工", "/human_handoff")], handoff=True)
    return Reply("fact", "\n".join(parts), sources=srcs, aspect=first.aspect.key if first.aspect else None,
                 options=[("怎么申请", f"{name}怎么申请"), ("帮我预约", "/open_ticket")] if name else [],
                 items=[{"aspect": h.aspect.key if h.aspect else None, "value": h.value} for h in hits])


_LIST_ITEM = re.compile(r"^\s*(\(?\d+[).、)]|（\d+）|[①-⑩]|[-·•]|[一二三四五六七八九十]、)")


def _list_block(kb, c, limit: int = 300):
    """A numbered step or item with its siblings: the whole list it belongs to (steps, materials)."""
    siblings, i = _in_manual(kb, c)
    if i is None or not _LIST_ITEM.match(c.text):
        return None
    a = b = i
    while a > 0 and i - a < 6 and siblings[a - 1].line_end >= siblings[a].line_start - 2 and (
            _LIST_ITEM.match(siblings[a - 1].text) or siblings[a - 1].text.strip().endswith((":", "："))):
        a -= 1
        if siblings[a].text.strip().endswith((":", "：")):
            break
    while b + 1 < len(siblings) and b - i < 6 and siblings[b + 1].line_start <= siblings[b].line_end + 2 \
            and _LIST_ITEM.match(siblings[b + 1].text):
        b += 1
    if a == b:
        return None
    text = " ".join(x.text.strip() for x in siblings[a:b + 1])
    src = kb.source(c.manual_id, siblings[a].line_start, siblings[b].line_end, section=c.section, quote=text)
    return _clip(text, limit), src


def _list_before(kb, c, limit: int = 360):
    """The list right above a clause that points back to it (以上材料), with its heading and the clause."""
    siblings, i = _in_manual(kb, c)
    if i is None:
        return None
    a = i
    while a > 0 and i - a < 14 and siblings[a - 1].line_end >= siblings[a].line_start - 3 and (
            _LIST_ITEM.match(siblings[a - 1].text) or siblings[a - 1].text.strip().endswith((":", "："))):
        a -= 1
        if siblings[a].text.strip().endswith((":", "：")):
            break
    if i - a < 2:
        return None
    text = " ".join(x.text.strip() for x in siblings[a:i + 1])
    src = kb.source(c.manual_id, siblings[a].line_start, c.line_end, section=c.section, quote=text)
    return _clip(text, limit), src


def _with_continuation(kb, c, limit: int = 260, whole_list: bool = False):
    """The clause's quote and source, with what completes it: the answer after a question (Q: ...?), the
    items after a colon, the whole list a step belongs to (whole_list)."""
    if whole_list:
        block = _list_block(kb, c)
        if block is not None:
            return block
    if re.match(r"[^，。,]{0,12}以上(材料|资料|内容|项目|步骤|证明|文件)", c.text.strip()):
        block = _list_before(kb, c)  # "请您提前准备以上材料原件": the list it points back to, then itself
        if block is not None:
            return block
    text = c.text.strip()
    end = c.line_end
    follow = text.endswith(("?", "？")) or text.startswith(("Q", "问")) or text.endswith((":", "："))
    if follow:
        siblings, i = _in_manual(kb, c)
        if i is not None:
            for nxt in siblings[i + 1:i + 6]:
                if len(text) >= limit:
                    break
                first = not text.endswith(("?", "？")) and not _LIST_ITEM.match(nxt.text)
                if nxt.line_start > end + 2 or (first and text.endswith((":", "："))):
                    break
                text += " " + nxt.text.strip()
                end = nxt.line_end
                if not _LIST_ITEM.match(nxt.text) and not nxt.text.strip().startswith(("A", "答")):
                    break
    src = kb.source(c.manual_id, c.line_start, end, section=c.section, quote=text)
    return _clip(text, limit), src


_CONTINUED_ASPECTS = {"cancel", "exclusions", "conditions", "who", "waiting", "validity", "transfer", "fees", "choose"}


_STARTS_ITEM = re.compile(_LIST_ITEM.pattern + r"|^\s*(A|答)\s*[:：]")  # a list item, or an FAQ answer


def _with_neighbours(kb, c, aspect, quote: str, src, limit: int = 260):
    """A rule rarely fits in one sentence: the quote goes on with the sentences right after it that finish
    its item (任何因…爽约…视作已使用) or are sibling items stating the same aspect (5)…24小时以内取消…)."""
    siblings, i = _in_manual(kb, c)
    if i is None:
        return quote, src
    start, end, text = src.line_start, src.line_end, quote
    prev = siblings[i - 1] if i > 0 else None
    if prev is not None and not _LIST_ITEM.match(c.text) and _STARTS_ITEM.match(prev.text) \
            and prev.line_end >= start - 2 and prev.section == c.section and len(prev.text) + len(text) <= limit:
        text, start = prev.text.strip() + " " + text, prev.line_start  # the item this sentence finishes
    for nxt in siblings[i + 1:i + 3]:
        if nxt.line_start > end + 2 or nxt.section != c.section or _heading(nxt.text) or nxt.text.strip() in text:
            break
        item = bool(_LIST_ITEM.match(nxt.text))
        if item and not aspect.clause.search(nxt.text):
            break  # the next item is about something else
        if len(text) + len(nxt.text) > limit:
            break
        text, end = text + " " + nxt.text.strip(), nxt.line_end
    if (start, end) == (src.line_start, src.line_end):
        return quote, src
    return text, kb.source(c.manual_id, start, end, section=c.section, quote=text)


# -- small helpers ----------------------------------------------------------------------------
def _fact_source(svc, attribute: str):
    for f in svc.facts:
        if f.attribute == attribute:
            return f.source
    return svc.source


_IN_NUMBER = re.compile(r"[\d.:：\-—~～]")


def _clip(text: str | None, n: int) -> str:
    """At most n characters, never ending inside a number (10109955, 7-10 个工作日) or a time (9:00)."""
    t = re.sub(r"\s+", " ", text or "").strip()
    if len(t) <= n:
        return t
    cut = n - 1
    while cut > 0 and _IN_NUMBER.match(t[cut]) and _IN_NUMBER.match(t[cut - 1]):
        cut -= 1
    return t[:cut].rstrip() + "…"


def warm(kb=None) -> None:
    """Build what the first question would otherwise wait for: the clause index, the name index, the
    segmenter (a process serving questions calls this once at start)."""
    if kb is None:
        from assist.services import services

        kb = services().kb
    kb.features("住院")
    _ = kb._clause_features
    read(kb, "平安健康的住院协助在北京能用吗")
    from assist.names import hospital_by_sound

    hospital_by_sound(kb, "协和医院")  # the hospitals' sound index
    from assist.citecheck import name_pattern

    name_pattern(kb)  # the store's names holding a number, for the citation check (~40 ms once)
