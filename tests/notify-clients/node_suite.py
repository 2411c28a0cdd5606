"""Runs notifications-node-client's own integration suite, unmodified
(`node/spec/integration`, from alphagov/notifications-node-client at 8.4.0,
MIT: `node/LICENSE`), with mocha against notifications-node-client 8.4.0
from npm (`node/package-lock.json`, installed by `npm ci`), against a real
crm-host serving this repository's app, in the environment `notify_env`
makes.

The suite loads the client as `../../client/notification.js`, as in its own
repository: `node/client` links to the installed package's. It runs once per
key type on one host; mocha prints each test, and this exits non-zero if any
run failed.

    node_suite.py --manifest spin.toml --host-bin crm-host --cli crm-cli --cache-dir DIR [--key-type test|live]...
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import notify_env

NODE = Path(__file__).resolve().parent / "node"


def run(env, key_type):
    """The suite with a `key_type` key; whether it passed."""
    print(f"== notifications-node-client's integration suite, {key_type} key", flush=True)
    # `npm test --integration` sets npm_config_integration, which the
    # suite needs to run rather than skip itself.
    variables = {**os.environ, **env, "npm_config_integration": "true"}
    mocha = NODE / "node_modules" / ".bin" / "mocha"
    # The suite reads its test PDF by a path relative to its repository's root.
    done = subprocess.run([str(mocha), "--reporter", "spec", "spec/integration/test.js"],
                          cwd=NODE, env=variables, check=False)
    return done.returncode == 0


def main():
    parser = argparse.ArgumentParser()
    notify_env.add_arguments(parser)
    args = parser.parse_args()
    if not (NODE / "spec" / "integration" / "test.js").exists():
        sys.exit(f"{NODE}/spec/integration/test.js is missing: see {NODE}/NOTICE.md")
    if not (NODE / "node_modules" / ".bin" / "mocha").exists():
        sys.exit(f"run `npm ci --prefix {NODE}` first (scripts/test does)")
    with notify_env.running_app(args, "node") as base:
        made = notify_env.set_up(base, args)
        passed = [run(notify_env.suite_env(made, key_type), key_type)
                  for key_type in args.key_type or notify_env.KEY_TYPES]
        if not all(passed):
            sys.exit(1)


if __name__ == "__main__":
    main()
