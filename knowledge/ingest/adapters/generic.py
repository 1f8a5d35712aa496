"""Fallback for manuals with no adapter of their own: passages only.

INTERIM: to be replaced by heading detection and services-by-heading.
"""
from __future__ import annotations

from knowledge.ingest.builder import Builder
from knowledge.ingest.sections import add_passages


def ingest(b: Builder) -> None:
    add_passages(b, [(1, b.manual.title)])
