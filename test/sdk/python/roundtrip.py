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
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svix.api import (
    ApplicationIn,
    ApplicationPatch,
    AppPortalAccessIn,
    ApplicationTokenExpireIn,
    EndpointHeadersIn,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointPatch,
    EndpointSecretRotateIn,
    EventTypeIn,
    EventTypePatch,
    EventTypeUpsertIn,
    EventExampleIn,
    MessageIn,
    RecoverIn,
    ReplayIn,
    Svix,
    SvixOptions,
)
from svix.api import (
    ApplicationListOptions,
    BackgroundTaskListOptions,
    EventTypeDeleteOptions,
    EventTypeListOptions,
    MessageGetOptions,
)
from svix.api.message import message_in_raw
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

    # Raw payloads: the receiver gets the exact bytes, with the content-type asked for, and
    # the SDK's verifier accepts the signature over them.
    xml = '<order id="7">\n  <total>42.00</total><note>é 🎉</note>\n</order>'
    raw_msg = svix.message.create(app.id, message_in_raw(order_type, xml, "application/xml"))
    got_xml = eventually("the raw delivery", lambda: next((r for r in Receiver.received if r["headers"].get("webhook-id") == raw_msg.id), None))
    assert got_xml["body"] == xml.encode("utf-8"), got_xml["body"]
    assert got_xml["headers"].get("content-type") == "application/xml", got_xml["headers"]
    Webhook(rotated.key).verify(got_xml["body"], got_xml["headers"])
    raw_json = '{ "id" : 9007199254740993,\n "b": 1e400 }'
    raw_json_msg = svix.message.create(app.id, message_in_raw(order_type, raw_json))
    got_json = eventually("the raw JSON delivery", lambda: next((r for r in Receiver.received if r["headers"].get("webhook-id") == raw_json_msg.id), None))
    assert got_json["body"] == raw_json.encode("utf-8") and got_json["headers"].get("content-type") == "application/json"
    Webhook(rotated.key).verify(got_json["body"], got_json["headers"])
    assert svix.message.get(app.id, raw_msg.id, MessageGetOptions(with_content=True)).payload == {}
    assert svix.message.get(app.id, raw_json_msg.id, MessageGetOptions(with_content=True)).payload == {"id": 9007199254740993, "b": float("inf")}
    step("raw payloads")

    # Expunging an attempt's response and a message's content; an expunged message is not resent.
    first = eventually("an attempt to expunge", lambda: next(iter(svix.message_attempt.list_by_msg(app.id, second.id).data), None))
    svix.message_attempt.expunge_content(app.id, second.id, first.id)
    expunged = svix.message_attempt.get(app.id, second.id, first.id)
    assert expunged.response == "EXPUNGED", expunged
    svix.message.expunge_content(app.id, second.id)
    # 2.x SDKs ask for no content unless told (with_content defaults to false).
    expired = svix.message.get(app.id, second.id, MessageGetOptions(with_content=True))
    assert expired.payload == {"expired": True}, expired
    resent = status_of(lambda: svix.message_attempt.resend(app.id, second.id, ep.id))
    assert resent == 400, resent
    step("expunge")

    # List orders (endpoints newest first, attempted destinations by ascending id) and send-example.
    other_eps = [svix.endpoint.create(app.id, EndpointIn(url=receiver_url + f"/{i}", event_types=[order_type])).id for i in range(2)]
    assert [e.id for e in svix.endpoint.list(app.id).data] == list(reversed([ep.id] + other_eps))
    fanned = svix.message.create(app.id, MessageIn(event_type=order_type, payload={"orderId": "o_3"}))
    dests = eventually("three destinations", lambda: (lambda d: d if len(d) == 3 else None)(svix.message_attempt.list_attempted_destinations(app.id, fanned.id).data))
    assert [d.id for d in dests] == [ep.id] + other_eps, [d.id for d in dests]
    example = svix.endpoint.send_example(app.id, ep.id, EventExampleIn(event_type="svix.ping"))
    assert example.event_type == "svix.ping" and example.payload == {"success": True}, example
    step("list orders and send example")

    # Background tasks after a recover, a replay-missing and an endpoint deletion.
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    late = svix.endpoint.create(app.id, EndpointIn(url=receiver_url + "/late", event_types=[order_type]))
    recovered = svix.endpoint.recover(app.id, ep.id, RecoverIn(since=since))
    replayed = svix.endpoint.replay_missing(app.id, late.id, ReplayIn(since=since))
    done = lambda tid: eventually(f"task {tid}", lambda: (lambda t: t if t.status != "running" else None)(svix.background_task.get(tid)))
    r1, r2 = done(recovered.id), done(replayed.id)
    assert (r1.task, r1.status, r1.data.get("messagesSent")) == ("endpoint.recover", "finished", 0), r1
    assert (r2.task, r2.status) == ("endpoint.replay", "finished") and r2.data.get("messagesSent", 0) >= 1, r2
    svix.endpoint.delete(app.id, late.id)
    tasks = svix.background_task.list(BackgroundTaskListOptions(limit=250)).data
    assert {recovered.id, replayed.id} <= {t.id for t in tasks}, tasks
    step("background tasks")

    # Expire-all: every portal token of the application stops working; a new one works.
    access2 = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    tenant2 = Svix(access2.token, SvixOptions(server_url=URL))
    assert tenant2.application.get(app.id).id == app.id
    svix.authentication.expire_all(app.id, ApplicationTokenExpireIn())
    assert status_of(lambda: tenant2.application.get(app.id)) == 401
    access3 = svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    assert Svix(access3.token, SvixOptions(server_url=URL)).application.get(app.id).id == app.id
    step("expire-all")

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
