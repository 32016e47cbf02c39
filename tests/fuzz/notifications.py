"""Genuine provider notifications from each channel's built-in sandbox, and hypothesis strategies that
mutate them (bytes, form fields, JSON values, signed headers, swaps between notifications) or make up
arbitrary requests. In process, no network."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import strategies as st

from paymux.channels.base import (
    ChannelAdapter,
    ChannelCredentials,
    ChannelSandbox,
    PaymentRequest,
    ProviderRequest,
    SandboxStore,
)
from paymux.channels.registry import load_adapter, load_sandbox
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus, RefundStatus
from tests import builders
from tests.fakes import InMemorySandboxStore

SCENE = {Channel.ALIPAY: "qr", Channel.WECHATPAY: "native", Channel.UNIONPAY: "web", Channel.STRIPE: "card"}
CURRENCY = {Channel.STRIPE: "usd"}
# Headers the provider's signature scheme covers or needs (the others, like Content-Type or Stripe's
# User-Agent, are not part of the protocol: a notification without them still verifies).
SIGNED_HEADERS: dict[Channel, frozenset[str]] = {
    Channel.ALIPAY: frozenset(),
    Channel.WECHATPAY: frozenset(
        {"wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial"}
    ),
    Channel.UNIONPAY: frozenset(),
    Channel.STRIPE: frozenset({"stripe-signature"}),
}
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Provider:
    """One channel's adapter and sandbox on one sandbox store, with the sandbox's own credentials."""

    channel: Channel
    adapter: ChannelAdapter
    sandbox: ChannelSandbox
    credentials: ChannelCredentials

    @property
    def notify_path(self) -> str:
        return f"/webhooks/{self.channel.value}"

    def open_payment(self, payment: Payment) -> Payment:
        """`payment` created at the sandbox (as the channel function does), so it can be notified."""
        created = self.adapter.create_payment(
            self.credentials,
            PaymentRequest(
                payment_id=payment.id,
                scene=payment.scene,
                amount=payment.amount,
                currency=payment.currency,
                subject=payment.subject,
                description=None,
                expires_at=int(time.time()) + 7200,
                return_url="https://merchant.example/return",
                client_ip="127.0.0.1",
                notify_url=f"https://pay.example{self.notify_path}",
            ),
        )
        return payment.model_copy(
            update={
                "credential": created.credential,
                "channel_transaction_id": created.channel_transaction_id,
            }
        )

    def payment_notification(self, payment: Payment, outcome: PaymentStatus) -> ProviderRequest:
        return self.sandbox.notification_for(self.credentials, payment, outcome, self.notify_path)

    def refund_notification(self, payment: Payment) -> ProviderRequest | None:
        """A signed refund notification of part of `payment` (paid through the sandbox), or None where
        the provider sends none."""
        paid = self.adapter.verify_notification(
            self.credentials, self.payment_notification(payment, PaymentStatus.SUCCEEDED)
        )
        payment = payment.model_copy(
            update={
                "status": PaymentStatus.SUCCEEDED,
                "channel_transaction_id": paid.channel_transaction_id,
                "paid_at": getattr(paid, "paid_at", None),
            }
        )
        refund = builders.refund(payment, amount=payment.amount // 4)
        state = self.adapter.refund(self.credentials, payment, refund)
        refund = refund.model_copy(update={"channel_refund_id": state.channel_refund_id})
        return self.sandbox.refund_notification_for(
            self.credentials, payment, refund, RefundStatus.SUCCEEDED, self.notify_path
        )


def provider(channel: Channel, store: SandboxStore | None = None) -> Provider:
    store = store if store is not None else InMemorySandboxStore()
    adapter = load_adapter(channel, store)
    return Provider(channel, adapter, load_sandbox(channel, store), adapter.sandbox_credentials())


def new_payment(channel: Channel, **overrides: Any) -> Payment:
    return builders.payment(
        channel=channel, scene=SCENE[channel], currency=CURRENCY.get(channel, "cny"), **overrides
    )


def genuine_notifications(channel: Channel) -> list[ProviderRequest]:
    """The sandbox's signed notifications of one payment: failed, succeeded, and a refund where the
    provider sends one."""
    source = provider(channel)
    failed = source.payment_notification(source.open_payment(new_payment(channel)), PaymentStatus.FAILED)
    paid_payment = source.open_payment(new_payment(channel))
    notifications = [failed, source.payment_notification(paid_payment, PaymentStatus.SUCCEEDED)]
    refund = source.refund_notification(paid_payment)
    return notifications + ([refund] if refund is not None else [])


# -- what counts as the same notification -------------------------------------------------------


def _form_pairs(request: ProviderRequest) -> list[tuple[str, str]] | None:
    """The fields of a form body, sorted, or None if it is none."""
    if not request.headers.get("content-type", "").startswith(FORM):
        return None
    try:
        return sorted(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None


def signed_part(channel: Channel, request: ProviderRequest) -> tuple[object, ...]:
    """What a notification's signature covers: the signed headers, and the raw body or, for a form
    body (Alipay, UnionPay), its non-blank fields: both sign the sorted non-blank fields, not their
    encoding, and refuse a form that repeats a field."""
    headers = sorted(
        (name, value) for name, value in request.headers.items() if name in SIGNED_HEADERS[channel]
    )
    pairs = _form_pairs(request)
    if pairs is None:
        return (request.body, headers)
    if len({name for name, _ in pairs}) != len(pairs):
        return ("repeated fields", pairs, headers)
    return ([(name, value) for name, value in pairs if value], headers)


def is_noop(channel: Channel, original: ProviderRequest, mutated: ProviderRequest) -> bool:
    return signed_part(channel, original) == signed_part(channel, mutated)


# -- strategies ---------------------------------------------------------------------------------

header_values = st.text(max_size=80) | st.sampled_from(["", " ", "0", "-1", "1e309", "t=,v1=", "null", "é"])
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def arbitrary_requests(channel: Channel) -> st.SearchStrategy[ProviderRequest]:
    """Requests that came from anyone: any bytes, any headers (sometimes the channel's own names)."""
    names = st.sampled_from(sorted(SIGNED_HEADERS[channel] | {"content-type"})) | st.text(max_size=20)
    return st.builds(
        ProviderRequest,
        method=st.sampled_from(["POST", "GET", "PUT"]),
        path=st.sampled_from([f"/webhooks/{channel.value}", f"/webhooks/{channel.value}/pay_0", "/"])
        | st.text(max_size=40),
        headers=st.dictionaries(names.map(str.lower), header_values, max_size=6),
        body=st.binary(max_size=400) | st.text(max_size=200).map(str.encode),
    )


def _byte_mutations(body: bytes) -> st.SearchStrategy[bytes]:
    end = max(len(body) - 1, 0)
    index = st.integers(0, end)
    return st.one_of(
        index.map(lambda at: body[:at]),
        st.tuples(index, st.integers(1, 255)).map(
            lambda change: body[: change[0]] + bytes([body[change[0]] ^ change[1]]) + body[change[0] + 1 :]
            if body
            else bytes([change[1]])
        ),
        st.tuples(index, st.binary(min_size=1, max_size=8)).map(
            lambda insert: body[: insert[0]] + insert[1] + body[insert[0] :]
        ),
        st.tuples(index, st.integers(1, 40)).map(lambda cut: body[: cut[0]] + body[cut[0] + cut[1] :]),
        st.binary(max_size=len(body) + 16),
    )


def _form_mutations(body: bytes) -> st.SearchStrategy[bytes]:
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    index = st.integers(0, len(pairs) - 1)

    def encode(new_pairs: list[tuple[str, str]]) -> bytes:
        return urlencode(new_pairs).encode()

    return st.one_of(
        st.tuples(index, st.text(max_size=40)).map(
            lambda change: encode([(k, change[1] if i == change[0] else v) for i, (k, v) in enumerate(pairs)])
        ),
        index.map(lambda drop: encode([pair for i, pair in enumerate(pairs) if i != drop])),
        st.tuples(index, st.text(max_size=20)).map(lambda dup: encode([*pairs, (pairs[dup[0]][0], dup[1])])),
        st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=20)).map(
            lambda extra: encode([*pairs, extra])
        ),
        st.permutations(pairs).map(encode),
    )


