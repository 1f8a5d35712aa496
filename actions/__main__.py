"""The action server in one process: `python -m actions --port 5055` (rasa-sdk's own flags).

`python -m rasa_sdk` runs Sanic's worker manager: a parent process that polls its one worker and a
multiprocessing manager, about 7 ms of CPU a second on an idle server (bench/chat_load.py,
docs/performance.md). Here the same app (rasa-sdk's create_app_for_serve: routes, plugins, keep-alive)
is served by one process; more throughput comes from more action servers behind the load balancer
(docs/scale-out.md), and the supervisor restarts a crashed one.
"""
from __future__ import annotations

import logging
import os
import sys


def client_of(action_call: dict) -> str:
    """The throttle's client of an action call: the (hashed) address the widget gateway put in the message
    metadata, else the conversation. Only the gateway can post to Rasa (bot/rest_channel.py)."""
    md = ((action_call.get("tracker") or {}).get("latest_message") or {}).get("metadata") or {}
    given = md.get("client") if isinstance(md, dict) else None
    if isinstance(given, str) and given.startswith("ip#") and len(given) <= 40:
        return given
    return f"chat:{action_call.get('sender_id') or 'unknown'}"


def _ClientExecutor():
    """rasa-sdk's executor, counting every identity check of an action call against its conversation
    (core.throttle: per client lockout, besides the per policy / ticket number one)."""
    from rasa_sdk.executor import ActionExecutor

    from core.throttle import client

    class ClientExecutor(ActionExecutor):
        async def run(self, action_call):
            with client(client_of(action_call)):
                return await super().run(action_call)

    return ClientExecutor()


def main(argv: list[str] | None = None) -> None:
    from core.secrets import enforce

    enforce("action server")  # APP_ENV=production: no dev or missing secret (docs/security.md)
    from core import logsafe

    logsafe.install()  # no mobile or ID number in any log line
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
    from sanic import Sanic

    parser = create_argument_parser()
    parser.set_defaults(actions="actions")
    args = parser.parse_args(argv)
    if args.grpc or args.ssl_certificate or args.auto_reload:
        sys.exit("python -m actions serves plain HTTP in one process; use python -m rasa_sdk for gRPC, TLS or "
                 "auto-reload")
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    executor = _ClientExecutor()
    executor.register_package(args.actions_module or args.actions)
    if os.environ.get("ACTIONS_WARM", "1") != "0":
        from assist.qa import warm

        warm()  # the clause and name indexes, before the first customer waits for them
    app = create_app_for_serve(executor, cors_origins=args.cors, endpoints=args.endpoints)
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port, single_process=True, motd=False)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
