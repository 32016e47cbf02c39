"""Domain errors. Each carries the contract's error type and code; HTTP status is chosen in one place
(`paymux.api.errors`), never here."""

from __future__ import annotations


class PaymuxError(Exception):
    """Base of every error a merchant may see."""

    type = "api_error"
    code = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidRequest(PaymuxError):
    type = "invalid_request_error"
    code = "parameter_invalid"


class AuthenticationFailed(PaymuxError):
    type = "authentication_error"
    code = "invalid_api_key"


class NotFound(PaymuxError):
    type = "invalid_request_error"
    code = "resource_missing"


class Conflict(PaymuxError):
    """The request conflicts with the object's current state or another object."""

    type = "invalid_request_error"
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_state_transition"


class DuplicateMerchantOrderId(Conflict):
    code = "duplicate_merchant_order_id"


class RefundExceedsAmount(InvalidRequest):
    code = "refund_exceeds_amount"


class IdempotencyKeyReused(PaymuxError):
    type = "idempotency_error"
    code = "idempotency_key_reused"


class IdempotencyInFlight(PaymuxError):
    type = "idempotency_error"
    code = "idempotency_request_in_progress"


class RateLimited(PaymuxError):
    type = "rate_limit_error"
    code = "rate_limited"


class ChannelError(PaymuxError):
    """The channel (provider) failed or refused the operation."""

    type = "channel_error"
    code = "channel_failed"


class ChannelNotConfigured(InvalidRequest):
    code = "channel_not_configured"


class NotificationRejected(PaymuxError):
    """A provider notification failed verification or does not match the ledger. Never retried into
    a state change; logged as a security event."""

    type = "notification_error"
    code = "notification_rejected"
