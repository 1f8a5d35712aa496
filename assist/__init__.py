"""The application layer: the use cases the chat (actions/) and the service API (api/) share.

Knowledge store, rules engine, policies and tickets are wired here (services.Services); the use
cases take plain values and return plain results, raise one error type (errors.AssistError) and
word everything a customer reads from messages.yaml. Neither actions/ nor api/ holds business logic.
"""
