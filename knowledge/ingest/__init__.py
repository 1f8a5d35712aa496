"""Build the knowledge store from knowledge/manuals (idempotent: drops and rebuilds kb_ tables)."""
from __future__ import annotations

import hashlib
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.config import MANIFEST, MANUALS_DIR
from core.db import Base, engine_for, session_scope
from knowledge import models as m
from knowledge.ingest.builder import Builder
from knowledge.ingest.locate import locate_hospitals
from knowledge.ingest.text import ManualText

log = logging.getLogger(__name__)

KB_TABLES = [t for name, t in Base.metadata.tables.items() if name.startswith("kb_")]


@dataclass
class BuildReport:
    manuals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_manifest(path: Path = MANIFEST) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("manuals") or []
    for e in entries:
        for key in ("file", "insurer", "product_line", "layout"):
            if not e.get(key):
                raise ValueError(f"manifest entry {e!r} lacks {key!r}")
        aliases = e.get("product_aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ValueError(f"manifest entry {e['file']!r}: product_aliases must be a list of names")
    return entries


def adapter_for(layout: str):
    """The adapter module for a layout; unknown layouts use the generic one."""
    try:
        return importlib.import_module(f"knowledge.ingest.adapters.{layout}")
    except ModuleNotFoundError as exc:
        if exc.name != f"knowledge.ingest.adapters.{layout}":
            raise
        log.warning("no adapter for layout %r: using the generic one", layout)
        return importlib.import_module("knowledge.ingest.adapters.generic")


def build(engine: Engine | None = None, manuals_dir: Path = MANUALS_DIR, manifest: Path | None = None,
          only: set[str] | None = None) -> BuildReport:
    """Rebuild the kb_ tables. `only`: manual file-name prefixes to ingest (default all)."""
    engine = engine or engine_for()
    Base.metadata.drop_all(engine, tables=KB_TABLES)
    Base.metadata.create_all(engine, tables=KB_TABLES)
    report = BuildReport()
    for entry in load_manifest(manifest or manuals_dir / "manifest.yaml"):
        path = manuals_dir / entry["file"]
        if only and not any(entry["file"].startswith(p) for p in only):
            continue
        text = ManualText.load(path)
        with session_scope(engine) as s:
            insurer = s.scalar(select(m.Insurer).where(m.Insurer.name == entry["insurer"]))
            if insurer is None:
                insurer = m.Insurer(name=entry["insurer"], short_name=entry.get("insurer_short") or entry["insurer"],
                                    aliases=list(entry.get("insurer_aliases") or []))
                s.add(insurer)
                s.flush()
            manual = m.Manual(id=path.stem, filename=path.name, title=entry.get("title") or path.stem,
                              insurer_id=insurer.id, product_line=entry["product_line"], layout=entry["layout"],
                              sha256=hashlib.sha256(path.read_bytes()).hexdigest(), line_count=len(text))
            s.add(manual)
            s.flush()
            b = Builder(s, manual, text, product=entry.get("product"),
                        product_aliases=entry.get("product_aliases") or [])
            adapter_for(entry["layout"]).ingest(b)
            b.finish()
            report.manuals.append(manual.id)
            report.warnings.extend(b.warnings)
    with session_scope(engine) as s:  # every listed hospital in a city, once all lists are read
        report.warnings.extend(locate_hospitals(s))
    return report
