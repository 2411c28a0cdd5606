"""Schemathesis hooks for the CRM's conformance run (tests/tests/audit/schemathesis.rs).

`/v2` is GOV.UK Notify's API: each request carries a JWT signed with a Notify
API key's secret whose `iat` must be within 30 seconds, so a static header
would expire mid-run. This provider signs a fresh token for every request from
the key in `CRM_NOTIFY_KEY` (`<name>-<service id>-<secret>`, as Notify issues
them).

Case management's hooks (below) offer ids that exist alongside generated ones.
"""

import os
import time

import jwt
import schemathesis
from hypothesis import strategies as st


@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/v2/")
class NotifyToken:
    def get(self, case, context):
        key = os.environ["CRM_NOTIFY_KEY"]
        service_id, secret = key[-73:-37], key[-36:]
        return jwt.encode({"iss": service_id, "iat": int(time.time())}, secret, algorithm="HS256")

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Case management: ids that exist (set up by the test, in `CRM_CASE_IDS`
# and `CRM_QUEUE_IDS`), offered alongside the generated ones so that
# requests reach past "no such case" into the handlers' rules.
CASE_TYPES = ["general-enquiry", "correction-request"]
STATUSES = ["new", "assigned", "in-progress", "awaiting-citizen", "resolved", "closed", "withdrawn"]


def known(name):
    return [value for value in os.environ.get(name, "").split(",") if value]


def sometimes(generated, key, choices):
    """`generated`, or it with `key` set to one of `choices`."""
    if not choices or not isinstance(generated, dict):
        return st.just(generated)
    return st.one_of(
        st.just(generated),
        st.sampled_from(choices).map(lambda value: {**generated, key: value}),
    )


@schemathesis.hook("flatmap_path_parameters").apply_to(path_regex=r"^/api/cases/\{id\}")
def an_existing_case(context, path_parameters):
    return sometimes(path_parameters, "id", known("CRM_CASE_IDS"))


@schemathesis.hook("flatmap_path_parameters").apply_to(path_regex=r"^/api/queues/\{id\}")
def an_existing_queue(context, path_parameters):
    return sometimes(path_parameters, "id", known("CRM_QUEUE_IDS"))


@schemathesis.hook("flatmap_body").apply_to(operation_id="openCase")
def a_configured_case_type(context, body):
    return sometimes(body, "case_type", CASE_TYPES).flatmap(
        lambda body: sometimes(body, "queue_id", known("CRM_QUEUE_IDS"))
    )


@schemathesis.hook("flatmap_body").apply_to(operation_id="transitionCase")
def a_configured_status(context, body):
    return sometimes(body, "to", STATUSES)


@schemathesis.hook("flatmap_body").apply_to(operation_id="assignCases")
def existing_cases(context, body):
    ids = known("CRM_CASE_IDS")
    return sometimes(body, "case_ids", [ids[:1], ids] if ids else [])
