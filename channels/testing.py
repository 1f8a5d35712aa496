"""Local fakes for tests and demos: a scripted Rasa REST server and a WeChat API server on 127.0.0.1.

Both are real HTTP servers (threads), so the gateway talks to them exactly as to the real ones.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlparse


class _Server:
    def __init__(self, handler_cls):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _read_json(handler: BaseHTTPRequestHandler):
    n = int(handler.headers.get("Content-Length") or 0)
    return json.loads(handler.rfile.read(n) or b"null")


def _send_json(handler: BaseHTTPRequestHandler, data, status: int = 200) -> None:
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


class FakeRasa(_Server):
    """POST /webhooks/rest/webhook -> script(sender, message, metadata) -> list of bot messages.

    delay: seconds to sleep before answering (a slow assistant). calls: every request received."""

    def __init__(self, script: Callable[[str, str, dict], list], delay: float = 0.0):
        self.script, self.delay, self.calls = script, delay, []
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                _send_json(self, {"version": "fake"})

            def do_POST(self):
                owner = self.server.owner
                if urlparse(self.path).path != "/webhooks/rest/webhook":
                    return _send_json(self, {"error": "not found"}, 404)
                body = _read_json(self)
                with owner.lock:
                    owner.calls.append(body)
                if owner.delay:
                    time.sleep(owner.delay)
                try:
                    out = owner.script(body.get("sender"), body.get("message"), body.get("metadata") or {})
                except Exception as exc:  # noqa: BLE001 - a broken assistant answers 500, like Rasa does
                    return _send_json(self, {"error": repr(exc)}, 500)
                for m in out:
                    m.setdefault("recipient_id", body.get("sender"))
                _send_json(self, out)

        super().__init__(Handler)


class FakeWeChatAPI(_Server):
    """GET /cgi-bin/token and POST /cgi-bin/message/custom/send, recording what was sent."""

    def __init__(self, app_id: str, secret: str):
        self.app_id, self.secret = app_id, secret
        self.sent: list[dict] = []
        self.token_requests = 0
        self.token = "fake-token-1"
        self.event = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner = self.server.owner
                u = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                if u.path != "/cgi-bin/token":
                    return _send_json(self, {"errcode": 404}, 404)
                if q.get("appid") != owner.app_id or q.get("secret") != owner.secret:
                    return _send_json(self, {"errcode": 40125, "errmsg": "invalid appsecret"})
                owner.token_requests += 1
                _send_json(self, {"access_token": owner.token, "expires_in": 7200})

            def do_POST(self):
                owner = self.server.owner
                u = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                if u.path != "/cgi-bin/message/custom/send":
                    return _send_json(self, {"errcode": 404}, 404)
                if q.get("access_token") != owner.token:
                    return _send_json(self, {"errcode": 40001, "errmsg": "invalid credential"})
                owner.sent.append(_read_json(self))
                owner.event.set()
                _send_json(self, {"errcode": 0, "errmsg": "ok"})

        super().__init__(Handler)

    def wait_for(self, n: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.sent


def gateway(settings=None, **state_kw):
    """A FastAPI app holding only the channel routers (the API's create_app() includes them too)."""
    from fastapi import FastAPI

    from channels import include, make_state

    app = FastAPI()
    include(app, make_state(settings, **state_kw))
    return app
