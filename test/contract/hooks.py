"""Schemathesis hooks for test/contract/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

A valid idempotency key is made unique per request. Hookflow keeps Svix's semantics: a
repeated key replays the first answer (even after what it named was deleted) and a key
reused with another body is a 422. The fuzzer reuses the few keys it generates, which
would turn those deliberate answers into false failures; keys it generates invalid are
kept, so their refusal is still checked.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[\x21-\x7e]{1,256}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    # Negative cases are left alone: an edit makes schemathesis revalidate the case, which
    # would turn it positive and send the header or body it meant to leave out.
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(headers[name])):
            headers[name] = f"fuzz-{uuid.uuid4()}"
