"""The environment the project's GOV.UK Notify client suites run in, made on
a real crm-host serving this repository's app.

Both suites (`python/`, driving notifications-python-client, and `node/`,
driving notifications-node-client) read the same variables: a base URL, API
keys, templates, senders and received text messages. `running_app` starts a
host; `set_up` makes a service, its keys (test, live and team), senders and
more received texts than one page holds, through the staff API and the
provider's signed inbound route, and templates shaped as Notify's own
functional-test templates are (names, bodies with Windows line ends, a
version history), with an email template for a file link. One service serves
every key type: `suite_env` picks the key a run sends with.
"""

import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

SEALING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
NUMBER = "07700900123"
# A number on no guest list, which team keys may not send to.
NON_GUEST_NUMBER = "07700900999"
EMAIL = "functional.test@example.gov.au"
# The service's number that members of the public text.
INBOUND_NUMBER = "07700900500"
WEBHOOK_SECRET = "notify-suites-webhook-secret"
# The staff member who writes the templates: a template's `created_by` is
# its author's email address, from their token's `email` claim.
AUTHOR_EMAIL = "suite.author@example.gov.au"
# Notify's functional tests' letter contact block, which both suites check.
CONTACT_BLOCK = (
    "Government Digital Service\nThe White Chapel Building\n10 Whitechapel High Street\n"
    "London\nE1 8QS\nUnited Kingdom"
)
KEY_TYPES = ("test", "live")
# One more than a page of received texts (Notify pages by 250).
RECEIVED_TEXTS = 251


def add_arguments(parser):
    """The options every runner takes to start the app."""
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--host-bin", required=True)
    parser.add_argument("--cli", required=True, help="the crm-cli command, e.g. target/debug/crm-cli")
    parser.add_argument("--cache-dir", required=True, help="crm-host's compiled-code cache")
    parser.add_argument("--key-type", choices=KEY_TYPES, action="append",
                        help="the key the suite sends with; repeat to run it once per type "
                             "(default: test, then live)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(args, name):
    """A crm-host serving the app from a fresh state directory; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix=f"notify-{name}-suite-") as state:
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
        for variable, value in variables.items():
            command += ["--variable", f"{variable}={value}"]
        log_path = Path(state) / "host.log"
        with open(log_path, "w") as log:
            host = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(host, base, log_path)
            yield base
        finally:
            host.terminate()
            host.wait(timeout=30)
            if sys.exc_info()[0] is not None:
                sys.stderr.write(log_path.read_text()[-4000:])


def wait_until_healthy(host, base, log_path):
    # As long as crm_tests gives a host: with a cold compiled-code cache,
    # two hosts compiling every component at once on a busy machine took
    # over 120 s.
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/.well-known/spin/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if host.poll() is not None:
            sys.exit(f"crm-host exited:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    sys.exit("crm-host did not become healthy in 180 s")


def token(cli, role, email=None):
    command = [*cli.split(), "dev-token", "--role", role, "--sub", f"suite-{role}"]
    if email:
        command += ["--email", email]
    # (crm-cli says on stderr that the development key signed it.)
    return subprocess.check_output(command, text=True, stderr=subprocess.DEVNULL).strip()


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
    """The service, keys, templates and senders the suites' environment
    names, with a key of each type in `keys`."""
    admin = Staff(base, token(args.cli, "administrator"))
    author = Staff(base, token(args.cli, "communications-officer", AUTHOR_EMAIL))
    service = admin.call("POST", "/api/notifications/services",
                         {"name": "Notify client suites", "guest_list": [NUMBER, EMAIL]})["id"]

    def key(kind):
        return admin.call("POST", f"/api/notifications/services/{service}/keys",
                          {"name": f"suite {kind}", "key_type": kind})["key"]

    def template(first, *changes):
        """A template of the service's: `first` is version 1, each change a later version."""
        made = author.call("POST", "/api/templates", {"purpose": "service-delivery", **first})
        for change in changes:
            author.call("POST", f"/api/templates/{made['id']}/versions", change)
        author.call("PUT", f"/api/templates/{made['id']}/services", {"services": [service]})
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

    sms_sender_id = sender("sms-senders", {"sms_sender": "GOVSUITE"})
    # A second sender, a number, which texts are received at.
    inbound_sender_id = sender("sms-senders", {"sms_sender": INBOUND_NUMBER})
    # Oldest first: the newest is the one the suites look for first.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(received_text, [f"Received text {n}" for n in range(1, RECEIVED_TEXTS)]))
    received_text("Yes, please call me back")
    return {
        "keys": {kind: key(kind) for kind in KEY_TYPES},
        "NOTIFY_API_URL": base,
        "SERVICE_ID": service,
        "API_SENDING_KEY": key("team"),
        "FUNCTIONAL_TEST_NUMBER": NUMBER,
        "NON_GUEST_NUMBER": NON_GUEST_NUMBER,
        "FUNCTIONAL_TEST_EMAIL": EMAIL,
        "SMS_SENDER": "GOVSUITE",
        "INBOUND_NUMBER": INBOUND_NUMBER,
        # What a text sent from that number says it is from: Notify's
        # sending form, the digits with the country code.
        "INBOUND_NUMBER_AS_SENDER": "44" + INBOUND_NUMBER[1:],
        "INBOUND_SMS_SENDER_ID": inbound_sender_id,
        "RECEIVED_TEXTS": str(RECEIVED_TEXTS),
        "AUTHOR_EMAIL": AUTHOR_EMAIL,
        "CONTACT_BLOCK": CONTACT_BLOCK,
        # Notify's functional-test templates, as the suites read them back.
        "SMS_TEMPLATE_ID": template(
            {"type": "sms", "name": "Example text message template",
             "body": "Hello ((name))\r\n\r\nFunctional Tests make our world a better place"},
            {"name": "Client Functional test sms template"}),
        "EMAIL_TEMPLATE_ID": template(
            {"type": "email", "name": "Client Functional test email template",
             "subject": "Functional Tests are good",
             "body": "Hello ((name))\r\n\r\nFunctional test help make our world a better place"}),
        "LETTER_TEMPLATE_ID": template(
            {"type": "letter", "name": "Untitled", "subject": "Main heading",
             "body": "Hello ((address_line_1))"},
            {"name": "Client functional letter template", "letter_contact_block": CONTACT_BLOCK}),
        "FILE_EMAIL_TEMPLATE_ID": template(
            {"type": "email", "name": "Client functional test file template",
             "subject": "Your file", "body": "Download it here: ((link_to_file))"}),
        "SMS_SENDER_ID": sms_sender_id,
        "EMAIL_REPLY_TO_ID": sender("email-reply-to", {"email_address": "replies@example.gov.au"}),
    }


def suite_env(made, key_type):
    """The suites' variables for a run with a `key_type` key."""
    env = {name: value for name, value in made.items() if name != "keys"}
    env["KEY_TYPE"] = key_type
    env["API_KEY"] = made["keys"][key_type]
    # What the suites read another key type's message with.
    env["LIVE_API_KEY"] = made["keys"]["live"]
    env["TEST_API_KEY"] = made["keys"]["test"]
    return env
