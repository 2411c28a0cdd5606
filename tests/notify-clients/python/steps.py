"""The project's own suite for notifications-python-client: every operation
the client offers, through its own methods, against a real crm-host, each
answer checked against the schemas in `../schemas` (written from GOV.UK
Notify's API documentation) and the values sent.

`steps(env)` gives (name, step) pairs in order; later steps read what
earlier ones sent, so a failed send fails the steps that read it too.
"""

import io
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from jsonschema import Draft202012Validator
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from notifications_python_client.utils import prepare_upload
from referencing import Registry, Resource

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE.parent / "schemas"
LETTER_PDF = HERE.parent / "letter.pdf"
PAGE = 250
# What a test key's messages end as (Notify's test keys deliver at once).
TEST_KEY_STATUS = {"sms": "delivered", "email": "delivered", "letter": "received"}
ADDRESS = {"address_line_1": "Ada Lovelace", "address_line_2": "10 Whitechapel High Street",
           "address_line_3": "London", "address_line_4": "E1 8QS"}
CSV = b"case,status\n1,open\n"
# The functional-test templates filled in: a text message's line ends made
# `\n`, an email's as written (`\r\n`), as Notify's.
SMS_BODY = "Hello Ada\n\nFunctional Tests make our world a better place"
EMAIL_BODY = "Hello Ada\r\n\r\nFunctional test help make our world a better place"


class Schemas:
    """Every schema in `../schemas`, by file name, resolving each other's `$ref`s."""

    def __init__(self):
        loaded = [json.loads(path.read_text()) for path in sorted(SCHEMAS.glob("*.json"))]
        registry = Registry().with_resources(
            (schema["$id"], Resource.from_contents(schema)) for schema in loaded)
        self.validators = {
            schema["$id"].rsplit("/", 1)[1].removesuffix(".json"):
                Draft202012Validator(schema, registry=registry)
            for schema in loaded}

    def check(self, name, instance):
        errors = sorted(self.validators[name].iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            raise AssertionError(f"not a {name}: " + "; ".join(
                f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5]))
        return instance


def equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: {actual!r}, expected {expected!r}")


def refused(call, status, error, message, schemas):
    """Runs `call`, which must fail with Notify's error body: `status`, and
    one error named `error` saying `message`."""
    try:
        call()
    except HTTPError as failure:
        body = schemas.check("error", failure.response.json())
        equal(failure.status_code, status, "status")
        equal(body["status_code"], status, "status_code")
        equal([(e["error"], e["message"]) for e in body["errors"]], [(error, message)], "errors")
        return
    raise AssertionError(f"succeeded; expected {status} {error}: {message}")


