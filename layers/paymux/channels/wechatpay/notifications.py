"""WeChat Pay API v3 notifications: signature (platform key by `Wechatpay-Serial`), replay window on
`Wechatpay-Timestamp`, AEAD_AES_256_GCM `resource` decrypted with the APIv3 key, merchant and app
ids checked against the credentials. Every failure raises NotificationRejected."""

from __future__ import annotations

from typing import Any

from paymux.channels.base import Notification, NotificationTarget, ProviderRequest
from paymux.channels.wechatpay import signing, wire
from paymux.channels.wechatpay.credentials import WechatPayCredentials
from paymux.channels.wechatpay.verification import SignatureRejected, verify_signed
from paymux.domain.errors import NotificationRejected
from paymux.domain.ids import IdPrefix, has_prefix

# WeChat Pay posts each notification at once; 5 minutes bounds clock skew and retries in flight.
REPLAY_WINDOW_SECONDS = 300


def target_of(request: ProviderRequest) -> NotificationTarget:
    """The payment or refund id paymux put as the last segment of the notify_url (the resource that
    names it is encrypted). Raises NotificationRejected if the request is no WeChat Pay notification."""
    if "wechatpay-signature" not in request.headers:
        raise NotificationRejected("Not a WeChat Pay notification: no Wechatpay-Signature header")
    envelope = _envelope(request.body)
    last_segment = request.path.rstrip("/").rsplit("/", 1)[-1]
    event_type = envelope.get("event_type")
    is_refund = isinstance(event_type, str) and event_type.startswith("REFUND.")
    if is_refund and has_prefix(last_segment, IdPrefix.REFUND):
        return NotificationTarget(refund_id=last_segment)
    if has_prefix(last_segment, IdPrefix.PAYMENT):
        return NotificationTarget(payment_id=last_segment)
    return NotificationTarget()


def verify(credentials: WechatPayCredentials, request: ProviderRequest, now: int) -> Notification:
    """Verify and decrypt a payment or refund notification; raises NotificationRejected."""
    body = _text(request.body)
    try:
        timestamp = verify_signed(credentials, request.headers, body, now)
    except SignatureRejected as rejected:
        raise NotificationRejected(f"WeChat Pay notification signature rejected: {rejected}") from None
    if abs(now - timestamp) > REPLAY_WINDOW_SECONDS:
        raise NotificationRejected("WeChat Pay notification outside the replay window")
    envelope = _envelope(request.body)
    resource = _decrypt(credentials, envelope)
    event_type = str(envelope.get("event_type", ""))
    try:
        notification = _parse(credentials, event_type, resource)
    except wire.WireFormatError as error:
        raise NotificationRejected(f"Malformed WeChat Pay notification resource: {error}") from None
    _check_target(request, notification)
    return notification


def _parse(credentials: WechatPayCredentials, event_type: str, resource: dict[str, Any]) -> Notification:
    if resource.get("mchid") != credentials.mchid:
        raise NotificationRejected("WeChat Pay notification for another merchant (mchid)")
    if event_type.startswith("TRANSACTION."):
        if resource.get("appid") != credentials.appid:
            raise NotificationRejected("WeChat Pay notification for another app (appid)")
        return wire.payment_state(resource)
    if event_type.startswith("REFUND."):
        return wire.refund_state(resource, status_field="refund_status")
    raise NotificationRejected(f"Unsupported WeChat Pay event_type {event_type[:40]!r}")


def _decrypt(credentials: WechatPayCredentials, envelope: dict[str, Any]) -> dict[str, Any]:
    resource = envelope.get("resource")
    if envelope.get("resource_type") != "encrypt-resource" or not isinstance(resource, dict):
        raise NotificationRejected("WeChat Pay notification without an encrypted resource")
    if resource.get("algorithm") != signing.AEAD_ALGORITHM:
        raise NotificationRejected("WeChat Pay notification resource in an unsupported algorithm")
    nonce, ciphertext = resource.get("nonce"), resource.get("ciphertext")
    associated_data = resource.get("associated_data") or ""
    if not (isinstance(nonce, str) and isinstance(ciphertext, str) and isinstance(associated_data, str)):
        raise NotificationRejected("WeChat Pay notification resource is incomplete")
    plaintext = signing.decrypt_resource(credentials.apiv3_key, nonce, associated_data, ciphertext)
    if plaintext is None:
        raise NotificationRejected("WeChat Pay notification resource does not decrypt with the APIv3 key")
    try:
        return wire.loads(plaintext)
    except wire.WireFormatError:
        raise NotificationRejected("WeChat Pay notification resource is not a JSON object") from None


def _check_target(request: ProviderRequest, notification: Notification) -> None:
    """A notification posted to one object's notify_url must be about that object."""
    named = target_of(request)
    refund_id = getattr(notification, "refund_id", None)
    if (named.refund_id is not None and named.refund_id != refund_id) or (
        named.payment_id is not None and named.payment_id != notification.payment_id
    ):
        raise NotificationRejected("WeChat Pay notification posted to another object's notify_url")


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        return wire.loads(_text(body))
    except wire.WireFormatError:
        raise NotificationRejected("WeChat Pay notification body is not a JSON object") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotificationRejected("WeChat Pay notification body is not UTF-8") from None
