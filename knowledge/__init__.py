"""Knowledge store built from the insurers' service manuals.

Flow: knowledge/manuals/*.txt -> knowledge.ingest (adapters) -> SQL store
(knowledge.models) -> knowledge.query / knowledge.search for the rules, actions and API.
"""