def steps(env):
    schemas = Schemas()
    base, key_type, service = env["NOTIFY_API_URL"], env["KEY_TYPE"], env["SERVICE_ID"]

    def client(key):
        return NotificationsAPIClient(base_url=base, api_key=key)

    notify = client(env["API_KEY"])
    team = client(env["API_SENDING_KEY"])
    sms_template, email_template = env["SMS_TEMPLATE_ID"], env["EMAIL_TEMPLATE_ID"]
    letter_template, file_template = env["LETTER_TEMPLATE_ID"], env["FILE_EMAIL_TEMPLATE_ID"]
    run = uuid.uuid4().hex[:8]
    sent = {}  # name -> the send's answer
    pdf = LETTER_PDF.read_bytes()

    def reference(name):
        return f"{key_type}-{run}-{name}"

    def sent_sms(name, answer, sender):
        schemas.check("send_sms_response", answer)
        equal(answer["reference"], reference(name), "reference")
        equal(answer["content"]["body"], SMS_BODY, "content.body")
        equal(answer["content"]["from_number"], sender, "content.from_number")
        equal(answer["template"]["id"], sms_template, "template.id")
        equal(answer["template"]["version"], 2, "template.version")
        equal(answer["uri"], f"{base}/v2/notifications/{answer['id']}", "uri")
        sent[name] = answer

    def send_sms():
        sent_sms("sms", notify.send_sms_notification(
            env["FUNCTIONAL_TEST_NUMBER"], sms_template, {"name": "Ada"}, reference("sms")), env["SMS_SENDER"])

    def send_sms_with_sender():
        sent_sms("sms_sender", notify.send_sms_notification(
            env["FUNCTIONAL_TEST_NUMBER"], sms_template, {"name": "Ada"}, reference("sms_sender"),
            sms_sender_id=env["INBOUND_SMS_SENDER_ID"]), env["INBOUND_NUMBER_AS_SENDER"])

    def send_sms_team_guest():
        # The guest list has 07700900123: the same number, written otherwise.
        sent_sms("team_sms", team.send_sms_notification(
            "+44 7700 900123", sms_template, {"name": "Ada"}, reference("team_sms")), env["SMS_SENDER"])

    def send_sms_team_non_guest():
        refused(lambda: team.send_sms_notification(env["NON_GUEST_NUMBER"], sms_template, {"name": "Ada"}),
                400, "BadRequestError", "Can\u2019t send to this recipient using a team-only API key", schemas)

    def sent_email(name, answer, unsubscribe=None):
        schemas.check("send_email_response", answer)
        equal(answer["reference"], reference(name), "reference")
        equal(answer["content"]["one_click_unsubscribe_url"], unsubscribe, "content.one_click_unsubscribe_url")
        equal(answer["sanitised_content"], {}, "sanitised_content")
        sent[name] = answer

    def send_email_with_reply_to():
        answer = notify.send_email_notification(
            env["FUNCTIONAL_TEST_EMAIL"], email_template, {"name": "Ada"}, reference("email"),
            email_reply_to_id=env["EMAIL_REPLY_TO_ID"])
        sent_email("email", answer)
        equal(answer["content"]["subject"], "Functional Tests are good", "content.subject")
        equal(answer["content"]["body"], EMAIL_BODY, "content.body")

    def send_email_with_unsubscribe():
        url = f"https://example.gov.au/unsubscribe?run={run}"
        sent_email("email_unsubscribe", notify.send_email_notification(
            env["FUNCTIONAL_TEST_EMAIL"], email_template, {"name": "Ada"}, reference("email_unsubscribe"),
            one_click_unsubscribe_url=url), url)

    def file_link(name, **options):
        answer = notify.send_email_notification(
            env["FUNCTIONAL_TEST_EMAIL"], file_template,
            {"link_to_file": prepare_upload(io.BytesIO(CSV), filename="report.csv", **options)}, reference(name))
        sent_email(name, answer)
        link = re.fullmatch(r"Download it here: (\S+)", answer["content"]["body"])
        if not link or not link.group(1).startswith(f"{base}/"):
            raise AssertionError(f"no link to the file in {answer['content']['body']!r}")
        return link.group(1)

    def send_email_with_file():
        download = requests.get(file_link("file", confirm_email_before_download=False,
                                          retention_period="4 weeks"), timeout=30)
        equal(download.status_code, 200, "download status")
        equal(download.content, CSV, "downloaded file")
        equal(download.headers["content-disposition"], 'attachment; filename="report.csv"', "file name")

    def send_email_with_confirmed_file():
        link = file_link("confirmed_file")  # confirm_email_before_download defaults to true
        form = requests.get(link, timeout=30)
        equal((form.status_code, form.headers["content-type"].split(";")[0]), (200, "text/html"), "form")
        if CSV in form.content:
            raise AssertionError("the file was given before the address was confirmed")
        wrong = requests.post(link, data={"email_address": "someone.else@example.gov.au"}, timeout=30)
        equal(wrong.status_code, 403, "download with another address")
        right = requests.post(link, data={"email_address": env["FUNCTIONAL_TEST_EMAIL"]}, timeout=30)
        equal((right.status_code, right.content), (200, CSV), "download with the address")

    def send_email_with_bad_retention():
        refused(lambda: notify.send_email_notification(
            env["FUNCTIONAL_TEST_EMAIL"], file_template,
            {"link_to_file": prepare_upload(io.BytesIO(CSV), filename="report.csv", retention_period="79 weeks")}),
            400, "BadRequestError",
            "Unsupported value for retention_period '79 weeks'. Supported periods are from 1 to 78 weeks.", schemas)

    def send_letter():
        answer = schemas.check("send_letter_response", notify.send_letter_notification(
            letter_template, ADDRESS, reference("letter")))
        equal(answer["content"], {"subject": "Main heading", "body": "Hello Ada Lovelace"}, "content")
        equal(answer["reference"], reference("letter"), "reference")
        sent["letter"] = answer

    def send_precompiled(name, postage):
        def step():
            answer = schemas.check("send_precompiled_letter_response", notify.send_precompiled_letter_notification(
                reference(name), io.BytesIO(pdf), postage))
            equal((answer["reference"], answer["postage"]), (reference(name), postage or "second"), "answer")
            sent[name] = answer
        return step

    def send_precompiled_not_pdf():
        refused(lambda: notify.send_precompiled_letter_notification(
            reference("not_pdf"), io.BytesIO(b"Dear Ada, this is plain text.")),
            400, "BadRequestError", "Letter content is not a valid PDF", schemas)

    def read(name, kind, by_team_key=False, **expected):
        def step():
            answer = schemas.check("notification", notify.get_notification_by_id(sent[name]["id"]))
            equal(answer["type"], kind, "type")
            equal(answer["reference"], sent[name]["reference"], "reference")
            if key_type == "test" and not by_team_key:
                equal(answer["status"], TEST_KEY_STATUS[kind], "status")
            for field, value in expected.items():
                equal(answer[field], value, field)
        return step

    def test_key_reads_live_message():
        live = client(env["LIVE_API_KEY"]).send_sms_notification(
            env["FUNCTIONAL_TEST_NUMBER"], sms_template, {"name": "Ada"}, reference("live_sms"))
        sent["live_sms"] = live
        answer = schemas.check("notification", client(env["TEST_API_KEY"]).get_notification_by_id(live["id"]))
        equal((answer["id"], answer["reference"]), (live["id"], reference("live_sms")), "message")

    def unknown_notification():
        refused(lambda: notify.get_notification_by_id(str(uuid.uuid4())), 404, "NoResultFound",
                "No result found", schemas)

    def listed(**filters):
        page = schemas.check("notification_list", notify.get_all_notifications(**filters))
        return page, [n["id"] for n in page["notifications"]]

    def list_all():
        _, ids = listed()
        mine = [sent[n]["id"] for n in ("sms", "sms_sender", "email", "letter", "precompiled")]
        missing = [i for i in mine if i not in ids]
        if missing:
            raise AssertionError(f"not listed: {missing}")
        # A key lists only its own type's messages.
        if (sent["live_sms"]["id"] in ids) != (key_type == "live"):
            raise AssertionError(f"a {key_type} key's list and the live key's message disagree")

    def list_by_type():
        for kind in ("sms", "email", "letter"):
            page, _ = listed(template_type=kind)
            equal({n["type"] for n in page["notifications"]}, {kind}, f"types listed for {kind}")

    def list_by_status():
        status = notify.get_notification_by_id(sent["sms"]["id"])["status"]
        page, ids = listed(status=status)
        equal({n["status"] for n in page["notifications"]}, {status}, "statuses listed")
        if sent["sms"]["id"] not in ids:
            raise AssertionError(f"the sms ({status}) is not listed by its status")

    def list_by_reference():
        _, ids = listed(reference=reference("email"))
        equal(ids, [sent["email"]["id"]], "listed by reference")

    def list_older_than():
        _, ids = listed(older_than=sent["email"]["id"])
        if sent["email"]["id"] in ids or sent["letter"]["id"] in ids:
            raise AssertionError("older_than listed the message itself or a newer one")
        if sent["sms"]["id"] not in ids:
            raise AssertionError("older_than left out an older message")

    paged = []

    def list_pages():
        ref = reference("paged")

        def one(_):
            return client(env["API_KEY"]).send_sms_notification(
                env["FUNCTIONAL_TEST_NUMBER"], sms_template, {"name": "Ada"}, ref)["id"]
        with ThreadPoolExecutor(4) as pool:
            paged.extend(pool.map(one, range(PAGE + 1)))
        page, seen = listed(reference=ref)
        pages = [len(seen)]
        while "next" in page["links"]:
            older_than = re.search(r"older_than=([0-9a-f-]{36})", page["links"]["next"]).group(1)
            page, ids = listed(reference=ref, older_than=older_than)
            pages.append(len(ids))
            seen += ids
        equal(pages, [PAGE, 1, 0], "page sizes")
        equal(sorted(seen), sorted(paged), "messages over every page")

    def iterate_notifications():
        ids = [n["id"] for n in notify.get_all_notifications_iterator(reference=reference("paged"))]
        equal(sorted(ids), sorted(paged), "messages the iterator gave")

    def received_texts():
        page = schemas.check("received_text_list", notify.get_received_texts())
        texts = page["received_text_messages"]
        equal(len(texts), PAGE, "a page of received texts")
        equal((texts[0]["content"], texts[0]["notify_number"], texts[0]["service_id"]),
              ("Yes, please call me back", env["INBOUND_NUMBER"], service), "the newest received text")
        older = schemas.check("received_text_list", notify.get_received_texts(older_than=texts[-1]["id"]))
        equal(len(older["received_text_messages"]), int(env["RECEIVED_TEXTS"]) - PAGE, "the last page")

    def iterate_received_texts():
        texts = list(notify.get_received_texts_iterator())
        equal(len({t["id"] for t in texts}), int(env["RECEIVED_TEXTS"]), "received texts the iterator gave")
        created = [t["created_at"] for t in texts]
        equal(created, sorted(created, reverse=True), "received texts, newest first")

    def template(template_id, at_version=None, **expected):
        def step():
            answer = notify.get_template(template_id) if at_version is None else \
                notify.get_template_version(template_id, at_version)
            schemas.check("template", answer)
            equal(answer["id"], template_id, "id")
            equal(answer["created_by"], env["AUTHOR_EMAIL"], "created_by")
            for field, value in expected.items():
                equal(answer[field], value, field)
        return step

    def unknown_template():
        refused(lambda: notify.get_template(str(uuid.uuid4())), 404, "NoResultFound", "No result found", schemas)

    def all_templates():
        answer = schemas.check("template_list", notify.get_all_templates())
        equal(sorted(t["id"] for t in answer["templates"]),
              sorted([sms_template, email_template, letter_template, file_template]), "templates")
        for kind, count in (("sms", 1), ("email", 2), ("letter", 1)):
            typed = schemas.check("template_list", notify.get_all_templates(kind))["templates"]
            equal([t["type"] for t in typed], [kind] * count, f"{kind} templates")

    def preview_sms():
        answer = schemas.check("template_preview", notify.post_template_preview(sms_template, {"name": "Ada"}))
        equal((answer["id"], answer["type"], answer["version"]), (sms_template, "sms", 2), "template")
        equal(answer["body"], SMS_BODY, "body")

    def preview_email():
        answer = schemas.check("template_preview", notify.post_template_preview(email_template, {"name": "Ada"}))
        equal(answer["subject"], "Functional Tests are good", "subject")
        if "Hello Ada" not in answer["html"]:
            raise AssertionError(f"html without the name: {answer['html']!r}")

    def preview_missing_personalisation():
        refused(lambda: notify.post_template_preview(email_template, {}), 400, "BadRequestError",
                "Missing personalisation: name", schemas)

    def letter_pdf():
        # Ready as soon as the send was answered: the CRM renders it then.
        content = notify.get_pdf_for_letter(sent["letter"]["id"]).read()
        if not (content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")):
            raise AssertionError(f"not a PDF: {content[:20]!r}")

    def precompiled_pdf():
        equal(notify.get_pdf_for_letter(sent["precompiled"]["id"]).read(), pdf, "the precompiled letter's PDF")

    def pdf_not_a_letter():
        refused(lambda: notify.get_pdf_for_letter(sent["sms"]["id"]), 400, "BadRequestError",
                "Notification is not a letter", schemas)

    def bad_key():
        wrong = client(f"wrong-{service}-{uuid.uuid4()}")
        refused(wrong.get_all_notifications, 403, "AuthError", "Invalid token: API key not found", schemas)

    def send_refused(call, status, error, message):
        return lambda: refused(call, status, error, message, schemas)

    unknown = str(uuid.uuid4())
    number, email = env["FUNCTIONAL_TEST_NUMBER"], env["FUNCTIONAL_TEST_EMAIL"]
    return [
        ("send sms with reference", send_sms),
        ("send sms with sms_sender_id", send_sms_with_sender),
        ("send sms with a team key to a guest-list number written otherwise", send_sms_team_guest),
        ("send sms with a team key to a number on no guest list", send_sms_team_non_guest),
        ("send email with email_reply_to_id", send_email_with_reply_to),
        ("send email with one_click_unsubscribe_url", send_email_with_unsubscribe),
        ("send email with a prepare_upload file, no confirmation, 4 weeks", send_email_with_file),
        ("send email with a prepare_upload file to confirm the address for", send_email_with_confirmed_file),
        ("send email with a prepare_upload file kept too long", send_email_with_bad_retention),
        ("send letter", send_letter),
        ("send precompiled letter, second class", send_precompiled("precompiled", None)),
        ("send precompiled letter, first class", send_precompiled("precompiled_first", "first")),
        ("send precompiled letter that is not a PDF", send_precompiled_not_pdf),
        ("get sms by id", read("sms", "sms", phone_number=number, body=SMS_BODY)),
        ("get sms with sender by id", read("sms_sender", "sms", phone_number=number)),
        ("get team key's sms by id", read("team_sms", "sms", by_team_key=True, phone_number="+44 7700 900123")),
        ("get email by id", read("email", "email", email_address=email, subject="Functional Tests are good",
                                    body=EMAIL_BODY)),
        ("get email with unsubscribe link by id", read(
            "email_unsubscribe", "email", one_click_unsubscribe_url=f"https://example.gov.au/unsubscribe?run={run}")),
        ("get letter by id", read("letter", "letter", line_1="Ada Lovelace", line_2="10 Whitechapel High Street",
                                  line_3="London", postcode="E1 8QS", postage="second", body="Hello Ada Lovelace")),
        ("get precompiled letter by id", read("precompiled", "letter", postage="second")),
        ("get first class precompiled letter by id", read("precompiled_first", "letter", postage="first")),
        ("get a live key's message with a test key", test_key_reads_live_message),
        ("get unknown notification", unknown_notification),
        ("list notifications", list_all),
        ("list notifications by template_type", list_by_type),
        ("list notifications by status", list_by_status),
        ("list notifications by reference", list_by_reference),
        ("list notifications older_than", list_older_than),
        ("list notifications page by page with links.next", list_pages),
        ("iterate over notifications", iterate_notifications),
        ("get received texts, page by page", received_texts),
        ("iterate over received texts", iterate_received_texts),
        ("get sms template", template(sms_template, name="Client Functional test sms template", version=2,
                                      type="sms", personalisation={"name": {"required": True}})),
        ("get email template", template(email_template, type="email", subject="Functional Tests are good")),
        ("get letter template", template(letter_template, type="letter", name="Client functional letter template",
                                         letter_contact_block=env["CONTACT_BLOCK"], postage="second")),
        ("get sms template version 1", template(sms_template, 1, name="Example text message template",
                                                version=1, updated_at=None)),
        ("get unknown template", unknown_template),
        ("list templates, all and by type", all_templates),
        ("preview sms template", preview_sms),
        ("preview email template", preview_email),
        ("preview without personalisation", preview_missing_personalisation),
        ("get letter pdf", letter_pdf),
        ("get precompiled letter pdf", precompiled_pdf),
        ("get pdf of a text message", pdf_not_a_letter),
        ("bad key", bad_key),
        ("send to unknown template", send_refused(
            lambda: notify.send_sms_notification(number, unknown, {"name": "Ada"}),
            400, "BadRequestError", "Template not found")),
        ("send without personalisation", send_refused(
            lambda: notify.send_email_notification(email, email_template),
            400, "BadRequestError", "Missing personalisation: name")),
        ("send sms to too short a number", send_refused(
            lambda: notify.send_sms_notification("07700 90", sms_template, {"name": "Ada"}),
            400, "ValidationError", "phone_number Not enough digits")),
        ("send sms to a landline", send_refused(
            lambda: notify.send_sms_notification("020 7946 0958", sms_template, {"name": "Ada"}),
            400, "ValidationError", "phone_number Not a UK mobile number")),
        ("send email to an invalid address", send_refused(
            lambda: notify.send_email_notification("not-an-email", email_template, {"name": "Ada"}),
            400, "ValidationError", "email_address Not a valid email address")),
        ("send sms from unknown sender", send_refused(
            lambda: notify.send_sms_notification(number, sms_template, {"name": "Ada"}, sms_sender_id=unknown),
            400, "BadRequestError",
            f"sms_sender_id {unknown} does not exist in database for service id {service}")),
        ("send email with unknown reply-to", send_refused(
            lambda: notify.send_email_notification(email, email_template, {"name": "Ada"},
                                                   email_reply_to_id=unknown),
            400, "BadRequestError",
            f"email_reply_to_id {unknown} does not exist in database for service id {service}")),
        ("send letter with a team key", send_refused(
            lambda: team.send_letter_notification(letter_template, ADDRESS),
            403, "BadRequestError", "Cannot send letters with a team api key")),
        ("send precompiled letter with a team key", send_refused(
            lambda: team.send_precompiled_letter_notification(reference("team_pdf"), io.BytesIO(pdf)),
            403, "BadRequestError", "Cannot send letters with a team api key")),
    ]
