#!/usr/bin/env bash
# notifications-python-client 13.0.0 (PyPI) and its own integration suite
# (python/integration_test, unmodified) against a crm-host serving the app:
# see python_suite.py. Not yet part of scripts/test (issue 18 is open).
#
#   tests/notify-clients/python-suite.sh [test|live] [spin.toml]
#
# Needs the app's components built (crm-host build -f spin.toml), a
# crm-host (CRM_HOST_BIN, else target/debug/crm-host) and crm-cli
# (CRM_CLI, else target/debug/crm-cli).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=$target/notify-clients/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q notifications-python-client==13.0.0 jsonschema==4.26.0
exec "$venv/bin/python" "$root/tests/notify-clients/python_suite.py" \
    --key-type "${1:-test}" \
    --manifest "${2:-$root/spin.toml}" \
    --host-bin "${CRM_HOST_BIN:-$target/debug/crm-host}" \
    --cli "${CRM_CLI:-$target/debug/crm-cli}" \
    --cache-dir "$target/notify-clients/cache"
