"""The ledger on a real table: the same tests run on moto and on AWS DynamoDB Local."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from paymux.domain.errors import (
    Conflict,
    DuplicateMerchantOrderId,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    RefundExceedsAmount,
)
from paymux.domain.ids import IdPrefix, new_id
from paymux.domain.models import ApiKey, Channel, EventType, Merchant, MerchantScope, Mode
from paymux.domain.states import PaymentStatus, RefundStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.ports import PaymentChanges, PaymentFilter
from paymux.ledger.sandbox_store import DynamoSandboxStore
from tests import builders
from tests.integration.helpers import events_about, paid_payment, stored_payment, succeed

NO_FILTER = PaymentFilter()


# -- payments --------------------------------------------------------------------------------


def test_a_created_payment_reads_back_as_written(ledger: DynamoLedger) -> None:
    payment = builders.payment(metadata={"cart": "42"}, credential={"qr_code": "https://qr.example/x"})
    event = builders.event_for(payment)

    ledger.create_payment(payment, event)

    assert ledger.get_payment(payment.id, payment.scope) == payment
    assert ledger.get_event(event.id, payment.scope) == event
    assert ledger.find_payment_id_by_merchant_order_id(payment.scope, payment.merchant_order_id) == payment.id


@pytest.mark.parametrize(
    "other_scope",
    [
        pytest.param(lambda scope: builders.merchant_scope(scope.mode), id="another-merchant"),
        pytest.param(
            lambda scope: MerchantScope(merchant_id=scope.merchant_id, mode=Mode.LIVE), id="live-mode"
        ),
    ],
)
def test_a_payment_is_not_found_outside_its_merchant_and_mode(
    ledger: DynamoLedger, other_scope: Callable[[MerchantScope], MerchantScope]
) -> None:
    payment = stored_payment(ledger, builders.payment())
    outsider = other_scope(payment.scope)

    with pytest.raises(NotFound):
        ledger.get_payment(payment.id, outsider)
    assert ledger.find_payment_id_by_merchant_order_id(outsider, payment.merchant_order_id) is None
    assert ledger.list_payments(outsider, NO_FILTER, 10, None).data == []


def test_a_missing_payment_is_not_found(ledger: DynamoLedger) -> None:
    with pytest.raises(NotFound):
        ledger.get_payment(new_id(IdPrefix.PAYMENT))


def test_a_duplicate_merchant_order_id_is_refused_and_nothing_is_written(ledger: DynamoLedger) -> None:
    first = stored_payment(ledger, builders.payment(merchant_order_id="order-1"))
    second = builders.payment(first.scope, merchant_order_id="order-1")
    second_event = builders.event_for(second)

    with pytest.raises(DuplicateMerchantOrderId):
        ledger.create_payment(second, second_event)

    with pytest.raises(NotFound):
        ledger.get_payment(second.id)
    with pytest.raises(NotFound):
        ledger.get_event(second_event.id)
    assert ledger.find_payment_id_by_merchant_order_id(first.scope, "order-1") == first.id
    assert [p.id for p in ledger.list_payments(first.scope, NO_FILTER, 10, None).data] == [first.id]


def test_a_merchant_order_id_is_unique_per_merchant_and_mode_only(ledger: DynamoLedger) -> None:
    first = stored_payment(ledger, builders.payment(merchant_order_id="order-1"))
    live = stored_payment(
        ledger,
        builders.payment(
            MerchantScope(merchant_id=first.merchant_id, mode=Mode.LIVE), merchant_order_id="order-1"
        ),
    )
    other = stored_payment(ledger, builders.payment(merchant_order_id="order-1"))

    for payment in (first, live, other):
        assert ledger.find_payment_id_by_merchant_order_id(payment.scope, "order-1") == payment.id


def test_a_transition_updates_the_payment_and_writes_exactly_one_event(ledger: DynamoLedger) -> None:
    payment = stored_payment(ledger, builders.payment())

    paid = succeed(ledger, payment)

    stored = ledger.get_payment(payment.id, payment.scope)
    assert stored == paid
    assert stored.status is PaymentStatus.SUCCEEDED
    assert stored.channel_transaction_id == "2024TRADE"
    assert stored.paid_at is not None
    assert stored.version == payment.version + 1
    assert len(events_about(ledger, payment.scope, payment.id, EventType.PAYMENT_SUCCEEDED)) == 1
    assert len(events_about(ledger, payment.scope, payment.id)) == 2


def test_a_second_transition_is_refused_and_writes_no_event(ledger: DynamoLedger) -> None:
    payment = stored_payment(ledger, builders.payment())
    paid = succeed(ledger, payment)
    # A writer still holding the `requires_action` copy tries to fail the payment.
    failed = payment.model_copy(update={"status": PaymentStatus.FAILED})
    late_event = builders.event_for(failed)

    with pytest.raises(InvalidTransition):
        ledger.transition_payment(
            payment,
            PaymentStatus.FAILED,
            PaymentChanges(updated=paid.updated + 1, failure_code="x"),
            late_event,
        )

    assert ledger.get_payment(payment.id) == paid
    with pytest.raises(NotFound):
        ledger.get_event(late_event.id)
    assert len(events_about(ledger, payment.scope, payment.id)) == 2


# -- listing ---------------------------------------------------------------------------------


def test_payments_are_listed_newest_first_in_pages(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    payments = [stored_payment(ledger, builders.payment(scope, created=start + i)) for i in range(5)]
    newest_first = [p.id for p in reversed(payments)]

    first = ledger.list_payments(scope, NO_FILTER, 2, None)
    second = ledger.list_payments(scope, NO_FILTER, 2, first.data[-1].id)
    last = ledger.list_payments(scope, NO_FILTER, 2, second.data[-1].id)

    assert [p.id for p in first.data] == newest_first[:2]
    assert first.has_more
    assert [p.id for p in second.data] == newest_first[2:4]
    assert second.has_more
    assert [p.id for p in last.data] == newest_first[4:]
    assert not last.has_more
    assert ledger.list_payments(scope, NO_FILTER, 5, None).has_more is False


def test_payments_are_filtered_by_channel_status_and_created_range(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    old = stored_payment(ledger, builders.payment(scope, created=start))
    card = stored_payment(
        ledger, builders.payment(scope, channel=Channel.STRIPE, scene="card", created=start + 100)
    )
    paid = succeed(ledger, stored_payment(ledger, builders.payment(scope, created=start + 200)))
    newest = stored_payment(ledger, builders.payment(scope, created=start + 300))

    def listed(filters: PaymentFilter) -> list[str]:
        return [p.id for p in ledger.list_payments(scope, filters, 10, None).data]

    assert listed(PaymentFilter(channel="stripe")) == [card.id]
    assert listed(PaymentFilter(channel="alipay")) == [newest.id, paid.id, old.id]
    assert listed(PaymentFilter(status="succeeded")) == [paid.id]
    assert listed(PaymentFilter(status="requires_action", channel="alipay")) == [newest.id, old.id]
    assert listed(PaymentFilter(created_gte=start + 100, created_lte=start + 200)) == [paid.id, card.id]
    assert listed(PaymentFilter(created_gte=start + 250)) == [newest.id]
    assert listed(PaymentFilter(created_lte=start + 50)) == [old.id]
    assert listed(PaymentFilter(created_gte=start + 300, created_lte=start)) == []


def test_a_filter_matching_few_items_still_fills_the_page(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    wanted = [
        stored_payment(
            ledger, builders.payment(scope, channel=Channel.STRIPE, scene="card", created=start + i)
        )
        for i in range(3)
    ]
    for i in range(4):
        stored_payment(ledger, builders.payment(scope, created=start + 10 + i))

    page = ledger.list_payments(scope, PaymentFilter(channel="stripe"), 2, None)

    assert [p.id for p in page.data] == [wanted[2].id, wanted[1].id]
    assert page.has_more


def test_a_cursor_from_another_merchant_cannot_reach_their_payments(ledger: DynamoLedger) -> None:
    start = int(time.time()) - 1000
    victim = builders.merchant_scope()
    victims = [stored_payment(ledger, builders.payment(victim, created=start + i)) for i in range(0, 10, 2)]
    attacker = builders.merchant_scope()
    own = [stored_payment(ledger, builders.payment(attacker, created=start + i)) for i in range(1, 10, 2)]
    own_ids = {p.id for p in own}

    for cursor in [p.id for p in victims]:
        page = ledger.list_payments(attacker, NO_FILTER, 100, cursor)
        assert {p.id for p in page.data} <= own_ids
        assert all(p.merchant_id == attacker.merchant_id for p in page.data)


@pytest.mark.parametrize(
    "cursor", ["pay_", "a", "pay_00000000000000000000000000", "zzz", "MCH#x#test#PAYMENTS"]
)
def test_a_forged_cursor_gives_a_page_of_the_callers_own_payments_or_none(
    ledger: DynamoLedger, cursor: str
) -> None:
    scope = builders.merchant_scope()
    own = stored_payment(ledger, builders.payment(scope))
    stored_payment(ledger, builders.payment())

    page = ledger.list_payments(scope, NO_FILTER, 10, cursor)

    assert [p.id for p in page.data] in ([], [own.id])
    assert not page.has_more


def test_a_cursor_older_than_the_created_range_gives_an_empty_page(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    old = stored_payment(ledger, builders.payment(scope, created=start))
    stored_payment(ledger, builders.payment(scope, created=start + 100))

    page = ledger.list_payments(scope, PaymentFilter(created_gte=start + 50), 10, old.id)

    assert page.data == []
    assert not page.has_more


# -- refunds ---------------------------------------------------------------------------------


def test_partial_and_multiple_refunds_up_to_the_amount(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    refunds = [builders.refund(payment, amount=amount) for amount in (30, 50, 20)]

    for refund in refunds:
        ledger.create_refund(payment, refund, builders.event_for(refund))

    stored = ledger.get_payment(payment.id)
    assert stored.amount_refund_reserved == 100
    assert stored.amount_refunded == 0
    assert ledger.get_refund(refunds[0].id, payment.scope) == refunds[0]
    listed = ledger.list_refunds(payment.id, 10, None)
    assert sorted(r.id for r in listed.data) == sorted(r.id for r in refunds)
    assert [r.id for r in listed.data] == sorted((r.id for r in refunds), reverse=True)
    assert len(events_about(ledger, payment.scope, refunds[1].id, EventType.REFUND_CREATED)) == 1


def test_a_refund_past_the_amount_is_refused_and_nothing_is_written(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    ledger.create_refund(payment, first := builders.refund(payment, amount=70), builders.event_for(first))
    excess = builders.refund(payment, amount=31)
    excess_event = builders.event_for(excess)

    with pytest.raises(RefundExceedsAmount):
        ledger.create_refund(payment, excess, excess_event)

    assert ledger.get_payment(payment.id).amount_refund_reserved == 70
    with pytest.raises(NotFound):
        ledger.get_refund(excess.id)
    with pytest.raises(NotFound):
        ledger.get_event(excess_event.id)


def test_a_refund_larger_than_the_payment_is_refused(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)

    with pytest.raises(RefundExceedsAmount):
        ledger.create_refund(
            payment, too_big := builders.refund(payment, amount=101), builders.event_for(too_big)
        )

    assert ledger.get_payment(payment.id).amount_refund_reserved == 0


@pytest.mark.parametrize("amount", [0, -50])
def test_a_refund_that_is_not_positive_is_refused(ledger: DynamoLedger, amount: int) -> None:
    payment = paid_payment(ledger, amount=100)
    ledger.create_refund(payment, first := builders.refund(payment, amount=100), builders.event_for(first))

    with pytest.raises(InvalidRequest):
        ledger.create_refund(payment, bad := builders.refund(payment, amount=amount), builders.event_for(bad))

    assert ledger.get_payment(payment.id).amount_refund_reserved == 100
    with pytest.raises(NotFound):
        ledger.get_refund(bad.id)


@pytest.mark.parametrize(
    "status", [PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED, PaymentStatus.CLOSED]
)
def test_a_refund_of_a_payment_that_did_not_succeed_is_refused(
    ledger: DynamoLedger, status: PaymentStatus
) -> None:
    payment = stored_payment(ledger, builders.payment(amount=100))
    if status is not PaymentStatus.REQUIRES_ACTION:
        moved = payment.model_copy(update={"status": status})
        payment = ledger.transition_payment(
            payment, status, PaymentChanges(updated=payment.updated), builders.event_for(moved)
        )
    refund = builders.refund(payment, amount=10)
    refund_event = builders.event_for(refund)

    with pytest.raises(InvalidTransition):
        ledger.create_refund(payment, refund, refund_event)

    assert ledger.get_payment(payment.id).amount_refund_reserved == 0
    with pytest.raises(NotFound):
        ledger.get_refund(refund.id)
    with pytest.raises(NotFound):
        ledger.get_event(refund_event.id)


def test_a_duplicate_merchant_refund_id_is_refused_and_nothing_is_written(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    first = builders.refund(payment, amount=10, merchant_refund_id="rf-1")
    ledger.create_refund(payment, first, builders.event_for(first))
    again = builders.refund(payment, amount=10, merchant_refund_id="rf-1")
    again_event = builders.event_for(again)

    with pytest.raises(Conflict) as refused:
        ledger.create_refund(payment, again, again_event)

    assert refused.value.code == "duplicate_merchant_refund_id"
    assert ledger.get_payment(payment.id).amount_refund_reserved == 10
    with pytest.raises(NotFound):
        ledger.get_refund(again.id)
    with pytest.raises(NotFound):
        ledger.get_event(again_event.id)


def test_a_succeeded_refund_counts_in_amount_refunded(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    refund = builders.refund(payment, amount=30)
    ledger.create_refund(payment, refund, builders.event_for(refund))
    settled = refund.model_copy(update={"status": RefundStatus.SUCCEEDED})

    result = ledger.transition_refund(
        refund,
        RefundStatus.SUCCEEDED,
        refund.created + 1,
        builders.event_for(settled, EventType.REFUND_SUCCEEDED),
        channel_refund_id="RF2024",
    )

    assert ledger.get_refund(refund.id) == result
    assert result.status is RefundStatus.SUCCEEDED
    assert result.channel_refund_id == "RF2024"
    stored = ledger.get_payment(payment.id)
    assert (stored.amount_refunded, stored.amount_refund_reserved) == (30, 30)
    assert len(events_about(ledger, payment.scope, refund.id, EventType.REFUND_SUCCEEDED)) == 1


def test_a_failed_refund_releases_its_reservation(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    refund = builders.refund(payment, amount=100)
    ledger.create_refund(payment, refund, builders.event_for(refund))
    failed = refund.model_copy(update={"status": RefundStatus.FAILED})

    ledger.transition_refund(
        refund,
        RefundStatus.FAILED,
        refund.created + 1,
        builders.event_for(failed, EventType.REFUND_FAILED),
        failure_code="REFUND_FAIL",
    )

    stored = ledger.get_payment(payment.id)
    assert (stored.amount_refunded, stored.amount_refund_reserved) == (0, 0)
    assert ledger.get_refund(refund.id).failure_code == "REFUND_FAIL"
    retry = builders.refund(payment, amount=100)
    ledger.create_refund(payment, retry, builders.event_for(retry))
    assert ledger.get_payment(payment.id).amount_refund_reserved == 100


def test_a_settled_refund_cannot_be_settled_again(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    refund = builders.refund(payment, amount=40)
    ledger.create_refund(payment, refund, builders.event_for(refund))
    ledger.transition_refund(
        refund,
        RefundStatus.SUCCEEDED,
        refund.created + 1,
        builders.event_for(refund, EventType.REFUND_SUCCEEDED),
    )
    late_event = builders.event_for(refund, EventType.REFUND_FAILED)

    with pytest.raises(InvalidTransition):
        ledger.transition_refund(refund, RefundStatus.FAILED, refund.created + 2, late_event)

    stored = ledger.get_payment(payment.id)
    assert (stored.amount_refunded, stored.amount_refund_reserved) == (40, 40)
    assert ledger.get_refund(refund.id).status is RefundStatus.SUCCEEDED
    with pytest.raises(NotFound):
        ledger.get_event(late_event.id)


def test_a_refund_is_not_found_outside_its_merchant_and_mode(ledger: DynamoLedger) -> None:
    payment = paid_payment(ledger, amount=100)
    refund = builders.refund(payment, amount=10)
    ledger.create_refund(payment, refund, builders.event_for(refund))

    with pytest.raises(NotFound):
        ledger.get_refund(refund.id, builders.merchant_scope())
    with pytest.raises(NotFound):
        ledger.get_refund(refund.id, MerchantScope(merchant_id=payment.merchant_id, mode=Mode.LIVE))


# -- events ----------------------------------------------------------------------------------


def test_events_are_listed_newest_first_filtered_by_type_and_scoped(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    payments = [stored_payment(ledger, builders.payment(scope, created=start + i)) for i in range(3)]
    paid = succeed(ledger, payments[0])
    stored_payment(ledger, builders.payment())

    everything = ledger.list_events(scope, None, 10, None).data
    created = ledger.list_events(scope, EventType.PAYMENT_CREATED.value, 2, None)
    succeeded = ledger.list_events(scope, EventType.PAYMENT_SUCCEEDED.value, 10, None).data

    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert len(everything) == 4
    assert {e.merchant_id for e in everything} == {scope.merchant_id}
    assert [e.data["object"]["id"] for e in created.data] == [payments[2].id, payments[1].id]
    assert created.has_more
    assert [e.data["object"]["id"] for e in succeeded] == [paid.id]
    assert succeeded[0].data["object"]["status"] == "succeeded"
    assert ledger.get_event(succeeded[0].id, scope) == succeeded[0]
    with pytest.raises(NotFound):
        ledger.get_event(succeeded[0].id, builders.merchant_scope())
    with pytest.raises(NotFound):
        ledger.get_event(succeeded[0].id, MerchantScope(merchant_id=scope.merchant_id, mode=Mode.LIVE))


# -- webhook endpoints -----------------------------------------------------------------------


def test_webhook_endpoints_put_list_get_and_delete(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    start = int(time.time()) - 1000
    endpoints = [
        builders.webhook_endpoint(scope, url=f"https://m.example/{i}", created=start + i) for i in range(3)
    ]
    for endpoint in endpoints:
        ledger.put_webhook_endpoint(endpoint)

    assert ledger.get_webhook_endpoint(endpoints[0].id, scope) == endpoints[0]
    page = ledger.list_webhook_endpoints(scope, 2, None)
    assert [e.id for e in page.data] == [endpoints[2].id, endpoints[1].id]
    assert page.has_more

    ledger.delete_webhook_endpoint(endpoints[1].id, scope)

    with pytest.raises(NotFound):
        ledger.get_webhook_endpoint(endpoints[1].id, scope)
    assert [e.id for e in ledger.list_webhook_endpoints(scope, 10, None).data] == [
        endpoints[2].id,
        endpoints[0].id,
    ]
    with pytest.raises(NotFound):
        ledger.delete_webhook_endpoint(endpoints[1].id, scope)


def test_webhook_endpoints_of_another_merchant_or_mode_are_not_found(ledger: DynamoLedger) -> None:
    scope = builders.merchant_scope()
    endpoint = builders.webhook_endpoint(scope)
    ledger.put_webhook_endpoint(endpoint)

    for outsider in (builders.merchant_scope(), MerchantScope(merchant_id=scope.merchant_id, mode=Mode.LIVE)):
        with pytest.raises(NotFound):
            ledger.get_webhook_endpoint(endpoint.id, outsider)
        with pytest.raises(NotFound):
            ledger.delete_webhook_endpoint(endpoint.id, outsider)
        assert ledger.list_webhook_endpoints(outsider, 10, None).data == []

    assert ledger.get_webhook_endpoint(endpoint.id, scope) == endpoint


# -- merchants, keys and the sandbox store ---------------------------------------------------


def test_a_merchant_reads_back_and_a_missing_one_is_not_found(ledger: DynamoLedger) -> None:
    merchant = Merchant(id=new_id(IdPrefix.MERCHANT), name="Acme", created=int(time.time()))

    ledger.put_merchant(merchant)

    assert ledger.get_merchant(merchant.id) == merchant
    with pytest.raises(NotFound):
        ledger.get_merchant(new_id(IdPrefix.MERCHANT))


def test_an_api_key_is_found_by_its_hash_only(ledger: DynamoLedger) -> None:
    key = ApiKey(
        key_hash="a" * 64, merchant_id=new_id(IdPrefix.MERCHANT), mode=Mode.LIVE, created=int(time.time())
    )

    ledger.put_api_key(key)

    assert ledger.find_api_key("a" * 64) == key
    assert ledger.find_api_key("b" * 64) is None


def test_the_sandbox_store_round_trips_json_state(sandbox_store: DynamoSandboxStore) -> None:
    state = {"trade_status": "WAIT_BUYER_PAY", "total_amount": "12.34", "nested": {"items": [1, 2]}}

    sandbox_store.save("alipay", "trade-1", state)
    sandbox_store.save("alipay", "trade-1", state | {"trade_status": "TRADE_SUCCESS"})

    assert sandbox_store.load("alipay", "trade-1") == state | {"trade_status": "TRADE_SUCCESS"}
    assert sandbox_store.load("wechatpay", "trade-1") is None
    assert sandbox_store.load("alipay", "trade-2") is None
