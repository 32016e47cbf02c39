"""The shopper pages the built-in sandboxes serve in test mode: one small, accessible HTML page per
step (the order with Pay and Decline, the result, a refusal), no external assets, every value escaped.

A page is reached with the provider's signed request (a query or a posted form). Pressing Pay or
Decline posts that same signed request back with the shopper's decision, so every step verifies it
again; amounts come from the ledger and the sandbox's own trade, never from the page's form.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from paymux.channels.base import ChannelCredentials, ProviderRequest, ProviderResponse, SandboxCheckout
from paymux.domain.models import Payment
from paymux.domain.money import Money
from paymux.domain.states import PaymentStatus

# Where every sandbox's pages live on the platform: /sandbox/{channel}/...
SHOPPER_PAGE_PREFIX = "/sandbox/"
# Form fields of the page's own post-back (names no provider uses).
SIGNED_FIELD = "paymux_signed_request"
OUTCOME_FIELD = "paymux_outcome"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_DECISIONS = {"succeeded": PaymentStatus.SUCCEEDED, "failed": PaymentStatus.FAILED}
_HEADERS = {
    "cache-control": "no-store",
    # The URL carries a signed request: never hand it to another site.
    "referrer-policy": "no-referrer",
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
}
_RESULTS = {
    PaymentStatus.SUCCEEDED: ("Payment succeeded", "The sandbox notified the platform: the payment is paid."),
    PaymentStatus.FAILED: ("Payment declined", "The sandbox notified the platform: the payment failed."),
    PaymentStatus.CLOSED: ("Payment closed", "The payment is closed; nothing was charged."),
    PaymentStatus.REQUIRES_ACTION: ("Payment pending", "The platform has not settled the payment yet."),
}


class PageRefused(Exception):
    """The provider refuses the request the page was reached with (bad signature, unknown order)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Arrival:
    """The provider's signed request as the browser brought it, and the shopper's decision if any."""

    signed: str
    outcome: PaymentStatus | None = None


class ShopperFlow(Protocol):
    """One provider's part of a shopper page: which payment its signed request names, and whether
    that request verifies for it."""

    provider: str  # shown as the page's heading, e.g. "Alipay sandbox"

    def payment_id(self, signed: str) -> str:
        """The payment the request names, read before verification. Raises PageRefused."""
        ...

    def verify(self, signed: str, payment: Payment, credentials: ChannelCredentials) -> None:
        """Verify the request against the merchant's credentials and the payment (amount, order), and
        open the sandbox's trade as the provider would. Raises PageRefused."""
        ...


def serve(
    request: ProviderRequest, base_url: str, checkout: SandboxCheckout, flow: ShopperFlow, path: str
) -> ProviderResponse:
    """One step of a shopper page at `path`: the order with Pay and Decline, or, once the shopper
    pressed one, the completion through `checkout` and its result. The checkout's domain errors
    propagate (the platform renders them as pages too)."""
    if request.path != path:
        return refusal_page(404, flow.provider, "There is no such sandbox page.")
    try:
        arrival = read_arrival(request)
        payment, credentials = checkout.payment(flow.payment_id(arrival.signed))
        flow.verify(arrival.signed, payment, credentials)
    except PageRefused as refused:
        return refusal_page(refused.status, flow.provider, refused.message)
    if arrival.outcome is not None:
        return result_page(flow.provider, checkout.complete(payment, arrival.outcome))
    if payment.status is not PaymentStatus.REQUIRES_ACTION:
        return result_page(flow.provider, payment)
    return checkout_page(flow.provider, payment, f"{base_url.rstrip('/')}{path}", arrival.signed)


def read_arrival(request: ProviderRequest) -> Arrival:
    """The signed request: the query of a GET, the form of a POST, or the page's own post-back of
    either with the shopper's decision. Raises PageRefused for anything else."""
    if request.method == "GET":
        if not request.query:
            raise PageRefused(400, "The page was opened without the provider's signed request.")
        return Arrival(urlencode(request.query))
    if request.method != "POST":
        raise PageRefused(405, f"{request.method} is not allowed here.")
    try:
        text = request.body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise PageRefused(400, "The posted form is not form-encoded UTF-8.") from None
    fields = dict(pairs)
    if OUTCOME_FIELD not in fields:
        if not text:
            raise PageRefused(400, "The page was posted without the provider's signed request.")
        return Arrival(text)
    outcome = _DECISIONS.get(fields[OUTCOME_FIELD])
    if outcome is None or not fields.get(SIGNED_FIELD) or len(fields) != 2:
        raise PageRefused(400, "The shopper's decision is not one this page offers.")
    return Arrival(fields[SIGNED_FIELD], outcome)


