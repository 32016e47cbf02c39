"""Merchant webhooks: every bus event to its merchant's endpoints, and the scheduled retries."""

from __future__ import annotations

from paymux.events.functions import notifier_handler

lambda_handler = notifier_handler()
