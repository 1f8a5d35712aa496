"""Every secret the services use, in one place, and the start-up check of them.

APP_ENV=production: a missing secret, or one still at its public development value, stops the process.
Anything else (development): the services start and print a loud warning naming each such secret.

    python -m core.secrets check        # exit 1 in production when a secret is missing or a dev value
    python -m core.secrets rasa-args    # the flags `rasa run` gets (loopback; HTTP API only with a token)

docs/security.md explains each secret and how to make one.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

log = logging.getLogger(__name__)

DEV_OPERATOR_KEY = "dev-operator-key"
DEV_WECHAT_TOKEN = "dev-wechat-token"
DEV_WECHAT_APP_ID = "wx00000000dev00000"
DEV_WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars, base64 of 32 bytes
DEV_WECHAT_SECRET = "dev-wechat-secret"
DEV_WIDGET_SECRET = "dev-widget-secret"
DEV_TRACKER_KEY = "dev-tracker-key"


@dataclass(frozen=True)
class Secret:
    name: str
    dev_value: str | None  # the public development default (None: no default, must be set)
    what: str
    required: bool = True  # in production


SECRETS = (
    Secret("OPERATOR_API_KEY", DEV_OPERATOR_KEY, "X-API-Key of the operator endpoints (/api/operator/...)"),
    Secret("WIDGET_SECRET", DEV_WIDGET_SECRET, "HMAC key of the widget's customer tokens"),
    Secret("TRACKER_KEY", DEV_TRACKER_KEY, "key that encrypts personal slot values in Rasa's tracker store"),
    Secret("WECHAT_TOKEN", DEV_WECHAT_TOKEN, "WeChat server token (signature of every push)"),
    Secret("WECHAT_ENCODING_AES_KEY", DEV_WECHAT_AES_KEY, "WeChat EncodingAESKey (safe mode encryption)"),
    Secret("WECHAT_APP_SECRET", DEV_WECHAT_SECRET, "WeChat AppSecret (access token for customer-service messages)"),
    Secret("RASA_CHANNEL_TOKEN", None, "bearer token the gateway sends to Rasa's REST channel"),
    Secret("IVR_TOKEN", None, "bearer token the telephony platform sends to /ivr/turn"),
    Secret("RASA_API_TOKEN", None, "Rasa HTTP API token; unset keeps the HTTP API off", required=False),
)
MIN_LENGTH = 16


def production(env: Mapping[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("APP_ENV", "development").strip().lower() in (
        "production", "prod")


def _wechat_accounts(env: Mapping[str, str]) -> list[dict] | None:
    raw = (env.get("WECHAT_ACCOUNTS") or "").strip()
    if not raw:
        return None
    try:
        text = raw if raw.startswith("[") else Path(raw).read_text(encoding="utf-8")
        return list(json.loads(text))
    except (OSError, ValueError) as exc:
        return [{"_error": str(exc)}]


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """Each secret that is missing, a public development value, or too short to be a secret."""
    env = env if env is not None else os.environ
    out: list[str] = []
    accounts = _wechat_accounts(env)
    for s in SECRETS:
        if accounts is not None and s.name.startswith("WECHAT_"):
            continue  # the accounts list carries them, checked below
        value = (env.get(s.name) or "").strip()
        if s.name == "OPERATOR_API_KEY" and (env.get("OPERATOR_API_KEYS") or "").strip():
            out += [f"OPERATOR_API_KEYS entry {k!r} is too short or a development value"
                    for k, _, v in (p.strip().partition(":") for p in env["OPERATOR_API_KEYS"].split(",") if p.strip())
                    if len(v.strip()) < MIN_LENGTH or v.strip() == DEV_OPERATOR_KEY]
            continue
        if not value:
            if s.required:
                dev = ", so the public development value is used" if s.dev_value else ""
                out.append(f"{s.name} is not set{dev} ({s.what})")
        elif s.dev_value is not None and value == s.dev_value:
            out.append(f"{s.name} is the public development value ({s.what})")
        elif len(value) < MIN_LENGTH and s.name != "WECHAT_TOKEN":  # WeChat allows 3-32 characters
            out.append(f"{s.name} is shorter than {MIN_LENGTH} characters ({s.what})")
    dev_values = {"token": DEV_WECHAT_TOKEN, "encoding_aes_key": DEV_WECHAT_AES_KEY, "app_secret": DEV_WECHAT_SECRET}
    for i, acc in enumerate(accounts or []):
        if "_error" in acc:
            out.append(f"WECHAT_ACCOUNTS cannot be read: {acc['_error']}")
            continue
        for field, dev_value in dev_values.items():
            value = str(acc.get(field) or "")
            if not value or value == dev_value:
                out.append(f"WECHAT_ACCOUNTS[{i}].{field} is {'not set' if not value else 'the development value'}")
        if str(acc.get("mode", env.get("WECHAT_MODE", ""))).lower() != "safe":
            out.append(f"WECHAT_ACCOUNTS[{i}] is not in safe mode (mode: safe)")
    if accounts is None and (env.get("WECHAT_MODE") or "compat").strip().lower() != "safe":
        out.append("WECHAT_MODE is not safe (plain or compat accept unencrypted pushes)")
    return out


class InsecureConfiguration(SystemExit):
    pass


_warned: set[str] = set()


def enforce(component: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Production: raise InsecureConfiguration listing every problem. Development: warn loudly, once."""
    found = problems(env)
    if not found:
        return found
    if production(env):
        raise InsecureConfiguration(f"{component}: refusing to start with APP_ENV=production:\n  - "
                                    + "\n  - ".join(found) + "\nSee docs/security.md.")
    if component not in _warned:
        _warned.add(component)
        bar = "!" * 78
        msg = (f"\n{bar}\n{component}: DEVELOPMENT SECRETS IN USE - do not expose this to a network.\n  - "
               + "\n  - ".join(found) + f"\nSet APP_ENV=production to refuse this; see docs/security.md.\n{bar}\n")
        log.warning(msg)
        print(msg, file=sys.stderr)
    return found


def rasa_args(env: Mapping[str, str] | None = None) -> list[str]:
    """Flags of `rasa run`: loopback only; the HTTP API (trackers, events) only with RASA_API_TOKEN."""
    env = env if env is not None else os.environ
    args = ["-i", env.get("RASA_HOST") or "127.0.0.1"]
    token = (env.get("RASA_API_TOKEN") or "").strip()
    if token:
        args += ["--enable-api", "--auth-token", token]
    return args


def rasa_channel_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Authorization for Rasa's REST channel, for local tools: RASA_CHANNEL_TOKEN, else the token
    scripts/run.sh wrote to var/rasa_channel_token; {} when there is none (an open, test-only channel)."""
    env = env if env is not None else os.environ
    token = (env.get("RASA_CHANNEL_TOKEN") or "").strip()
    if not token:
        from core.config import VAR_DIR

        try:
            token = (VAR_DIR / "rasa_channel_token").read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
    return {"Authorization": f"Bearer {token}"} if token else {}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "check"
    if cmd == "rasa-args":
        print(" ".join(shlex.quote(a) for a in rasa_args()))
        return 0
    if cmd == "check":
        try:
            found = enforce(argv[1] if len(argv) > 1 else "services")
        except InsecureConfiguration as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0 if not found or not production() else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
