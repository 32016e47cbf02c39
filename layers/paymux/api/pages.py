"""Cursor pagination parameters and list envelopes, shared by every list route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query

from paymux.ledger.ports import Page

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")]
StartingAfter = Annotated[
    str | None, Query(max_length=64, description="The id of the last object of the previous page")
]


def page_of(page: Page[T], represent: Callable[[T], dict[str, Any]], url: str) -> dict[str, Any]:
    return {
        "object": "list",
        "url": url,
        "has_more": page.has_more,
        "data": [represent(o) for o in page.data],
    }
