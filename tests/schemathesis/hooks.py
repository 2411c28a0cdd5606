"""Schemathesis hooks for the CRM's conformance run (tests/tests/audit/schemathesis.rs).

`/v2` is GOV.UK Notify's API: each request carries a JWT signed with a Notify
API key's secret whose `iat` must be within 30 seconds, so a static header
would expire mid-run. This provider signs a fresh token for every request from
the key in `CRM_NOTIFY_KEY` (`<name>-<service id>-<secret>`, as Notify issues
them).
"""

import os
import time

import jwt
import schemathesis


@schemathesis.auth(refresh_interval=None).apply_to(path_regex="^/v2/")
class NotifyToken:
    def get(self, case, context):
        key = os.environ["CRM_NOTIFY_KEY"]
        service_id, secret = key[-73:-37], key[-36:]
        return jwt.encode({"iss": service_id, "iat": int(time.time())}, secret, algorithm="HS256")

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
