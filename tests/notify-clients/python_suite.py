"""Runs notifications-python-client's own integration suite, unmodified
(`python/integration_test`, from alphagov/notifications-python-client at
7ac7871, MIT: `python/LICENSE`), against a real crm-host serving this
repository's app.

The suite needs a Notify service with keys, templates, an email reply-to
address, a text message sender and a received text message; this makes them
through the staff API of a host it starts (the text as the webhook provider
hands one over, signed, on its inbound route), then runs the suite's steps in its own order
(`test_integration`), each on its own, so that one failure does not hide
the rest: a step whose notification was never sent fails too. It prints one
line per step and exits non-zero if any failed.

    python_suite.py --manifest spin.toml --host-bin crm-host --cli crm-cli --cache-dir DIR [--key-type test|live]
"""

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
SUITE = HERE / "python"
SEALING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
NUMBER = "07700900123"
EMAIL = "functional.test@example.gov.au"
# The service's number that members of the public text.
INBOUND_NUMBER = "07700900500"
WEBHOOK_SECRET = "python-suite-webhook-secret"
# Notify's functional tests' letter contact block, which the suite checks.
CONTACT_BLOCK = (
    "Government Digital Service\nThe White Chapel Building\n10 Whitechapel High Street\n"
    "London\nE1 8QS\nUnited Kingdom"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_host(args, state):
    port = free_port()
    variables = {
        "notification_sealing_key": SEALING_KEY,
        # Live and team keys hand messages to a webhook no one answers:
        # they are accepted, then retried, as with a provider that is down.
        "notification_webhook_url": "http://127.0.0.1:9/messages",
        "notification_webhook_origin": "http://127.0.0.1:9",
        # What the webhook provider signs received text messages with.
        "notification_webhook_secret": WEBHOOK_SECRET,
    }
    command = [args.host_bin, "up", "-f", args.manifest, "--listen", f"127.0.0.1:{port}",
               "--state-dir", state, "--cache-dir", args.cache_dir]
    for name, value in variables.items():
        command += ["--variable", f"{name}={value}"]
    log = open(Path(state) / "host.log", "w")
    host = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/.well-known/spin/health", timeout=2).ok:
                return host, base
        except requests.RequestException:
            pass
        if host.poll() is not None:
            sys.exit(f"crm-host exited: see {state}/host.log")
        time.sleep(0.5)
    host.kill()
    sys.exit("crm-host did not become healthy in 120 s")


def token(cli, role):
    return subprocess.check_output([*cli.split(), "dev-token", "--role", role, "--sub", f"suite-{role}"],
                                   text=True).strip()


class Staff:
    def __init__(self, base, bearer):
        self.base = base
        self.headers = {"authorization": f"Bearer {bearer}"}

    def call(self, method, path, body=None, expect=(200, 201)):
        reply = requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30)
        if reply.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text}")
        return reply.json()


def set_up(base, args):
    """The service, keys, templates and senders the suite's environment names."""
    admin = Staff(base, token(args.cli, "administrator"))
    comms = Staff(base, token(args.cli, "communications-officer"))
    service = admin.call("POST", "/api/notifications/services",
                         {"name": "Python client suite", "guest_list": [NUMBER, EMAIL]})["id"]

    def key(kind):
        return admin.call("POST", f"/api/notifications/services/{service}/keys",
                          {"name": f"suite {kind}", "key_type": kind})["key"]

    def template(kind, body, **extra):
        made = comms.call("POST", "/api/templates", {
            "name": f"Suite {kind}", "type": kind, "body": body, "purpose": "service-delivery", **extra})
        comms.call("PUT", f"/api/templates/{made['id']}/services", {"services": [service]})
        return made["id"]

    def sender(path, body):
        return admin.call("POST", f"/api/notifications/services/{service}/{path}", body)["id"]

    def received_text(message):
        """A text to the service's number, as the webhook provider hands it over."""
        body = json.dumps({"id": str(uuid.uuid4()), "source_number": "447700900111",
                           "destination_number": INBOUND_NUMBER, "message": message}).encode()
        signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        reply = requests.post(f"{base}/api/notifications/inbound/webhook", data=body, timeout=30,
                              headers={"content-type": "application/json", "x-crm-signature": signature})
        if reply.status_code != 201:
            raise RuntimeError(f"received text: {reply.status_code} {reply.text}")

    api_key = key(args.key_type)
    sms_sender_id = sender("sms-senders", {"sms_sender": "GOVSUITE"})
    # A second sender, a number, which texts are received at.
    sender("sms-senders", {"sms_sender": INBOUND_NUMBER})
    received_text("Yes, please call me back")
    return {
        "NOTIFY_API_URL": base,
        "API_KEY": api_key,
        "API_SENDING_KEY": key("team"),
        # Set, so the received-text-messages step runs (the suite skips it
        # when empty) and is counted.
        "INBOUND_SMS_QUERY_KEY": api_key,
        "FUNCTIONAL_TEST_NUMBER": NUMBER,
        "FUNCTIONAL_TEST_EMAIL": EMAIL,
        "SMS_TEMPLATE_ID": template("sms", "Hello ((name)), this is the suite."),
        "EMAIL_TEMPLATE_ID": template("email", "Hello ((name))", subject="Suite ((name))"),
        "LETTER_TEMPLATE_ID": template("letter", "Dear ((address_line_1))", subject="Suite letter",
                                       letter_contact_block=CONTACT_BLOCK),
        "SMS_SENDER_ID": sms_sender_id,
        "EMAIL_REPLY_TO_ID": sender("email-reply-to", {"email_address": "replies@example.gov.au"}),
    }


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--host-bin", required=True)
    parser.add_argument("--cli", required=True, help="the crm-cli command, e.g. target/debug/crm-cli")
    parser.add_argument("--key-type", choices=["test", "live"], default="test")
    parser.add_argument("--cache-dir", required=True, help="crm-host's compiled-code cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notify-python-suite-") as state:
        host, base = start_host(args, state)
        try:
            env = set_up(base, args)
            os.environ.update(env)
            # The suite opens its test PDF by a path relative to its root.
            os.chdir(SUITE)
            sys.path.insert(0, str(SUITE))
            from integration_test import integration_tests as suite

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
            print(f"{len(all_steps) - failed} of {len(all_steps)} steps passed ({args.key_type} key)")
            sys.exit(1 if failed else 0)
        finally:
            host.terminate()
            host.wait(timeout=30)


if __name__ == "__main__":
    main()
