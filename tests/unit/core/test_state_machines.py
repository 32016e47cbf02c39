"""Hypothesis drives random sequences of notifications, closes and refunds through the real services
and ledger (on moto) and checks the invariants after every step: a payment never moves backwards,
is paid at most once, is never refunded past its amount, and every change has exactly one event.
Set PAYMUX_STATE_MACHINE_EXAMPLES=200 for a longer hunt."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from paymux.domain.errors import InvalidRequest, InvalidTransition, RefundExceedsAmount
from paymux.domain.models import Channel, MerchantScope, Mode
from paymux.domain.states import PAYMENT_TRANSITIONS, PaymentStatus, RefundStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.schema import create_table
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService
from paymux.services.refunds import CreateRefund
from tests.fakes import FakeAdapter, InMemorySandboxStore, fake_notification
from tests.unit.core.conftest import BASE_URL, DictCredentialStore, create_command

AMOUNT = 1_000
TERMINAL = {s for s, targets in PAYMENT_TRANSITIONS.items() if not targets}


class PaymentLifecycle(RuleBasedStateMachine):
    # One moto table for every example (set by the module fixture); each example has its own merchant
    # and payment, so examples cannot see each other.
    shared_ledger: DynamoLedger

    @initialize()
    def start(self) -> None:
        self.ledger = self.shared_ledger
        self.service = PaymentService(
            self.ledger,
            CredentialResolver(DictCredentialStore()),
            InMemorySandboxStore(),
            adapters=lambda channel, store: FakeAdapter(channel),
        )
        self.scope = MerchantScope(merchant_id=f"mch_{uuid.uuid4().hex}", mode=Mode.TEST)
        self.payment = self.service.create_payment(
            self.scope, Channel.ALIPAY, create_command(amount=AMOUNT), BASE_URL
        )
        self.history = [self.payment.status]
        self.refunds: list[str] = []
        self.expected_events = 1

    def _notify(self, **fields: object) -> None:
        self.service.handle_notification(
            Channel.ALIPAY, fake_notification(payment_id=self.payment.id, **fields)
        )

    @rule(
        status=st.sampled_from(["succeeded", "failed", "closed", "requires_action"]),
        amount=st.sampled_from([AMOUNT, AMOUNT - 1]),
        repeat=st.integers(1, 3),
    )
    def notify(self, status: str, amount: int, repeat: int) -> None:
        before = self.ledger.get_payment(self.payment.id).status
        for _ in range(repeat):
            self._notify(status=status, amount=amount, currency="cny", txn="T")
        moves = amount == AMOUNT and PaymentStatus(status) in PAYMENT_TRANSITIONS[before]
        self.expected_events += int(moves)

    @rule()
    def close(self) -> None:
        try:
            self.service.close_payment(self.scope, self.payment.id)
            self.expected_events += 1
        except InvalidTransition:
            assert self.history[-1] is not PaymentStatus.REQUIRES_ACTION

    @rule(amount=st.integers(1, AMOUNT))
    def refund(self, amount: int) -> None:
        try:
            refund = self.service.create_refund(self.scope, self.payment.id, CreateRefund(amount=amount))
        except (InvalidTransition, RefundExceedsAmount, InvalidRequest):
            return
        self.refunds.append(refund.id)
        self.expected_events += 1

    @precondition(lambda self: bool(self.refunds))
    @rule(index=st.integers(0, 20), outcome=st.sampled_from(["succeeded", "failed"]))
    def settle_refund(self, index: int, outcome: str) -> None:
        refund = self.ledger.get_refund(self.refunds[index % len(self.refunds)])
        self._notify(refund_id=refund.id, status=outcome, amount=refund.amount, currency="cny")
        self.expected_events += int(refund.status is RefundStatus.PENDING)

    @invariant()
    def never_backwards_and_one_event_per_change(self) -> None:
        if not hasattr(self, "payment"):
            return
        current = self.ledger.get_payment(self.payment.id)
        if current.status is not self.history[-1]:
            assert self.history[-1] not in TERMINAL, f"moved out of {self.history[-1]}"
            self.history.append(current.status)
        assert current.amount_refunded <= current.amount_refund_reserved <= current.amount
        events = self.ledger.list_events(self.scope, None, 100, None).data
        assert len(events) == self.expected_events
        assert sum(e.type.value == "payment.succeeded" for e in events) <= 1


@pytest.fixture(scope="module", autouse=True)
def shared_ledger() -> Iterator[None]:
    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        client = session.client("dynamodb")
        create_table(client, "paymux-state-machine")
        PaymentLifecycle.shared_ledger = DynamoLedger("paymux-state-machine", client)
        yield


PaymentLifecycle.TestCase.settings = settings(
    max_examples=int(os.environ.get("PAYMUX_STATE_MACHINE_EXAMPLES", "12")),
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPaymentLifecycle = PaymentLifecycle.TestCase
