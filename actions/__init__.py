"""rasa-sdk action server package: `python -m actions --port 5055` (one process, see __main__.py).

Modules by concern: info (services, service info, how to apply, contact), coverage,
eligibility (form + decision), tickets (form, status, cancel), dialogue (follow-ups,
fallback, handoff, channel insurer). Shared helpers: common, base, timeparse.
"""
