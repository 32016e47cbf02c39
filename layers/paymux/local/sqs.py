"""SQS messages as Lambda receives them: the one builder for the local event loop, the tests and the
benchmarks, so each hands the handlers the same record shape."""

from __future__ import annotations

from typing import Any


def lambda_sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One `Records` entry of Lambda's SQS event for a `ReceiveMessage` message."""
    region = queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else "local"
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