def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return [prefix]
    return [prefix, *(path for key, child in items for path in _json_paths(child, (*prefix, key)))]


def _set_path(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copy


def _json_mutations(body: bytes) -> st.SearchStrategy[bytes]:
    document = json.loads(body)
    paths = st.sampled_from(_json_paths(document))
    return st.tuples(paths, json_values).map(
        lambda change: json.dumps(_set_path(document, change[0], change[1])).encode()
    )


def _body_mutations(original: ProviderRequest) -> st.SearchStrategy[bytes]:
    strategies = [_byte_mutations(original.body)]
    if _form_pairs(original):
        strategies.append(_form_mutations(original.body))
    try:
        json.loads(original.body)
    except ValueError:
        pass
    else:
        strategies.append(_json_mutations(original.body))
    return st.one_of(strategies)


def _header_mutations(
    original: ProviderRequest, names: list[str], others: list[ProviderRequest]
) -> st.SearchStrategy[dict[str, str]]:
    headers = original.headers
    name = st.sampled_from(names)
    borrowed = [
        (n, other.headers[n]) for other in others for n in names if other.headers.get(n, "") != headers[n]
    ]
    strategies = [
        name.map(lambda gone: {k: v for k, v in headers.items() if k != gone}),
        st.tuples(name, header_values).map(lambda change: {**headers, change[0]: change[1]}),
        st.tuples(name, st.integers(0, 200)).map(
            lambda cut: {**headers, cut[0]: headers[cut[0]][: min(cut[1], len(headers[cut[0]]) - 1)]}
        ),
        st.tuples(name, name).map(
            lambda pair: {**headers, pair[0]: headers[pair[1]], pair[1]: headers[pair[0]]}
        ),
    ]
    if borrowed:
        strategies.append(st.sampled_from(borrowed).map(lambda swap: {**headers, swap[0]: swap[1]}))
    return st.one_of(strategies)


def mutations(
    channel: Channel, original: ProviderRequest, others: list[ProviderRequest]
) -> st.SearchStrategy[ProviderRequest]:
    """`original` with its body, a signed header or its body-and-headers pairing changed (`others`
    are the channel's other genuine notifications, to swap bodies and header values with)."""
    strategies: list[st.SearchStrategy[ProviderRequest]] = [
        _body_mutations(original).map(lambda body: replace(original, body=body)),
        st.sampled_from(others).map(lambda other: replace(original, body=other.body)),
    ]
    names = sorted(SIGNED_HEADERS[channel] & set(original.headers))
    if names:
        strategies.append(
            _header_mutations(original, names, others).map(lambda headers: replace(original, headers=headers))
        )
    return st.one_of(strategies)


def unsigned_mutations(original: ProviderRequest) -> st.SearchStrategy[ProviderRequest]:
    """Changes outside what the signature covers (path, method, query, any header): they may verify,
    but must never raise anything but NotificationRejected."""
    return st.one_of(
        st.text(max_size=60).map(lambda path: replace(original, path=path)),
        st.sampled_from(["GET", "PUT", ""]).map(lambda method: replace(original, method=method)),
        st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3).map(
            lambda query: replace(original, query=query)
        ),
        st.sampled_from(sorted(original.headers)).map(
            lambda gone: replace(original, headers={k: v for k, v in original.headers.items() if k != gone})
        ),
        st.dictionaries(st.text(max_size=20).map(str.lower), header_values, max_size=4).map(
            lambda extra: replace(original, headers={**original.headers, **extra})
        ),
    )
