"""The sandbox's front gateway as a shopper page: where the `web` scene's signed form is posted by
the merchant's checkout. The form is checked against the merchant's certificate as UnionPay's front
gateway does, matched to the payment, and opens the sandbox's trade; the shopper then pays or
declines."""

from __future__ import annotations

from paymux.channels.base import ChannelCredentials, SandboxStore
from paymux.channels.sandbox_page import PageRefused
from paymux.channels.unionpay import protocol as p
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.sandbox.gateway import MESSAGES, Registration, RequestRefused, SandboxGateway
from paymux.domain.errors import InvalidRequest
from paymux.domain.models import Payment


class FrontGatewayFlow:
    """`ShopperFlow` of UnionPay's front gateway (`frontTransReq.do`)."""

    provider = "UnionPay sandbox cashier"

    def __init__(self, store: SandboxStore) -> None:
        self.gateway = SandboxGateway(store)

    def payment_id(self, signed: str) -> str:
        """The payment the form's unverified `orderId` names. Raises PageRefused."""
        try:
            fields = p.parse_form(signed.encode("utf-8"))
        except ValueError:
            raise PageRefused(400, f"respCode 10: {MESSAGES['10']}") from None
        payment_id = p.from_order_id(fields.get("orderId", ""))
        if payment_id is None or not payment_id.startswith("pay_"):
            raise PageRefused(400, f"respCode 34: {MESSAGES['34']}")
        return payment_id

    def verify(self, signed: str, payment: Payment, credentials: ChannelCredentials) -> None:
        """Check the form's signature and merchant, match it to the payment and open the trade.
        Raises PageRefused."""
        if not isinstance(credentials, UnionPayCredentials):
            raise PageRefused(400, "The payment's credentials are not UnionPay's")
        registered = Registration(credentials.mer_id, credentials.sign_cert)
        try:
            trade = self.gateway.front_consume(signed.encode("utf-8"), registered)
            currency_code = p.currency_code(payment.currency)
        except RequestRefused as refused:
            raise PageRefused(400, f"respCode {refused.code}: {MESSAGES[refused.code]}") from None
        except InvalidRequest as invalid:
            raise PageRefused(400, invalid.message) from None
        if (trade.txn_type, trade.order_id, trade.txn_amt, trade.currency_code) != (
            p.TXN_CONSUME, p.to_order_id(payment.id), payment.amount, currency_code,
        ):  # fmt: skip
            raise PageRefused(400, f"respCode 36: {MESSAGES['36']}")
