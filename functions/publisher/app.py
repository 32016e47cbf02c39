"""The outbox publisher: the ledger table's stream (new event items) to the event bus."""

from __future__ import annotations

from paymux.events.functions import publisher_handler

lambda_handler = publisher_handler()
