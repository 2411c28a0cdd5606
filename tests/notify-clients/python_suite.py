"""Runs the project's suite for notifications-python-client 13.0.0
(`python/steps.py`) against a real crm-host serving this repository's app,
in the environment `notify_env` makes.

Each step runs on its own, so that one failure does not hide the rest (a
step reading a message that was never sent fails too). It runs the steps
once per key type on one host, prints one line per step and exits 1 if any
failed.

    python_suite.py --manifest spin.toml --host-bin crm-host --cli crm-cli --cache-dir DIR [--key-type test|live]...
"""

import argparse
import logging
import sys
import traceback
from pathlib import Path

import notify_env

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
import steps  # noqa: E402  (beside this file, not installed)


def run(env, key_type):
    """The steps with a `key_type` key; the number that failed."""
    failed = 0
    all_steps = steps.steps(env)
    for name, step in all_steps:
        try:
            step()
            print(f"ok     {name}", flush=True)
        except Exception as error:  # a failed step is reported, the next one runs
            failed += 1
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            print(f"FAILED {name}: {detail.splitlines()[0][:400]}", flush=True)
    print(f"{len(all_steps) - failed} of {len(all_steps)} steps passed ({key_type} key)", flush=True)
    return failed


def main():
    parser = argparse.ArgumentParser()
    notify_env.add_arguments(parser)
    args = parser.parse_args()
    # The client logs each refusal as a warning; the steps that expect one
    # say whether it came.
    logging.getLogger("notifications_python_client").setLevel(logging.ERROR)
    with notify_env.running_app(args, "python") as base:
        made = notify_env.set_up(base, args)
        failed = sum(run(notify_env.suite_env(made, key_type), key_type)
                     for key_type in args.key_type or notify_env.KEY_TYPES)
        if failed:
            sys.exit(1)


if __name__ == "__main__":
    main()
