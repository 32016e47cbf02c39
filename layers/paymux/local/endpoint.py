"""How a process reaches the embedded AWS: its endpoint, region and fake credentials. Kept apart from
moto so the CLI can talk to a running platform without importing moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

FAKE_ACCESS_KEY_ID = "local"
FAKE_SECRET_ACCESS_KEY = "local"  # noqa: S105 - moto accepts any credentials
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2, read_timeout=30)


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
    }


def local_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for `service` on an embedded AWS, with its fake credentials."""
    make_client: Callable[..., Any] = boto3.client
    return make_client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
        config=_CLIENT_CONFIG,
    )
