"""Stripe's webhook signature, as Stripe computes it: `Stripe-Signature: t=<unix>,v1=<hex>` where v1 is
HMAC-SHA256 keyed with the endpoint's `whsec_` secret over `"<t>.<raw body>"`. Hand-written on the
sandbox side on purpose (the SDK only verifies), so the SDK's verifier checks independent bytes."""

from __future__ import annotations

import hashlib
import hmac


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