def checkout_page(provider: str, payment: Payment, action: str, signed: str) -> ProviderResponse:
    """The order (from the ledger) with Pay and Decline, which post `signed` back to `action`."""
    body = f"""
<p class="badge">Test mode</p>
<h1>{_e(provider)}</h1>
{_order(payment)}
<form method="post" action="{_e(action)}">
  <input type="hidden" name="{SIGNED_FIELD}" value="{_e(signed)}">
  <button type="submit" name="{OUTCOME_FIELD}" value="succeeded" class="pay">Pay</button>
  <button type="submit" name="{OUTCOME_FIELD}" value="failed" class="decline">Decline</button>
</form>
<p class="note">No money moves: the sandbox sends the provider's real signed notification to the
platform, which settles the payment as it would a real one.</p>"""
    return _page(200, f"Pay {_amount(payment)} · {provider}", body)


def result_page(provider: str, payment: Payment) -> ProviderResponse:
    """What became of the payment, with a link back to the merchant's return_url if it has one."""
    title, detail = _RESULTS[payment.status]
    back = ""
    if payment.return_url and urlsplit(payment.return_url).scheme in ("http", "https"):
        back = f'<p><a href="{_e(payment.return_url)}">Return to the merchant</a></p>'
    body = f"""
<p class="badge">Test mode</p>
<h1>{_e(title)}</h1>
<p role="status" class="status-{_e(payment.status.value)}">{_e(detail)}</p>
{_order(payment)}
{back}"""
    return _page(200, f"{title} · {provider}", body)


def refusal_page(status: int, provider: str, message: str) -> ProviderResponse:
    """A 4xx (or 5xx) page saying why nothing happened."""
    body = f"""
<p class="badge">Test mode</p>
<h1>{_e(provider)}</h1>
<p role="alert" class="refused">Refused: {_e(message)}</p>
<p>Nothing was charged and the payment did not change.</p>"""
    return _page(status, f"Refused · {provider}", body)


def _order(payment: Payment) -> str:
    return f"""<dl>
  <dt>Item</dt><dd>{_e(payment.subject)}</dd>
  <dt>Amount</dt><dd class="amount">{_e(_amount(payment))}</dd>
  <dt>Order</dt><dd>{_e(payment.merchant_order_id)}</dd>
</dl>"""


def _amount(payment: Payment) -> str:
    return f"{Money(payment.amount, payment.currency).to_major_string()} {payment.currency.upper()}"


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _page(status: int, title: str, body: str) -> ProviderResponse:
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>{body}
</main>
</body>
</html>
"""
    return ProviderResponse(status, document, HTML_CONTENT_TYPE, dict(_HEADERS))


_STYLE = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f4f6;color:#111827}
main{max-width:26rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
.badge{display:inline-block;margin:0;padding:.1rem .6rem;border-radius:999px;background:#fef3c7;
color:#92400e;font-size:.8rem;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem;margin:0 0 1.5rem}
dt{color:#4b5563}dd{margin:0;font-weight:600;overflow-wrap:anywhere}.amount{font-size:1.2rem}
form{display:flex;gap:.75rem}
button{flex:1;padding:.75rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;border:2px solid}
.pay{background:#1d4ed8;border-color:#1d4ed8;color:#fff}.decline{background:#fff;border-color:#b91c1c;color:#b91c1c}
button:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.note{color:#4b5563;font-size:.85rem}.refused{color:#b91c1c;font-weight:600}
.status-succeeded{color:#047857;font-weight:600}.status-failed,.status-closed{color:#b91c1c;font-weight:600}
a{color:#1d4ed8}
"""


def platform_base_url(notify_url: str) -> str:
    """The platform's base URL (stage prefix included) from the notify URL it gave a provider,
    `<base>/webhooks/{channel}[/...]`: where a credential sends the shopper's browser."""
    parts = urlsplit(notify_url)
    prefix, found, _ = parts.path.rpartition("/webhooks/")
    return f"{parts.scheme}://{parts.netloc}{prefix if found else ''}"
