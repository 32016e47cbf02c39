"""The names a deployed paymux stack publishes as CloudFormation outputs, and how to read them back
(the CLI's `--stack NAME`). The CDK stack declares its outputs from the same keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class OutputKey:
    API_URL = "ApiUrl"
    TABLE_NAME = "TableName"
    EVENT_BUS_NAME = "EventBusName"
    SECRETS_PREFIX = "SecretsPrefix"
    STAGE = "Stage"


class StackOutputsMissing(LookupError):
    """The stack is not a paymux stack, or is not (yet) deployed."""


@dataclass(frozen=True)
class StackOutputs:
    api_url: str
    table_name: str
    event_bus_name: str
    secrets_prefix: str
    stage: str

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> StackOutputs:
        """Raises StackOutputsMissing naming the outputs that are not there."""
        keys = {
            "api_url": OutputKey.API_URL,
            "table_name": OutputKey.TABLE_NAME,
            "event_bus_name": OutputKey.EVENT_BUS_NAME,
            "secrets_prefix": OutputKey.SECRETS_PREFIX,
            "stage": OutputKey.STAGE,
        }
        missing = sorted(key for key in keys.values() if key not in outputs)
        if missing:
            raise StackOutputsMissing(f"the stack has no outputs {missing}: is it a paymux stack?")
        return cls(**{field: outputs[key] for field, key in keys.items()})

    def environment(self) -> dict[str, str]:
        """The `PAYMUX_*` variables that point paymux's own code at this stack."""
        return {"PAYMUX_TABLE_NAME": self.table_name, "PAYMUX_SECRETS_PREFIX": self.secrets_prefix}


def load_stack_outputs(stack_name: str, client: Any) -> StackOutputs:
    """The outputs of a deployed stack, read with the caller's credentials (`client` is boto3's
    CloudFormation client).

    Raises StackOutputsMissing when there is no such stack (CloudFormation answers `ValidationError`
    for an unknown or malformed name) or it lacks an output; botocore's errors for anything else
    (no credentials, access denied).
    """
    from botocore.exceptions import ClientError

    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ValidationError":
            raise
        message = error.response["Error"].get("Message", "")
        raise StackOutputsMissing(f"no stack named {stack_name!r} ({message})") from None
    if not stacks:
        raise StackOutputsMissing(f"no stack named {stack_name!r}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    try:
        return StackOutputs.from_outputs(outputs)
    except StackOutputsMissing as error:
        raise StackOutputsMissing(f"{error} (stack status: {stacks[0]['StackStatus']})") from None
