"""Provider notifications through `PaymentService.handle_notification` on a moto ledger, for every
channel: a bad signature, a mutated or arbitrary request, a genuinely signed notification of another
amount, or of a payment the ledger does not have, is answered in the provider's failure format and
leaves the payment and its events as they were. The genuine notification still moves the payment."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from paymux.channels.base import ProviderRequest, ProviderResponse
from paymux.domain.models import Channel, Event, Payment
from paymux.domain.states import PaymentStatus
from paymux.ledger.dynamodb import DynamoLedger
from paymux.services.credentials import CredentialResolver
from paymux.services.payments import PaymentService
from tests import builders
from tests.fakes import InMemorySandboxStore
from tests.fuzz.notifications import arbitrary_requests, is_noop, mutations, new_payment, provider
from tests.unit.core.conftest import DictCredentialStore, ledger

__all__ = ["ledger"]

pytestmark = pytest.mark.disable_socket

fuzz_settings = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Notified:
    """A payment in the ledger, its genuine notification (not yet sent) and signed impostors."""

    channel: Channel
    service: PaymentService
    ledger: DynamoLedger
    payment: Payment
    genuine: ProviderRequest
    of_another_amount: ProviderRequest
    of_an_unknown_payment: ProviderRequest

    def refusal(self) -> ProviderResponse:
        return provider(self.channel).adapter.acknowledge(False)

    def state(self) -> tuple[Payment, list[Event]]:
        scope = self.payment.scope
        return self.ledger.get_payment(self.payment.id), self.ledger.list_events(scope, None, 100, None).data


@pytest.fixture(params=list(Channel), ids=str)
def notified(request: pytest.FixtureRequest, ledger: DynamoLedger) -> Notified:
    channel: Channel = request.param
    source = provider(channel)
    payment = source.open_payment(new_payment(channel))
    ledger.create_payment(payment, builders.event_for(payment))
    # Each impostor from a sandbox of its own: signed with the same sandbox keys as the real one.
    other_amount = provider(channel)
    costlier = other_amount.open_payment(payment.model_copy(update={"amount": payment.amount + 1}))
    stranger = provider(channel)
    unknown = stranger.open_payment(new_payment(channel))
    service = PaymentService(ledger, CredentialResolver(DictCredentialStore()), InMemorySandboxStore())
    return Notified(
        channel=channel,
        service=service,
        ledger=ledger,
        payment=payment,
        genuine=source.payment_notification(payment, PaymentStatus.SUCCEEDED),
        of_another_amount=other_amount.payment_notification(costlier, PaymentStatus.SUCCEEDED),
        of_an_unknown_payment=stranger.payment_notification(unknown, PaymentStatus.SUCCEEDED),
    )


def assert_refused_changing_nothing(notified: Notified, request: ProviderRequest) -> None:
    before = notified.state()

    answer = notified.service.handle_notification(notified.channel, request)

    assert answer == notified.refusal()
    assert notified.state() == before


def test_a_signed_notification_of_another_amount_is_refused(notified: Notified) -> None:
    assert_refused_changing_nothing(notified, notified.of_another_amount)


def test_a_signed_notification_of_an_unknown_payment_is_refused(notified: Notified) -> None:
    assert_refused_changing_nothing(notified, notified.of_an_unknown_payment)


@fuzz_settings
@given(data=st.data())
def test_a_mutated_or_arbitrary_notification_is_refused_and_changes_nothing(
    notified: Notified, data: st.DataObject
) -> None:
    signed = [notified.genuine, notified.of_another_amount, notified.of_an_unknown_payment]
    original = data.draw(st.sampled_from(signed))
    others = [other for other in signed if other is not original]
    request = data.draw(mutations(notified.channel, original, others) | arbitrary_requests(notified.channel))
    assume(not is_noop(notified.channel, notified.genuine, request))

    assert_refused_changing_nothing(notified, request)


def test_the_genuine_notification_is_accepted_and_moves_the_payment(notified: Notified) -> None:
    _, events_before = notified.state()

    answer = notified.service.handle_notification(notified.channel, notified.genuine)

    payment, events = notified.state()
    assert answer == provider(notified.channel).adapter.acknowledge(True)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert [event.type.value for event in events if event not in events_before] == ["payment.succeeded"]
