"""Hypothesis over real HTTP where schemathesis cannot reach: payment creations shaped like real ones
(so the channel's create path runs) with fuzzed amounts, unicode and huge strings, and arbitrary bytes
posted to every provider's notification endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paymux.domain.models import SCENES, Channel
from tests.e2e.platform import DEMO_KEY, RunningPlatform
from tests.fuzz.notifications import provider
from tests.fuzz.test_api_schema import ERROR_FIELDS, TRACEBACK, created_order_ids

pytestmark = pytest.mark.e2e

http_settings = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
texts = (
    st.text(max_size=40)
    | st.text(min_size=2000, max_size=3000)
    | st.sampled_from(["", "测试订单", "\u202e", "\x00"])
)
amounts = (
    st.integers(-1, 10**14)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["100", None, True])
)


FUZZED_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "amount": amounts,
    "currency": st.sampled_from(["CNY", "xxx", "", "usd ", "jpy"]) | texts,
    "merchant_order_id": texts | st.integers(),
    "subject": texts | st.none(),
    "scene": st.sampled_from(["", "qr ", "card", "native", "web", "h5"]) | texts,
    "description": texts | st.integers(),
    "expires_in": st.integers(-1, 10**7) | st.floats(allow_nan=False, allow_infinity=False),
    "return_url": st.sampled_from(["javascript:alert(1)", "ftp://x", "https://"]) | texts,
    "client_ip": st.sampled_from(["::1", "999.1.1.1", "1.2.3"]) | texts,
    "metadata": st.dictionaries(texts, texts | st.integers(), max_size=4)
    | st.lists(st.integers(), max_size=2),
    "channel_extra": st.dictionaries(st.sampled_from(["openid", "x"]), texts | st.integers(), max_size=2),
}


def creations(channel: Channel) -> st.SearchStrategy[dict[str, Any]]:
    """Valid creations with unicode and odd-but-valid values, half of them with one field fuzzed."""
    valid = st.fixed_dictionaries(
        {
            "amount": st.integers(1, 1_000_000),
            "currency": st.just("usd" if channel is Channel.STRIPE else "cny"),
            # Fresh on every call (derandomized uuids repeat, and a repeat is only a 409).
            "merchant_order_id": st.builds(lambda: f"fuzz-{uuid.uuid4().hex}"),
            "subject": st.text(
                st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=80
            ),
            "scene": st.sampled_from(sorted(SCENES[channel] - {"jsapi"})),
        },
        optional={
            "description": st.text(max_size=120),
            "metadata": st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=60), max_size=3),
            "client_ip": st.sampled_from(["127.0.0.1", "203.0.113.9"]),
            "return_url": st.just("https://merchant.example/done"),
        },
    )
    one_field_fuzzed = st.tuples(valid, st.sampled_from(sorted(FUZZED_FIELDS))).flatmap(
        lambda drawn: FUZZED_FIELDS[drawn[1]].map(lambda value: {**drawn[0], drawn[1]: value})
    )
    return valid | one_field_fuzzed


@pytest.mark.parametrize("channel", list(Channel), ids=str)
@http_settings
@given(data=st.data())
def test_a_fuzzed_payment_creation_is_created_or_refused_cleanly(
    local_platform: RunningPlatform, channel: Channel, data: st.DataObject
) -> None:
    body = data.draw(creations(channel))
    answer = requests.post(
        f"{local_platform.url}/v1/channels/{channel.value}/payments",
        json=body,
        headers={**AUTH, "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )

    assert answer.status_code < 500, answer.text
    assert not TRACEBACK.search(answer.text)
    if answer.status_code == 201:
        created = answer.json()
        created_order_ids.add(created["merchant_order_id"])
        stored = requests.get(f"{local_platform.url}/v1/payments/{created['id']}", headers=AUTH, timeout=10)
        assert stored.json()["amount"] == body["amount"] == created["amount"]
        return
    assert set(answer.json()["error"]) == ERROR_FIELDS
    order_id = body["merchant_order_id"]
    if isinstance(order_id, str) and order_id not in created_order_ids and answer.status_code != 409:
        found = requests.get(
            f"{local_platform.url}/v1/payments",
            params={"merchant_order_id": order_id},
            headers=AUTH,
            timeout=10,
        )
        assert found.status_code == 400 or found.json()["data"] == [], "a refused creation left a payment"


@pytest.mark.parametrize("channel", list(Channel), ids=str)
@http_settings
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_arbitrary_bytes_to_a_notification_endpoint_get_the_providers_refusal(
    local_platform: RunningPlatform, channel: Channel, body: bytes, content_type: str
) -> None:
    answer = requests.post(
        f"{local_platform.url}/webhooks/{channel.value}",
        data=body,
        headers={"Content-Type": content_type} if content_type else {},
        timeout=30,
    )

    refusal = provider(channel).adapter.acknowledge(False)
    assert (answer.status_code, answer.text) == (refusal.status, refusal.body)
