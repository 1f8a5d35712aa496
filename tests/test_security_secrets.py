"""Attack 4 of issue 15: the public development secrets (README, channels/config.py) were live.
APP_ENV=production now refuses to start with any of them, or with one missing; development warns loudly."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import secrets

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"OPERATOR_API_KEY": "op-" + "k" * 30, "WIDGET_SECRET": "w" * 32, "TRACKER_KEY": "t" * 32, "WECHAT_TOKEN": "wxTokenProd42",
        "WECHAT_ENCODING_AES_KEY": "Q" * 43, "WECHAT_APP_SECRET": "s" * 32, "RASA_CHANNEL_TOKEN": "c" * 32, "IVR_TOKEN": "i" * 32,
        "WECHAT_MODE": "safe", "APP_ENV": "production"}


def clean_env(**over) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {s.name for s in secrets.SECRETS} | {"APP_ENV", "WECHAT_MODE", "WECHAT_ACCOUNTS"}}
    return {**env, **over}


@pytest.mark.parametrize("name", ["OPERATOR_API_KEY", "WIDGET_SECRET", "WECHAT_TOKEN", "WECHAT_ENCODING_AES_KEY",
                                  "WECHAT_APP_SECRET"])
def test_each_dev_secret_is_refused_in_production(name):
    dev = next(s.dev_value for s in secrets.SECRETS if s.name == name)
    env = {**GOOD, name: dev}
    found = secrets.problems(env)
    assert any(p.startswith(name) and "development" in p for p in found)
    with pytest.raises(secrets.InsecureConfiguration):
        secrets.enforce("test", env)


def test_missing_secrets_and_unsafe_wechat_mode_are_refused():
    assert secrets.problems(GOOD) == []
    for name in ("OPERATOR_API_KEY", "RASA_CHANNEL_TOKEN", "WIDGET_SECRET", "IVR_TOKEN"):
        env = {k: v for k, v in GOOD.items() if k != name}
        assert any(p.startswith(name) and "not set" in p for p in secrets.problems(env))
    assert any("WECHAT_MODE" in p for p in secrets.problems({**GOOD, "WECHAT_MODE": "compat"}))
    accounts = '[{"app_id": "wx1", "token": "dev-wechat-token", "encoding_aes_key": "%s", "app_secret": "x", "mode": "compat"}]' % (
        "Q" * 43)
    found = secrets.problems({**GOOD, "WECHAT_ACCOUNTS": accounts})
    assert any("WECHAT_ACCOUNTS[0].token" in p for p in found) and any("safe mode" in p for p in found)


def test_gateway_refuses_to_start_in_production_with_dev_secrets(tmp_path):
    from api.app import create_app

    os.environ.update(APP_ENV="production")
    try:
        with pytest.raises(secrets.InsecureConfiguration) as e:
            create_app(f"sqlite:///{tmp_path / 'x.db'}", build_if_empty=False)
        assert "OPERATOR_API_KEY" in str(e.value)
    finally:
        os.environ.pop("APP_ENV", None)


def test_processes_refuse_and_development_warns(tmp_path):
    """The real entry points: the action server and `python -m core.secrets check` (run by the start scripts)."""
    prod = clean_env(APP_ENV="production", PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "actions", "--port", "1"], cwd=ROOT, env=prod, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "refusing to start" in r.stderr and "OPERATOR_API_KEY" in r.stderr
    r = subprocess.run([sys.executable, "-m", "core.secrets", "check"], cwd=ROOT, env=prod, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "WIDGET_SECRET" in r.stderr
    ok = subprocess.run([sys.executable, "-m", "core.secrets", "check"], cwd=ROOT, capture_output=True, text=True,
                        env={**clean_env(PYTHONPATH=str(ROOT)), **GOOD}, timeout=60)
    assert ok.returncode == 0, ok.stderr
    dev = subprocess.run([sys.executable, "-m", "core.secrets", "check"], cwd=ROOT, capture_output=True, text=True,
                         env=clean_env(PYTHONPATH=str(ROOT)), timeout=60)
    assert dev.returncode == 0 and "DEVELOPMENT SECRETS IN USE" in dev.stderr
