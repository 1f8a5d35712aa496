"""One module per manual layout; each exposes ingest(b: Builder) -> None."""
