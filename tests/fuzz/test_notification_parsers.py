"""Every channel's notification parsing under arbitrary and mutated provider requests: the only
exception `notification_target` and `verify_notification` may raise is NotificationRejected (never a
KeyError, ValueError, UnicodeDecodeError, binascii.Error, InvalidSignature...), and a mutated
notification never verifies unless the mutation left what the signature covers unchanged."""

from __future__ import annotations

import contextlib
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paymux.channels.base import Notification, ProviderRequest
from paymux.domain.errors import NotificationRejected
from paymux.domain.models import Channel
from tests.fuzz.notifications import (
    Provider,
    arbitrary_requests,
    genuine_notifications,
    is_noop,
    mutations,
    provider,
    unsigned_mutations,
)

pytestmark = pytest.mark.disable_socket

EXAMPLES = 100
fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CHANNELS = list(Channel)


@cache
def genuine(channel: Channel) -> tuple[ProviderRequest, ...]:
    return tuple(genuine_notifications(channel))


@cache
def verifier(channel: Channel) -> Provider:
    """A fresh adapter (its own sandbox store): verification needs only the sandbox's credentials."""
    return provider(channel)


def verify(channel: Channel, request: ProviderRequest) -> Notification | None:
    """The notification if it verifies, None if it is rejected; any other exception propagates."""
    adapter = verifier(channel)
    with contextlib.suppress(NotificationRejected):
        adapter.adapter.notification_target(request)
    try:
        return adapter.adapter.verify_notification(adapter.credentials, request)
    except NotificationRejected:
        return None


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_genuine_notifications_verify(channel: Channel) -> None:
    for notification in genuine(channel):
        assert verify(channel, notification) is not None


@pytest.mark.parametrize("channel", CHANNELS)
@fuzz_settings
@given(data=st.data())
def test_an_arbitrary_request_is_rejected(channel: Channel, data: st.DataObject) -> None:
    request = data.draw(arbitrary_requests(channel))

    assert verify(channel, request) is None


@pytest.mark.parametrize("channel", CHANNELS)
@fuzz_settings
@given(data=st.data())
def test_a_mutated_notification_verifies_only_if_its_signed_part_is_genuine(
    channel: Channel, data: st.DataObject
) -> None:
    notifications = genuine(channel)
    original = data.draw(st.sampled_from(notifications))
    others = [other for other in notifications if other is not original]
    mutated = data.draw(mutations(channel, original, others))

    verified = verify(channel, mutated)

    # A swap can rebuild another genuine notification (a form body carries its own signature).
    same = [genuine for genuine in notifications if is_noop(channel, genuine, mutated)]
    if same:
        assert verified == verify(channel, same[0])
    else:
        assert verified is None, f"a mutated notification verified: {mutated!r}"


@pytest.mark.parametrize("channel", CHANNELS)
@fuzz_settings
@given(data=st.data())
def test_a_change_outside_the_signature_raises_nothing_but_a_rejection(
    channel: Channel, data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(genuine(channel)))
    mutated = data.draw(unsigned_mutations(original))

    verified = verify(channel, mutated)

    assert verified is None or verified == verify(channel, original)
