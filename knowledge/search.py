"""BM25 retrieval over the manuals' passages and FAQ questions (pkuseg tokens).

The pkuseg model loads once per process; each store gets its own user dictionary
(knowledge.dictionary.user_dictionary) and its own index, built on first use and
cached by store URL and content fingerprint (the store is read-only after build).
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from knowledge import models as m
from knowledge.dictionary import user_dictionary

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

MAX_QUERY_CHARS = 500

# Function words and filler that carry no meaning for retrieval.
STOP_WORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 哦 嘛 么 是 在 有 和 与 及 或 也 都 就 还 又 而 并 且 把 被 给 对 从 向 以 于 为 之 其
这 那 这个 那个 这些 那些 哪 哪个 哪些 什么 怎么 怎么样 怎样 如何 为什么 多少 几 谁 我 我们 你 你们 您 他 她 它
他们 她们 它们 请 请问 想 要 能 能否 可以 可否 会 应该 需要 一下 一个 个 些 等 等等 如 若 如果 则 即 将 已 已经
上 下 中 内 后 前 时 时候 多久 多长 多长时间 哪里 哪儿 有没有 是否 是不是 能不能 可不可以 吗？ 呢？ 麻烦 谢谢 好的 一般 通过 进行 相关 具体 以及 但 但是 因为 所以 如下 下列
""".split())

_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")
_CJK_BREAK = re.compile(r"(?<=[\u4e00-\u9fff])\s*\n\s*(?=[\u4e00-\u9fff])")


@dataclass(frozen=True)
class Doc:
    id: int
    manual_id: str
    line_start: int
    line_end: int
    section: str  # passage section; FAQ question
    text: str  # passage text; FAQ answer
    service_id: Optional[int]


# -- tokenizer -----------------------------------------------------------------
class Tokenizer:
    """pkuseg with a per-store user dictionary; the model itself is shared."""

    _seg = None
    _lock = threading.Lock()

    def __init__(self, words: Iterable[str] = ()):
        self.words = frozenset(w for w in words if w)
        self._maxlen = max((len(w) for w in self.words), default=0)
        self._pre = None

    @classmethod
    def _model(cls):
        if cls._seg is None:
            import pkuseg

            cls._seg = pkuseg.pkuseg()
        return cls._seg

    def _cut(self, text: str) -> list[str]:
        with Tokenizer._lock:
            seg = self._model()
            if self._pre is None:
                import pkuseg

                self._pre = pkuseg.Preprocesser(sorted(self.words)) if self.words else pkuseg.Preprocesser([])
            seg.preprocesser = self._pre
            return seg.cut(text)

    def tokens(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text or "")
        text = _CJK_BREAK.sub("", text)  # PDF line breaks inside a sentence
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            return []
        out: list[str] = []
        for t in self._cut(text):
            t = t.strip().lower()
            if not t or t in STOP_WORDS or not _TOKEN_OK.search(t):
                continue
            out.append(t)
            if t in self.words and len(t) >= 4:  # compound: 四川大学华西医院 also counts as 华西医院, 华西
                out.extend(self._parts(t))
        return out

    def _parts(self, t: str) -> list[str]:
        parts = []
        for i in range(len(t)):
            for j in range(i + 2, min(len(t), i + self._maxlen) + 1):
                if (i, j) != (0, len(t)) and t[i:j] in self.words:
                    parts.append(t[i:j])
        return parts


# -- index ---------------------------------------------------------------------
class _Bm25:
    def __init__(self, docs: list[Doc], corpus: list[list[str]]):
        import bm25s

        self.docs = docs
        self.retriever = bm25s.BM25()
        # bm25s needs at least one token per document
        self.retriever.index([toks or ["\u2400"] for toks in corpus] or [["\u2400"]], show_progress=False)
        self.manual_ids = np.array([d.manual_id for d in docs], dtype=object)
        self.service_ids = np.array([d.service_id if d.service_id is not None else -1 for d in docs])

    def top(self, query_tokens: list[str], k: int, manual_ids: set[str] | None = None,
            service_id: int | None = None) -> list[tuple[Doc, float]]:
        if not self.docs or not query_tokens or k <= 0:
            return []
        scores = self.retriever.get_scores(query_tokens)[: len(self.docs)].astype(float)
        if manual_ids is not None:
            scores[~np.isin(self.manual_ids, list(manual_ids))] = 0.0
        if service_id is not None:
            scores[self.service_ids != int(service_id)] = 0.0
        k = min(k, len(self.docs))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(self.docs[i], float(scores[i])) for i in idx if scores[i] > 0]


class SearchIndex:
    def __init__(self, engine: Engine):
        with Session(engine) as s:
            self.tokenizer = Tokenizer(user_dictionary(s))
            passages = [Doc(p.id, p.manual_id, p.line_start, p.line_end, p.section, p.text, p.service_id)
                        for p in s.scalars(select(m.Passage).order_by(m.Passage.id))]
            faqs = [Doc(f.id, f.manual_id, f.line_start, f.line_end, f.question, f.answer, f.service_id)
                    for f in s.scalars(select(m.Faq).order_by(m.Faq.id))]
        tok = self.tokenizer.tokens
        # A passage's section path (which names its service) counts alongside its text;
        # an FAQ question counts twice its answer.
        self._passages = _Bm25(passages, [tok(d.section.replace(" > ", "。")) + tok(d.text) for d in passages])
        self._faqs = _Bm25(faqs, [tok(d.section) * 2 + tok(d.text) for d in faqs])

    def query_tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokens((text or "")[:MAX_QUERY_CHARS])

    def passages(self, text: str, k: int = 5, manual_ids: set[str] | None = None) -> list[tuple[Doc, float]]:
        return self._passages.top(self.query_tokens(text), k, manual_ids)

    def faqs(self, text: str, k: int = 5, manual_ids: set[str] | None = None,
             service_id: int | None = None) -> list[tuple[Doc, float]]:
        return self._faqs.top(self.query_tokens(text), k, manual_ids, service_id)


_cache: dict[tuple, SearchIndex] = {}
_cache_lock = threading.Lock()


def _fingerprint(engine: Engine) -> tuple:
    with Session(engine) as s:
        manuals = tuple(s.execute(select(m.Manual.id, m.Manual.sha256).order_by(m.Manual.id)).all())
        np_, mp = s.execute(select(func.count(m.Passage.id), func.max(m.Passage.id))).one()
        nf, mf = s.execute(select(func.count(m.Faq.id), func.max(m.Faq.id))).one()
        nh = s.scalar(select(func.count(m.Hospital.id)))
    return (str(engine.url), manuals, np_, mp, nf, mf, nh)


def index_for(engine: Engine) -> SearchIndex:
    """The index of a store, built once per store content."""
    key = _fingerprint(engine)
    with _cache_lock:
        idx = _cache.get(key)
        if idx is None:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]  # the store was rebuilt
            idx = _cache[key] = SearchIndex(engine)
        return idx
