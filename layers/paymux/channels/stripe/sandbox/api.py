"""The sandbox's HTTP face: Stripe's v1 REST API for the calls paymux makes. Takes a request exactly as
the `stripe` SDK sends it (Bearer key, form-encoded body or query, Idempotency-Key) and answers as
Stripe does (JSON objects, Stripe's error shape, `Request-Id`, replayed idempotent responses)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from paymux.channels.base import SandboxStore
from paymux.channels.stripe.sandbox import objects
from paymux.channels.stripe.sandbox.account import SandboxAccount, StripeApiError, invalid
from paymux.channels.stripe.sandbox.forms import FormError, decode_form
from paymux.channels.stripe.sandbox.identity import SandboxIdentity, sandbox_identity
from paymux.channels.stripe.sandbox.state import SandboxState

_INTENT = r"(?P<id>pi_[A-Za-z0-9]+)"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class StripeSandboxApi:
    """Answers Stripe API requests for the sandbox account whose secret key is `identity.secret_key`."""

    def __init__(
        self, store: SandboxStore, clock: Callable[[], int], identity: SandboxIdentity | None = None
    ) -> None:
        self.identity = identity or sandbox_identity()
        self.state = SandboxState(store)
        self.account = SandboxAccount(self.state, clock)
        self._routes: list[
            tuple[str, re.Pattern[str], Callable[[re.Match[str], dict[str, Any]], dict[str, Any]]]
        ] = [
            ("POST", re.compile(r"/v1/payment_intents"), lambda _, p: self.account.create_payment_intent(p)),
            ("GET", re.compile(r"/v1/payment_intents/search"), lambda _, p: self._search(p)),
            (
                "GET",
                re.compile(rf"/v1/payment_intents/{_INTENT}"),
                lambda m, p: self.account.retrieve_payment_intent(m["id"], p.get("expand")),
            ),
            (
                "POST",
                re.compile(rf"/v1/payment_intents/{_INTENT}/confirm"),
                lambda m, p: self.account.confirm_payment_intent(m["id"], p),
            ),
            (
                "POST",
                re.compile(rf"/v1/payment_intents/{_INTENT}/cancel"),
                lambda m, p: self.account.cancel_payment_intent(m["id"], p),
            ),
            ("POST", re.compile(r"/v1/refunds"), lambda _, p: self.account.create_refund(p)),
            ("GET", re.compile(r"/v1/refunds"), lambda _, p: self.account.list_refunds(p)),
            (
                "GET",
                re.compile(r"/v1/refunds/(?P<id>re_[A-Za-z0-9]+)"),
                lambda m, _: self.account.retrieve_refund(m["id"]),
            ),
            (
                "GET",
                re.compile(r"/v1/balance_transactions"),
                lambda _, p: self.account.list_balance_transactions(p),
            ),
        ]

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: str | bytes | None
    ) -> ApiResponse:
        """One API call. Never raises for a bad request: Stripe answers every one with a status."""
        headers = {name.lower(): value for name, value in headers.items()}
        method = method.upper()
        request_id = f"req_{secrets.token_hex(7)}"
        answer_headers = {
            "content-type": "application/json",
            "request-id": request_id,
            "stripe-version": headers.get("stripe-version", objects.API_VERSION),
        }
        idempotency_key = headers.get("idempotency-key") if method == "POST" else None
        if idempotency_key:
            answer_headers["idempotency-key"] = idempotency_key
        try:
            self._authenticate(headers.get("authorization"))
            parts = urlsplit(url)
            raw = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
            params = decode_form(parts.query if method in ("GET", "DELETE") else raw)
            if idempotency_key:
                replay = self._replay(idempotency_key, method, parts.path, raw)
                if replay is not None:
                    return ApiResponse(
                        replay["status"], replay["body"], answer_headers | {"idempotent-replayed": "true"}
                    )
            status, payload = 200, self._route(method, parts.path, params)
        except StripeApiError as error:
            status, payload = error.status, error.body
            payload["error"]["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        except FormError as error:
            status, payload = 400, objects.error_body(str(error))
        text = json.dumps(payload, indent=2)
        if idempotency_key and status in (200, 402):
            self.state.remember_response(
                idempotency_key,
                {
                    "fingerprint": _fingerprint(method, urlsplit(url).path, body),
                    "status": status,
                    "body": text,
                },
            )
        return ApiResponse(status, text, answer_headers)

    def _authenticate(self, authorization: str | None) -> None:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise invalid(
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                status=401,
            )
        if not hmac.compare_digest(key.encode(), self.identity.secret_key.encode()):
            raise invalid(f"Invalid API Key provided: {_masked(key)}", code="api_key_invalid", status=401)

    def _replay(self, key: str, method: str, path: str, body: str) -> dict[str, Any] | None:
        record = self.state.idempotent_response(key)
        if record is None:
            return None
        if record["fingerprint"] != _fingerprint(method, path, body):
            raise StripeApiError(
                400,
                objects.error_body(
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{key}' if you meant to execute a different "
                    "request.",
                    error_type="idempotency_error",
                ),
            )
        return record

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for route_method, pattern, action in self._routes:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                return action(match, params)
        raise invalid(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            status=404,
        )

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.account.search_payment_intents(str(params.get("query", "")))
        return {
            "object": "search_result",
            "data": found,
            "has_more": False,
            "next_page": None,
            "url": "/v1/payment_intents/search",
        }


def _fingerprint(method: str, path: str, body: str | bytes | None) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + raw).hexdigest()


def _masked(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
