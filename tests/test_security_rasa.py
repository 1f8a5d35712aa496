"""Attacks 1 and 2 of issue 15, against a real Rasa server started the way scripts/run.sh starts it.

1. Anonymous tracker read (GET /conversations/<id>/tracker) and event write: refused (the HTTP API is off by
   default, and with RASA_API_TOKEN it needs the token).
2. Posting to the REST channel as another channel's sender (`widget:<sub>`): refused without the gateway's
   token; the gateway namespaces senders per channel (tests/test_security_channels.py).
The Rasa server needs no model for this: the refusals come before any dialogue runs.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
pytestmark = pytest.mark.skipif(not RASA.exists(), reason="needs the Rasa environment (.venv-rasa)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rasa_args(env: dict) -> list[str]:
    """The flags scripts/run.sh and deploy/run.sh give `rasa run` (core.secrets rasa-args)."""
    out = subprocess.run([sys.executable, "-m", "core.secrets", "rasa-args"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    import shlex

    return shlex.split(out)


def start(tmp_path: Path, **extra: str):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    for k in ("RASA_API_TOKEN", "RASA_CHANNEL_TOKEN"):
        if k not in extra:
            env.pop(k, None)
    port = free_port()
    args = rasa_args(env)
    # no trained model needed: a model server that never answers lets Rasa start without one
    (tmp_path / "endpoints.yml").write_text(f"models:\n  url: http://127.0.0.1:{free_port()}/model.tar.gz\n"
                                             "  wait_time_between_pulls: null\n")
    proc = subprocess.Popen([str(RASA), "run", "--endpoints", str(tmp_path / "endpoints.yml"), "--port", str(port),
                             "--credentials", str(ROOT / "bot" / "credentials.yml"), *args],
                            cwd=tmp_path, env=env, stdout=open(tmp_path / "rasa.log", "w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return proc, port, args
        except httpx.HTTPError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("Rasa did not start: " + (tmp_path / "rasa.log").read_text()[-2000:])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_rasa_default_is_loopback_api_off_channel_token(tmp_path):
    proc, port, args = start(tmp_path, RASA_CHANNEL_TOKEN="t" * 32)
    try:
        assert args[:2] == ["-i", "127.0.0.1"] and "--enable-api" not in args
        base = f"http://127.0.0.1:{port}"
        # the tracker (policy number, ID endings, phones) cannot be read or written: no HTTP API at all
        assert httpx.get(f"{base}/conversations/widget:alice/tracker").status_code == 404
        r = httpx.post(f"{base}/conversations/widget:alice/tracker/events",
                       json={"event": "slot", "name": "verifier", "value": "1234"})
        assert r.status_code in (404, 405)
        # the REST channel refuses a sender without the gateway's token
        body = {"sender": "widget:alice", "message": "查一下工单"}
        assert httpx.post(f"{base}/webhooks/rest/webhook", json=body).status_code == 401
        assert httpx.post(f"{base}/webhooks/rest/webhook", json=body,
                          headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.post(f"{base}/webhooks/rest/webhook", json=body, headers={"Authorization": "Bearer " + "t" * 32})
        assert ok.status_code != 401  # past the token check (no model loaded here, so no answer)
        # not reachable on another interface
        addr = _other_address()
        if addr:
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://{addr}:{port}/", timeout=2)
    finally:
        stop(proc)


def test_rasa_api_needs_its_token_when_enabled(tmp_path):
    proc, port, args = start(tmp_path, RASA_API_TOKEN="a" * 32, RASA_CHANNEL_TOKEN="t" * 32)
    try:
        base = f"http://127.0.0.1:{port}"
        assert "--enable-api" in args
        assert httpx.get(f"{base}/conversations/widget:alice/tracker").status_code == 401
        r = httpx.post(f"{base}/conversations/widget:alice/tracker/events",
                       json={"event": "slot", "name": "verifier", "value": "1234"})
        assert r.status_code == 401
        assert httpx.get(f"{base}/conversations/widget:alice/tracker", params={"token": "a" * 32}).status_code != 401
    finally:
        stop(proc)


def _other_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            addr = s.getsockname()[0]
        return None if addr.startswith("127.") else addr
    except OSError:
        return None


def test_action_server_listens_on_loopback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SANIC_HOST", None)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "actions", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=open(tmp_path / "actions.log", "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail((tmp_path / "actions.log").read_text()[-2000:])
        addr = _other_address()
        if addr is None:
            pytest.skip("no non-loopback address to probe")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{addr}:{port}/health", timeout=2)
    finally:
        stop(proc)
