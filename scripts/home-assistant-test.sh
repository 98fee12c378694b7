#!/usr/bin/env bash
# The agent against a real Home Assistant: the `homeassistant` package from PyPI (2024.1, the
# newest release that runs on Debian 12's Python 3.11) in a virtual environment, its MQTT
# integration set up through its own API against a mosquitto this test starts, and every check
# made through Home Assistant's REST and websocket APIs (scripts/home_assistant_test.py says which).
#
# The environment is made once per machine under $EDGE_AGENT_HA_VENV (about a minute from PyPI)
# and reused while its pinned requirements are the same.
#   scripts/home-assistant-test.sh [path/to/edge-agent]
set -euo pipefail
cd "$(dirname "$0")/.."
agent=${1:-.build/debug/edge-agent}
[ -x "$agent" ] || swift build --product edge-agent
venv=${EDGE_AGENT_HA_VENV:-/var/tmp/edge-agent-ha}
# Home Assistant itself and what its integrations in this test need (their manifests'
# requirements: http, mqtt, recorder and the rest that onboarding pulls in); installed here so
# that Home Assistant runs with --skip-pip and installs nothing behind the test's back.
requirements=(
    homeassistant==2024.1.6 paho-mqtt==1.6.1 aiohttp_cors==0.7.0 aiohttp-fast-url-dispatcher==0.3.0
    aiohttp-zlib-ng==0.1.3 Pillow==10.1.0 SQLAlchemy==2.0.23 fnv-hash-fast==0.5.0 janus==1.0.0
    psutil-home-assistant==0.0.1
)
stamp="${requirements[*]}"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.edge-agent-requirements" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "$stamp" >"$venv/.edge-agent-requirements"
fi
work=$(mktemp -d /tmp/edge-agent-ha.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
"$venv/bin/python" scripts/home_assistant_test.py --agent "$(realpath "$agent")" --work "$work"
