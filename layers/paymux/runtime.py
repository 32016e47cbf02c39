"""The process's shared dependencies, built lazily on first use (never at import), once per cold
start. Tests build their own and pass them in instead."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from paymux.channels.credentials import SecretsCredentialStore
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.sandbox_store import DynamoSandboxStore
from paymux.services.credentials import CredentialResolver
from paymux.services.events import EventService
from paymux.services.merchants import MerchantService
from paymux.services.payments import PaymentService
from paymux.settings import platform_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from paymux.channels.base import ChannelAdapter
    from paymux.domain.models import Channel
    from paymux.events.channel_work import ChannelWorker
    from paymux.events.notifier import Notifier
    from paymux.events.publisher import OutboxPublisher
    from paymux.events.status_sync import StatusSync
    from paymux.ledger.deliveries import DeliveryLedger
    from paymux.ledger.outbox import OutboxRecords
    from paymux.services.shopper_pages import ShopperPages

# Lambda times out at 29 s behind API Gateway: fail fast and let the caller retry instead.
_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_AWS_CONFIG)


@cache
def secrets_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=_AWS_CONFIG)


@cache
def ledger() -> DynamoLedger:
    return DynamoLedger(platform_settings().table_name, dynamodb_client())


@cache
def sandbox_store() -> DynamoSandboxStore:
    return DynamoSandboxStore(platform_settings().table_name, dynamodb_client())


@cache
def credential_store() -> SecretsCredentialStore:
    settings = platform_settings()
    return SecretsCredentialStore(secrets_client(), settings.secrets_prefix, settings.secrets_cache_seconds)


@cache
def merchant_service() -> MerchantService:
    return MerchantService(ledger())


@cache
def payment_service() -> PaymentService:
    return PaymentService(ledger(), CredentialResolver(credential_store()), sandbox_store())


@cache
def event_service() -> EventService:
    return EventService(ledger(), test_loopback=platform_settings().webhook_test_loopback)


@cache
def shopper_pages() -> ShopperPages:
    """The sandbox shopper pages (test mode); they post the sandbox's notifications over HTTP."""
    from paymux.channels.http import send
    from paymux.services.shopper_pages import ShopperPages

    return ShopperPages(payment_service(), send)


# -- the event spine (imported on first use: the API functions never load it) ---------------


@cache
def events_client() -> EventBridgeClient:
    return boto3.client("events", config=_AWS_CONFIG)


@cache
def outbox_records() -> OutboxRecords:
    from paymux.ledger.outbox import OutboxRecords

    return OutboxRecords(platform_settings().table_name, dynamodb_client())


@cache
def delivery_ledger() -> DeliveryLedger:
    from paymux.ledger.deliveries import DeliveryLedger

    return DeliveryLedger(platform_settings().table_name, dynamodb_client())


@cache
def outbox_publisher() -> OutboxPublisher:
    from paymux.events.bus import EventBridgeBus
    from paymux.events.publisher import OutboxPublisher
    from paymux.events.settings import publisher_settings

    return OutboxPublisher(
        EventBridgeBus(events_client(), publisher_settings().event_bus_name), outbox_records()
    )


@cache
def notifier() -> Notifier:
    from paymux.events.notifier import Notifier
    from paymux.events.transport import HttpWebhookTransport

    return Notifier(
        ledger(),
        delivery_ledger(),
        HttpWebhookTransport(),
        test_loopback=platform_settings().webhook_test_loopback,
    )


@cache
def channel_adapter(channel: Channel) -> ChannelAdapter:
    from paymux.channels.registry import load_adapter

    return load_adapter(channel, sandbox_store())


@cache
def channel_worker(channel: Channel) -> ChannelWorker:
    from paymux.events.channel_work import ChannelWorker

    return ChannelWorker(
        channel_adapter(channel), ledger(), payment_service(), CredentialResolver(credential_store())
    )


@cache
def status_sync(channel: Channel) -> StatusSync:
    from paymux.events.status_sync import StatusSync

    return StatusSync(
        channel_adapter(channel),
        ledger(),
        ledger(),
        payment_service(),
        CredentialResolver(credential_store()),
    )
