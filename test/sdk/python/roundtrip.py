"""The official Python SDK (svix 2.x) against Hookflow, as a customer's code uses it.

Run by test/svix-sdk-python.test.ts with HOOKFLOW_URL and HOOKFLOW_TOKEN (admin) set.
Every step asserts what it got; the last line printed is `ok <steps>` when all passed.
Deliveries go to a receiver on loopback in this process, and are checked with the SDK's
own Webhook.verify.
"""

import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svix.api import (
    ApplicationIn,
    ApplicationPatch,
    AppPortalAccessIn,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointPatch,
    EndpointSecretRotateIn,
    EventTypeIn,
    EventTypePatch,
    EventTypeUpsertIn,
    MessageIn,
    Svix,
    SvixOptions,
)
from svix.api import ApplicationListOptions, EventTypeDeleteOptions, EventTypeListOptions
from svix.exceptions import HttpError
from svix.webhooks import Webhook, WebhookVerificationError

URL = os.environ["HOOKFLOW_URL"]
TOKEN = os.environ["HOOKFLOW_TOKEN"]
SUFFIX = secrets.token_hex(3)
steps = []


def step(name):
    steps.append(name)
    print(f"step {name}", flush=True)


def status_of(fn):
    try:
        fn()
        return "ok"
    except HttpError as e:
        return e.status_code


