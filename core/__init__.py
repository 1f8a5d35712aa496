"""Shared infrastructure: configuration and database access."""
