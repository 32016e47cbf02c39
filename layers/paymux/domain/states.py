"""The payment and refund state machines. Every ledger transition is checked here first and then
enforced again by a conditional write, so a payment can never move backwards."""

from __future__ import annotations

from enum import StrEnum

from paymux.domain.errors import InvalidTransition


class PaymentStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLOSED = "closed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.REQUIRES_ACTION: frozenset(
        {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CLOSED}
    ),
    PaymentStatus.SUCCEEDED: frozenset(),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.CLOSED: frozenset(),
}

REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


def check_payment_transition(current: PaymentStatus, target: PaymentStatus) -> None:
    """Raises InvalidTransition unless `current → target` is allowed."""
    if target not in PAYMENT_TRANSITIONS[current]:
        raise InvalidTransition(f"A payment that is {current} cannot become {target}")


def check_refund_transition(current: RefundStatus, target: RefundStatus) -> None:
    """Raises InvalidTransition unless `current → target` is allowed."""
    if target not in REFUND_TRANSITIONS[current]:
        raise InvalidTransition(f"A refund that is {current} cannot become {target}")


def sources_of(target: PaymentStatus) -> list[PaymentStatus]:
    """The states a payment may be in for `target` to be reachable (the write's condition)."""
    return [s for s, targets in PAYMENT_TRANSITIONS.items() if target in targets]


def refund_sources_of(target: RefundStatus) -> list[RefundStatus]:
    return [s for s, targets in REFUND_TRANSITIONS.items() if target in targets]
