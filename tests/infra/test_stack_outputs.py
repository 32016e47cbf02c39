"""Reading a deployed stack's outputs back (the CLI's `--stack NAME`), with botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from paymux.stack_outputs import OutputKey, StackOutputsMissing, load_stack_outputs

OUTPUTS = {
    OutputKey.API_URL: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
    OutputKey.TABLE_NAME: "paymux-prod-LedgerTable-1",
    OutputKey.EVENT_BUS_NAME: "paymux-prod",
    OutputKey.SECRETS_PREFIX: "paymux/prod",
    OutputKey.STAGE: "prod",
}


def _client(outputs: dict[str, str]) -> tuple[object, Stubber]:
    client = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "paymux-prod",
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                }
            ]
        },
        {"StackName": "paymux-prod"},
    )
    return client, stubber


def test_outputs_of_a_paymux_stack_point_paymux_at_it() -> None:
    client, stubber = _client(OUTPUTS)

    with stubber:
        outputs = load_stack_outputs("paymux-prod", client)

    assert outputs.table_name == "paymux-prod-LedgerTable-1"
    assert outputs.api_url.endswith("/prod/")
    assert outputs.environment() == {
        "PAYMUX_TABLE_NAME": "paymux-prod-LedgerTable-1",
        "PAYMUX_SECRETS_PREFIX": "paymux/prod",
    }


def test_a_stack_without_the_outputs_is_not_taken_for_paymux() -> None:
    client, stubber = _client({OutputKey.API_URL: "https://x/"})

    with stubber, pytest.raises(StackOutputsMissing, match="TableName"):
        load_stack_outputs("paymux-prod", client)
