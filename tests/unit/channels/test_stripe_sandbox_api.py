"""The sandbox's Stripe API emulation, spoken to as the SDK does: form bodies, Bearer keys,
Idempotency-Key, Stripe's error shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paymux.channels.stripe.sandbox.forms import FormError, decode_form
from paymux.channels.stripe.sandbox.objects import API_VERSION
from tests.unit.channels.stripe_support import NOON, StripeWorld

BASE = "https://stripe-sandbox.paymux.invalid"


def call(
    world: StripeWorld,
    method: str,
    path: str,
    body: str = "",
    *,
    key: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Authorization": f"Bearer {key or world.credentials.secret_key.get_secret_value()}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    answer = world.api.handle(method, f"{BASE}{path}", headers, body)
    return answer.status, json.loads(answer.body), answer.headers


def test_forms_decode_stripes_nested_parameters() -> None:
    decoded = decode_form(
        "amount=100&metadata[a]=x&metadata[b]=&allowed_payment_method_types[0]=card&expand[]=p&expand[]=q"
        "&created[gte]=1&created[lt]=2"
    )
    assert decoded == {
        "amount": "100",
        "metadata": {"a": "x", "b": ""},
        "allowed_payment_method_types": ["card"],
        "expand": ["p", "q"],
        "created": {"gte": "1", "lt": "2"},
    }


def test_forms_refuse_a_value_that_is_also_a_hash() -> None:
    with pytest.raises(FormError):
        decode_form("a=1&a[b]=2")


def test_requests_need_the_sandbox_key() -> None:
    world = StripeWorld()
    status, body, _ = call(world, "GET", "/v1/payment_intents/pi_3x", key="sk_test_someone_else_1234")
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert "sk_test_someone_else_1234" not in body["error"]["message"]
    answer = world.api.handle("GET", f"{BASE}/v1/payment_intents/pi_3x", {}, None)
    assert answer.status == 401


def test_create_renders_a_payment_intent_in_stripes_shape() -> None:
    world = StripeWorld()
    status, intent, headers = call(
        world,
        "POST",
        "/v1/payment_intents",
        "amount=2000&currency=eur&allowed_payment_method_types[0]=card&metadata[paymux_payment_id]=pay_1",
        idempotency_key="k1",
    )
    assert status == 200
    assert headers["request-id"].startswith("req_")
    assert headers["stripe-version"] == API_VERSION
    assert intent["object"] == "payment_intent"
    assert intent["id"].startswith("pi_")
    assert intent["client_secret"].startswith(f"{intent['id']}_secret_")
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        2000,
        "eur",
        "requires_payment_method",
    )
    assert intent["metadata"] == {"paymux_payment_id": "pay_1"}
    assert intent["created"] == NOON


def test_an_idempotency_key_replays_the_first_answer() -> None:
    world = StripeWorld()
    body = "amount=2000&currency=eur"
    _, first, _ = call(world, "POST", "/v1/payment_intents", body, idempotency_key="k1")
    status, again, headers = call(world, "POST", "/v1/payment_intents", body, idempotency_key="k1")
    assert status == 200
    assert again["id"] == first["id"]
    assert headers["idempotent-replayed"] == "true"


def test_an_idempotency_key_reused_with_other_parameters_is_refused() -> None:
    world = StripeWorld()
    call(world, "POST", "/v1/payment_intents", "amount=2000&currency=eur", idempotency_key="k1")
    status, body, _ = call(
        world, "POST", "/v1/payment_intents", "amount=2001&currency=eur", idempotency_key="k1"
    )
    assert status == 400
    assert body["error"]["type"] == "idempotency_error"


def test_errors_use_stripes_shape() -> None:
    world = StripeWorld()
    status, body, _ = call(world, "GET", "/v1/payment_intents/pi_3missing")
    assert status == 404
    assert body["error"]["code"] == "resource_missing"
    assert body["error"]["param"] == "intent"
    assert body["error"]["message"] == "No such payment_intent: 'pi_3missing'"
    status, body, _ = call(world, "POST", "/v1/payment_intents", "currency=usd")
    assert (status, body["error"]["param"]) == (400, "amount")
    status, body, _ = call(world, "GET", "/v1/charges")
    assert status == 404
    assert "Unrecognized request URL" in body["error"]["message"]


def test_a_declined_card_answers_402_and_leaves_the_intent_failed() -> None:
    world = StripeWorld()
    _, intent, _ = call(world, "POST", "/v1/payment_intents", "amount=500&currency=usd")
    status, body, _ = call(
        world, "POST", f"/v1/payment_intents/{intent['id']}/confirm", "payment_method=pm_card_chargeDeclined"
    )
    assert status == 402
    assert body["error"]["type"] == "card_error"
    assert body["error"]["decline_code"] == "generic_decline"
    assert body["error"]["payment_intent"]["status"] == "requires_payment_method"
    _, after, _ = call(world, "GET", f"/v1/payment_intents/{intent['id']}")
    assert after["last_payment_error"]["code"] == "card_declined"


def test_refunds_never_exceed_the_charge() -> None:
    world = StripeWorld()
    _, intent, _ = call(
        world,
        "POST",
        "/v1/payment_intents",
        "amount=500&currency=usd&confirm=true&payment_method=pm_card_visa",
    )
    assert intent["status"] == "succeeded"
    status, first, _ = call(world, "POST", "/v1/refunds", f"payment_intent={intent['id']}&amount=300")
    assert (status, first["status"], first["amount"]) == (200, "succeeded", 300)
    status, body, _ = call(world, "POST", "/v1/refunds", f"payment_intent={intent['id']}&amount=201")
    assert (status, body["error"]["code"]) == (400, "amount_too_large")
    status, rest, _ = call(world, "POST", "/v1/refunds", f"payment_intent={intent['id']}")
    assert (status, rest["amount"]) == (200, 200)
    status, body, _ = call(world, "POST", "/v1/refunds", f"payment_intent={intent['id']}")
    assert (status, body["error"]["code"]) == (400, "charge_already_refunded")


def test_balance_transactions_page_newest_first_within_the_created_range() -> None:
    world = StripeWorld()
    intents = []
    for offset in range(3):
        world.clock.now = NOON + offset
        _, intent, _ = call(
            world,
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&confirm=true&payment_method=pm_card_visa",
        )
        intents.append(intent)
    query = f"created[gte]={NOON}&created[lt]={NOON + 2}&limit=1&expand[0]=data.source"
    _, first, _ = call(world, "GET", f"/v1/balance_transactions?{query}")
    assert first["has_more"] is True
    assert first["data"][0]["source"]["payment_intent"] == intents[1]["id"]
    assert first["data"][0]["fee"] == 59
    _, second, _ = call(
        world, "GET", f"/v1/balance_transactions?{query}&starting_after={first['data'][0]['id']}"
    )
    assert [txn["source"]["payment_intent"] for txn in second["data"]] == [intents[0]["id"]]
    assert second["has_more"] is False
