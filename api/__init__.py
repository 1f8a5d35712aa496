"""FastAPI gateway: the service API (and, later, the channels)."""
