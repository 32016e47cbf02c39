"""Money, ids and the state machines: the domain's own rules, no storage involved."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymux.domain.errors import InvalidRequest, InvalidTransition
from paymux.domain.ids import MAX_ID_SECONDS, IdPrefix, boundary_id, has_prefix, new_id
from paymux.domain.money import CURRENCY_EXPONENTS, Money
from paymux.domain.states import (
    PAYMENT_TRANSITIONS,
    PaymentStatus,
    RefundStatus,
    check_payment_transition,
    check_refund_transition,
)


@pytest.mark.parametrize(
    ("amount", "currency", "major"),
    [
        (1234, "cny", "12.34"),
        (5, "usd", "0.05"),
        (500, "jpy", "500"),
        (1234, "kwd", "1.234"),
        (0, "eur", "0.00"),
    ],
)
def test_minor_units_convert_to_the_providers_decimal_exactly(amount: int, currency: str, major: str) -> None:
    assert Money(amount, currency).to_major_string() == major
    assert Money.from_major_string(major, currency) == Money(amount, currency)


@given(amount=st.integers(0, 10**12), currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)))
def test_every_amount_round_trips_through_the_decimal_form(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_major_string(money.to_major_string(), currency) == money


@pytest.mark.parametrize(
    ("value", "currency"), [("12.345", "cny"), ("1.5", "jpy"), ("abc", "cny"), ("NaN", "usd")]
)
def test_excess_precision_or_garbage_is_refused(value: str, currency: str) -> None:
    with pytest.raises(InvalidRequest):
        Money.from_major_string(value, currency)


@pytest.mark.parametrize("amount", [1.5, True, "100"])
def test_money_is_never_a_float_a_bool_or_a_string(amount: object) -> None:
    with pytest.raises(InvalidRequest):
        Money(amount, "cny")  # type: ignore[arg-type]


def test_an_unknown_currency_is_refused_not_guessed() -> None:
    with pytest.raises(InvalidRequest, match="Unsupported currency"):
        Money(100, "xyz")


@given(st.integers(-(10**15), 10**15))
def test_created_bounds_sort_around_every_id_of_that_second_and_never_overflow(seconds: int) -> None:
    lower = boundary_id(IdPrefix.PAYMENT, seconds, upper=False)
    upper = boundary_id(IdPrefix.PAYMENT, seconds, upper=True)
    assert lower < upper
    assert has_prefix(lower, IdPrefix.PAYMENT)
    assert has_prefix(upper, IdPrefix.PAYMENT)
    if 1 <= seconds <= MAX_ID_SECONDS:
        assert boundary_id(IdPrefix.PAYMENT, seconds - 1, upper=True) < lower


def test_new_ids_are_prefixed_and_time_sortable() -> None:
    ids = [new_id(IdPrefix.REFUND) for _ in range(50)]
    assert all(has_prefix(i, IdPrefix.REFUND) for i in ids)
    assert not has_prefix(ids[0], IdPrefix.PAYMENT)
    assert ids[0][:13] <= ids[-1][:13]  # the ULID's time part


@given(st.lists(st.sampled_from(list(PaymentStatus)), max_size=10))
def test_a_payment_never_leaves_a_terminal_state(path: list[PaymentStatus]) -> None:
    current = PaymentStatus.REQUIRES_ACTION
    for target in path:
        try:
            check_payment_transition(current, target)
        except InvalidTransition:
            continue
        assert current is PaymentStatus.REQUIRES_ACTION
        current = target
    if current is not PaymentStatus.REQUIRES_ACTION:
        assert PAYMENT_TRANSITIONS[current] == frozenset()


def test_a_refund_settles_once() -> None:
    check_refund_transition(RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    for settled in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        for target in RefundStatus:
            with pytest.raises(InvalidTransition):
                check_refund_transition(settled, target)
