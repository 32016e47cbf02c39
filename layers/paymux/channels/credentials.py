"""Per-merchant channel credentials in Secrets Manager, read through a cache.

One secret per merchant, channel and mode, named `{prefix}/{channel}/{merchant_id}/{mode}`, so an IAM
policy on `{prefix}/{channel}/*` gives a channel's function its own channel's secrets and no other's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


def secret_name(prefix: str, channel: str, merchant_id: str, mode: str) -> str:
    return f"{prefix}/{channel}/{merchant_id}/{mode}"


class SecretsCredentialStore:
    """Reads (cached, `cache_seconds`) and writes channel credentials as JSON secrets."""

    def __init__(self, client: SecretsManagerClient, prefix: str, cache_seconds: int = 300) -> None:
        self.client = client
        self.prefix = prefix
        self.cache_seconds = cache_seconds
        self._provider = SecretsProvider(boto3_client=client)

    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        """The stored credentials, or None if the merchant set none for this channel and mode."""
        name = secret_name(self.prefix, channel, merchant_id, mode)
        try:
            value = self._provider.get(name, max_age=self.cache_seconds)
        except GetParameterError as error:
            # Powertools re-raises the client's error as a GetParameterError raised while handling it.
            if _is_missing(error.__context__):
                return None
            raise
        return json.loads(value) if isinstance(value, str | bytes) else None

    def save(self, channel: str, merchant_id: str, mode: str, values: dict[str, Any]) -> str:
        """Create or replace the secret; returns its name. Never logs the values."""
        name = secret_name(self.prefix, channel, merchant_id, mode)
        body = json.dumps(values)
        try:
            self.client.put_secret_value(SecretId=name, SecretString=body)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self.client.create_secret(
                Name=name,
                SecretString=body,
                Description=f"paymux {channel} credentials of {merchant_id} ({mode})",
                Tags=[{"Key": "paymux:channel", "Value": channel}],
            )
        self._provider.clear_cache()
        return name


def _is_missing(cause: BaseException | None) -> bool:
    return isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException"
