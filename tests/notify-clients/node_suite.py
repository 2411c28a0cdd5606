"""Runs the project's suite for notifications-node-client 8.4.0
(`node/spec/client.spec.js`, with mocha; both from npm, pinned in
`node/package-lock.json` and installed by `npm ci`) against a real crm-host
serving this repository's app, in the environment `notify_env` makes.

It runs the suite once per key type on one host; mocha prints each test,
and this exits 1 if any run failed.

    node_suite.py --manifest spin.toml --host-bin crm-host --cli crm-cli --cache-dir DIR [--key-type test|live]...
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import notify_env

NODE = Path(__file__).resolve().parent / "node"
MOCHA = NODE / "node_modules" / ".bin" / "mocha"


def run(env, key_type):
    """The suite with a `key_type` key; whether it passed."""
    print(f"== notifications-node-client, {key_type} key", flush=True)
    done = subprocess.run([str(MOCHA), "--reporter", "spec", "spec/client.spec.js"],
                          cwd=NODE, env={**os.environ, **env}, check=False)
    return done.returncode == 0


def main():
    parser = argparse.ArgumentParser()
    notify_env.add_arguments(parser)
    args = parser.parse_args()
    if not MOCHA.exists():
        sys.exit(f"run `npm ci --prefix {NODE}` first (scripts/test does)")
    with notify_env.running_app(args, "node") as base:
        made = notify_env.set_up(base, args)
        passed = [run(notify_env.suite_env(made, key_type), key_type)
                  for key_type in args.key_type or notify_env.KEY_TYPES]
        if not all(passed):
            sys.exit(1)


if __name__ == "__main__":
    main()
