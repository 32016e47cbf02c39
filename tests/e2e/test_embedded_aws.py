"""The embedded AWS keeps DynamoDB's conditional-write guarantee under concurrent requests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from botocore.exceptions import ClientError

from paymux.ledger.schema import create_table
from paymux.local.aws import EmbeddedAws

pytestmark = pytest.mark.e2e

WRITERS = 20
ROUNDS = 10


@pytest.fixture(scope="module")
def embedded_aws() -> Iterator[EmbeddedAws]:
    aws = EmbeddedAws()
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


def test_racing_transitions_have_exactly_one_winner(embedded_aws: EmbeddedAws) -> None:
    """The ledger's transition: a transaction updating a payment only at the version it read, with
    the event that announces it. Without the lock moto lets two writers win now and then."""
    # given one client per writer (as separate Lambda containers would have) and ROUNDS payments
    create_table(embedded_aws.client("dynamodb"), "race")
    clients = [embedded_aws.client("dynamodb") for _ in range(WRITERS)]
    for payment in range(ROUNDS):
        clients[0].put_item(TableName="race", Item={**payment_key(payment), "version": {"N": "1"}})

    def transition(payment: int, writer: int, start: Barrier) -> str:
        """'won', or the error code the writer got."""
        start.wait()
        try:
            clients[writer].transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "race",
                            "Key": payment_key(payment),
                            "UpdateExpression": "SET version = :next",
                            "ConditionExpression": "version = :read",
                            "ExpressionAttributeValues": {":read": {"N": "1"}, ":next": {"N": "2"}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": "race",
                            "Item": {"pk": {"S": f"EVT#{payment}#{writer}"}, "sk": {"S": "EVENT"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "won"

    # when WRITERS writers move each payment from the same version at once
    outcomes: list[list[str]] = []
    with ThreadPoolExecutor(WRITERS) as pool:
        for payment in range(ROUNDS):
            start = Barrier(WRITERS)
            writers = pool.map(lambda writer, p=payment, s=start: transition(p, writer, s), range(WRITERS))
            outcomes.append(sorted(writers))

    # then each payment moved once, and exactly one event was written for it
    assert outcomes == [["TransactionCanceledException"] * (WRITERS - 1) + ["won"]] * ROUNDS
    events = clients[0].scan(
        TableName="race", FilterExpression="sk = :event", ExpressionAttributeValues={":event": {"S": "EVENT"}}
    )["Items"]
    assert len(events) == ROUNDS


def payment_key(payment: int) -> dict[str, Any]:
    return {"pk": {"S": f"PAY#{payment}"}, "sk": {"S": "PAYMENT"}}


def test_the_endpoint_is_loopback_on_a_free_port(embedded_aws: EmbeddedAws) -> None:
    assert embedded_aws.endpoint_url.startswith("http://127.0.0.1:")
    assert embedded_aws.environment()["AWS_ENDPOINT_URL"] == embedded_aws.endpoint_url
