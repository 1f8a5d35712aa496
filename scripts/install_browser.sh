#!/usr/bin/env bash
# Headless Chromium for the widget browser test (tests/test_widget_browser.py). Idempotent.
# Chromium comes from Debian packages; Playwright from PyPI drives it via executable_path.
# Never run `playwright install`: it downloads its own browsers at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

# fonts-wqy-microhei: a CJK font, so Chinese renders in the screenshot (docs/widget.png) instead of boxes
if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium chromium-driver fonts-wqy-microhei
fi

PW_PIN="$(grep -E '^playwright==' requirements/app.lock || true)"
if [ -z "$PW_PIN" ]; then echo "requirements/app.lock has no playwright pin" >&2; exit 1; fi
if ! "$VENV/bin/python" -c "import playwright" 2>/dev/null; then
  "$VENV/bin/pip" install -q "$PW_PIN"
fi
/usr/bin/chromium --version
