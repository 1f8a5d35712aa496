"""knowledge/data/hospital_places.yaml: every reviewed entry is on its manual line and names a city."""
from __future__ import annotations

from core.config import MANUALS_DIR
from knowledge import geo
from knowledge.ingest.locate import reviewed_places
from knowledge.ingest.text import squash


def test_each_entry_occurs_on_its_manual_line():
    entries = reviewed_places()
    assert entries
    for name, e in entries.items():
        lines = (MANUALS_DIR / f"{e['manual']}.txt").read_text(encoding="utf-8").splitlines()
        assert name in squash(lines[int(e["line"]) - 1]), (name, e["manual"], e["line"])
        assert e.get("why"), name
        r = geo.resolve_city(str(e["city"]))
        assert r.status == "ok", (name, e["city"])


def test_every_listed_hospital_has_a_city(kb_session):
    from sqlalchemy import func, select

    from knowledge import models as m
    assert kb_session.scalar(select(func.count()).select_from(m.Hospital)) > 900
    assert kb_session.scalars(select(m.Hospital.name).where(m.Hospital.city_code.is_(None))).all() == []