def eventually(what, fn, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Receiver.received.append({"headers": dict(self.headers.items()), "body": body})
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/py"
    svix = Svix(TOKEN, SvixOptions(server_url=URL))

    # Applications
    uid = f"py-{SUFFIX}"
    app = svix.application.create(ApplicationIn(name="Python app", uid=uid, metadata={"tier": "gold"}))
    assert app.id.startswith("app_") and app.metadata == {"tier": "gold"}, app
    assert svix.application.get_or_create(ApplicationIn(name="ignored", uid=uid)).id == app.id
    assert svix.application.get(uid).id == app.id
    upserted = svix.application.upsert(app.id, ApplicationIn(name="Python app 2", uid=uid, throttle_rate=20))
    assert (upserted.name, upserted.throttle_rate) == ("Python app 2", 20), upserted
    patched = svix.application.patch(app.id, ApplicationPatch(metadata={"tier": "platinum"}))
    assert patched.metadata == {"tier": "platinum"} and patched.name == "Python app 2", patched
    assert app.id in [a.id for a in svix.application.list(ApplicationListOptions(limit=250)).data]
    assert status_of(lambda: svix.application.create(ApplicationIn(name="dup", uid=uid))) == 409
    assert status_of(lambda: svix.application.get("app_nosuchthing")) == 404
    step("applications")

    # Event types
    name = f"invoice.paid.{SUFFIX}"
    et = svix.event_type.create(EventTypeIn(name=name, description="An invoice was paid"))
    assert (et.name, et.archived) == (name, False), et
    assert svix.event_type.get(name).description == "An invoice was paid"
    assert svix.event_type.upsert(name, EventTypeUpsertIn(description="Paid", deprecated=True)).deprecated
    assert svix.event_type.patch(name, EventTypePatch(group_name="billing")).group_name == "billing"
    assert name in [e.name for e in svix.event_type.list(EventTypeListOptions(limit=250)).data]
    svix.event_type.delete(name)
    assert svix.event_type.get(name).archived  # Svix: an archived event type stays readable
    svix.event_type.delete(name, EventTypeDeleteOptions(expunge=True))
    assert status_of(lambda: svix.event_type.get(name)) == 404
    order_type = f"order.created.{SUFFIX}"
    svix.event_type.create(EventTypeIn(name=order_type, description="An order"))
    step("event types")

    # Endpoints, headers, secret
    ep = svix.endpoint.create(app.id, EndpointIn(url=receiver_url, event_types=[order_type]))
    assert ep.id.startswith("ep_") and ep.event_types == [order_type], ep
    assert svix.endpoint.get(app.id, ep.id).url == receiver_url
    assert svix.endpoint.patch(app.id, ep.id, EndpointPatch(description="py")).description == "py"
    assert ep.id in [e.id for e in svix.endpoint.list(app.id).data]
    svix.endpoint.set_headers(app.id, ep.id, EndpointHeadersIn(headers={"X-One": "1", "X-Two": "2"}))
    svix.endpoint.patch_headers(
        app.id, ep.id, EndpointHeadersPatchIn(headers={"X-Three": "3"}, delete_headers=["X-One"])
    )
    assert svix.endpoint.get_headers(app.id, ep.id).headers == {"x-two": "2", "x-three": "3"}
    secret = svix.endpoint.get_secret(app.id, ep.id).key
    assert secret.startswith("whsec_"), secret
    step("endpoints and headers")

    # Messages, a real delivery verified with Webhook.verify, attempts, resend
    msg = svix.message.create(app.id, MessageIn(event_type=order_type, payload={"orderId": "o_1"}))
    assert msg.id.startswith("msg_"), msg
    assert svix.message.get(app.id, msg.id).event_type == order_type
    assert msg.id in [m.id for m in svix.message.list(app.id).data]
    got = eventually("the delivery", lambda: next((r for r in Receiver.received if r["headers"].get("webhook-id") == msg.id), None))
    Webhook(secret).verify(got["body"], got["headers"])
    assert json.loads(got["body"]) == {"orderId": "o_1"}
    assert got["headers"].get("x-two") == "2" and "x-one" not in {k.lower() for k in got["headers"]}
    try:
        Webhook("whsec_" + "A" * 32).verify(got["body"], got["headers"])
        raise AssertionError("a wrong secret verified")
    except WebhookVerificationError:
        pass
    attempts = eventually(
        "a successful attempt",
        lambda: [a for a in svix.message_attempt.list_by_msg(app.id, msg.id).data if a.status == 0],
    )
    assert attempts[0].endpoint_id == ep.id and attempts[0].response_status_code == 200, attempts[0]
    assert msg.id in [a.msg_id for a in svix.message_attempt.list_by_endpoint(app.id, ep.id).data]
    svix.message_attempt.resend(app.id, msg.id, ep.id)
    eventually("the resent delivery", lambda: sum(1 for r in Receiver.received if r["headers"].get("webhook-id") == msg.id) >= 2)
    step("messages, verify, attempts, resend")

    # Secret rotation: the SDK gets the new secret back; the next delivery verifies with it.
    rotated = svix.endpoint.rotate_secret(app.id, ep.id, EndpointSecretRotateIn())
    assert rotated.key.startswith("whsec_") and rotated.key != secret, rotated
    assert svix.endpoint.get_secret(app.id, ep.id).key == rotated.key
    second = svix.message.create(app.id, MessageIn(event_type=order_type, payload={"orderId": "o_2"}))
    got2 = eventually("the delivery after rotation", lambda: next((r for r in Receiver.received if r["headers"].get("webhook-id") == second.id), None))
    Webhook(rotated.key).verify(got2["body"], got2["headers"])
    step("secret rotation")

    # Portal access: a token for this application only, refused after logout.
    access = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    assert f"#token={access.token}" in access.url, access.url
    tenant = Svix(access.token, SvixOptions(server_url=URL))
    assert tenant.application.get(app.id).id == app.id
    assert status_of(lambda: tenant.application.list()) == 403
    tenant.authentication.logout()
    assert status_of(lambda: tenant.application.get(app.id)) == 401
    step("portal access and logout")

    svix.endpoint.delete(app.id, ep.id)
    svix.application.delete(app.id)
    assert status_of(lambda: svix.application.get(app.id)) == 404
    svix.event_type.delete(order_type, EventTypeDeleteOptions(expunge=True))
    server.shutdown()
    print("ok " + ",".join(steps), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test shows this
        print(f"FAILED after steps {steps}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        raise
