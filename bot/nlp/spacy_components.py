"""spaCy pipeline components of var/nlp/zh_pipeline (registered on import).

split_scripts: pkuseg glues Latin letters or digits to Chinese in lower-case text
(保单pah2025000102 -> one token); this splits a token wherever Chinese meets ASCII letters
or digits, so identifiers and MDT are tokens of their own for DIET and the entity_ruler.
Rasa imports this module through bot.components.gazetteer_mapper before it loads the
pipeline; bot/nlp/build_spacy.py imports it too.
"""
from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

# a boundary between a CJK character and an ASCII letter/digit, either way round
_BOUNDARY = re.compile(r"(?<=[\u3400-\u9fff])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[\u3400-\u9fff])")


def split_points(text: str) -> list[int]:
    return [m.start() for m in _BOUNDARY.finditer(text)]


_ASCII = re.compile(r"^[A-Za-z0-9\-]+$")


@Language.component("split_scripts")
def split_scripts(doc: Doc) -> Doc:
    todo = [(tok.i, split_points(tok.text)) for tok in doc if len(tok.text) > 1]
    todo = [(i, pts) for i, pts in todo if pts]
    if todo:
        with doc.retokenize() as retok:
            for i, pts in todo:
                tok = doc[i]
                bounds = [0, *pts, len(tok.text)]
                orths = [tok.text[a:b] for a, b in zip(bounds, bounds[1:])]
                heads = [(tok, 0)] * len(orths)  # no parser: heads are irrelevant
                retok.split(tok, orths, heads=heads)
    # then join ASCII runs pkuseg cut apart (t | 20250210-000045 -> t20250210-000045)
    spans, start = [], None
    for tok in doc:
        joinable = bool(_ASCII.match(tok.text))
        if joinable and start is not None and not doc[tok.i - 1].whitespace_:
            continue
        if start is not None and tok.i - start > 1:
            spans.append(doc[start:tok.i])
        start = tok.i if joinable and not tok.whitespace_ else None
        if joinable and tok.whitespace_:
            start = None
    if start is not None and len(doc) - start > 1:
        spans.append(doc[start:len(doc)])
    if spans:
        with doc.retokenize() as retok:
            for sp in spans:
                retok.merge(sp)
    return doc
