"""Runs notifications-python-client's own integration suite, unmodified
(`python/integration_test`, from alphagov/notifications-python-client at
7ac7871, MIT: `python/LICENSE`), against a real crm-host serving this
repository's app, in the environment `notify_env` makes.

It runs the suite's steps in its own order (`test_integration`), each on its
own, so that one failure does not hide the rest: a step whose notification
was never sent fails too. It runs them once per key type on one host, prints
one line per step and exits non-zero if any failed.

    python_suite.py --manifest spin.toml --host-bin crm-host --cli crm-cli --cache-dir DIR [--key-type test|live]...
"""

import argparse
import os
import sys
import traceback
from pathlib import Path

import notify_env

SUITE = Path(__file__).resolve().parent / "python"


def steps(suite, env):
    """`test_integration`'s calls, in its order."""
    from notifications_python_client.notifications import NotificationsAPIClient

    from integration_test.enums import EMAIL_TYPE, LETTER_TYPE, SMS_TYPE

    client = NotificationsAPIClient(base_url=env["NOTIFY_API_URL"], api_key=env["API_KEY"])
    team = NotificationsAPIClient(base_url=env["NOTIFY_API_URL"], api_key=env["API_SENDING_KEY"])
    ids = {}

    def send(name, call):
        def step():
            ids[name] = call()
        return step

    def get(name, kind):
        return lambda: suite.get_notification_by_id(client, ids[name], kind)

    sms, email, letter = env["SMS_TEMPLATE_ID"], env["EMAIL_TEMPLATE_ID"], env["LETTER_TEMPLATE_ID"]
    return [
        ("send sms", send("sms", lambda: suite.send_sms_notification_test_response(client))),
        ("send sms with sender (team key)", send("sms_sender", lambda: suite.send_sms_notification_test_response(
            team, env["SMS_SENDER_ID"]))),
        ("send email", send("email", lambda: suite.send_email_notification_test_response(client))),
        ("send email with reply-to", send("email_reply", lambda: suite.send_email_notification_test_response(
            client, env["EMAIL_REPLY_TO_ID"]))),
        ("send letter", send("letter", lambda: suite.send_letter_notification_test_response(client))),
        ("send precompiled letter", send("precompiled", lambda: suite.send_precompiled_letter_notification_test_response(
            client))),
        ("send precompiled letter, first class", send(
            "precompiled_first", lambda: suite.send_precompiled_letter_notification_set_postage_test_response(client))),
        ("get sms", get("sms", SMS_TYPE)),
        ("get sms with sender", get("sms_sender", SMS_TYPE)),
        ("get email", get("email", EMAIL_TYPE)),
        ("get email with reply-to", get("email_reply", EMAIL_TYPE)),
        ("get letter", get("letter", LETTER_TYPE)),
        ("get precompiled letter", get("precompiled", LETTER_TYPE)),
        ("get precompiled letter, first class", get("precompiled_first", LETTER_TYPE)),
        ("get all notifications", lambda: suite.get_all_notifications(client)),
        ("get sms template", lambda: suite.get_template_by_id(client, sms, SMS_TYPE)),
        ("get email template", lambda: suite.get_template_by_id(client, email, EMAIL_TYPE)),
        ("get letter template", lambda: suite.get_template_by_id(client, letter, LETTER_TYPE)),
        ("get sms template version 1", lambda: suite.get_template_by_id_and_version(client, sms, 1, SMS_TYPE)),
        ("get email template version 1", lambda: suite.get_template_by_id_and_version(
            client, email, 1, EMAIL_TYPE)),
        ("preview sms template", lambda: suite.post_template_preview(client, sms, SMS_TYPE)),
        ("preview email template", lambda: suite.post_template_preview(client, email, EMAIL_TYPE)),
        ("get all templates", lambda: suite.get_all_templates(client)),
        ("get all email templates", lambda: suite.get_all_templates_for_type(client, EMAIL_TYPE)),
        ("get all sms templates", lambda: suite.get_all_templates_for_type(client, SMS_TYPE)),
        ("get letter pdf", lambda: suite.get_pdf_for_letter(client, ids["letter"])),
        ("get precompiled letter pdf", lambda: suite.get_pdf_for_letter(client, ids["precompiled"])),
        ("get received text messages", suite.get_received_text_messages),
    ]


def run(suite, env, key_type):
    """The steps with a `key_type` key; the number that failed."""
    os.environ.update(env)
    failed = 0
    all_steps = steps(suite, env)
    for name, step in all_steps:
        try:
            step()
            print(f"ok     {name}")
        except Exception as error:  # a failed step is reported, the next one runs
            failed += 1
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            print(f"FAILED {name}: {detail.splitlines()[0][:300]}")
    print(f"{len(all_steps) - failed} of {len(all_steps)} steps passed ({key_type} key)", flush=True)
    return failed


def main():
    parser = argparse.ArgumentParser()
    notify_env.add_arguments(parser)
    args = parser.parse_args()
    with notify_env.running_app(args, "python") as base:
        made = notify_env.set_up(base, args)
        # The suite opens its test PDF by a path relative to its root.
        os.chdir(SUITE)
        sys.path.insert(0, str(SUITE))
        from integration_test import integration_tests as suite

        failed = sum(run(suite, notify_env.suite_env(made, key_type), key_type)
                     for key_type in args.key_type or notify_env.KEY_TYPES)
        if failed:
            sys.exit(1)


if __name__ == "__main__":
    main()
