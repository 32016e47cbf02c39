"""The event spine on moto: one table (with its stream), the bus with the topology's rules, the
payment service on a fake channel, and the publisher, consumers and notifier wired to them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from paymux.domain.models import Channel, MerchantScope, Mode
from paymux.events.bus import EventBridgeBus
from paymux.events.channel_work import ChannelWorker
from paymux.events.notifier import Notifier
from paymux.events.publisher import OutboxPublisher
from paymux.events.retry import RetryPolicy
from paymux.events.status_sync import StatusSync
from paymux.events.stream_reader import TableStreamReader
from paymux.ledger.deliveries import DeliveryLedger
from paymux.ledger.dynamodb import DynamoLedger
from paymux.ledger.outbox import OutboxRecords
from paymux.ledger.schema import create_table
from paymux.services.credentials import CredentialResolver
from paymux.services.events import EventService
from paymux.services.payments import PaymentService
from tests.fakes import FakeAdapter, InMemorySandboxStore
from tests.unit.events.support import STREAMS_CONFIG, Bus, Clock, RecordingTransport, public_resolver


class NoStoredCredentials:
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None:
        return None


@dataclass
class World:
    clock: Clock
    ledger: DynamoLedger
    records: OutboxRecords
    deliveries: DeliveryLedger
    adapter: FakeAdapter
    payments: PaymentService
    events: EventService
    credentials: CredentialResolver
    bus: Bus
    stream: TableStreamReader
    publisher: OutboxPublisher
    transport: RecordingTransport
    notifier: Notifier
    scope: MerchantScope

    def worker(self) -> ChannelWorker:
        return ChannelWorker(self.adapter, self.ledger, self.payments, self.credentials)

    def status_sync(self, **options: Any) -> StatusSync:
        return StatusSync(
            self.adapter,
            self.ledger,
            self.ledger,
            self.payments,
            self.credentials,
            clock=self.clock,
            **options,
        )

    def publish_stream(self) -> int:
        """Run the publisher over the stream's new records; how many it put on the bus."""
        return sum(1 for record in self.stream.poll() if self._publish(record))

    def _publish(self, record: dict[str, Any]) -> bool:
        from paymux.events.stream import event_of_record, is_new_event

        return is_new_event(record) and self.publisher.publish(event_of_record(record))


@pytest.fixture
def world(aws_credentials: None, aws_session: boto3.session.Session) -> Iterator[World]:
    with mock_aws():
        dynamodb = aws_session.client("dynamodb")
        table = f"paymux-events-{uuid.uuid4().hex[:8]}"
        create_table(dynamodb, table)
        clock = Clock()
        ledger = DynamoLedger(table, dynamodb)
        records = OutboxRecords(table, dynamodb)
        deliveries = DeliveryLedger(table, dynamodb)
        adapter = FakeAdapter(Channel.ALIPAY)
        credentials = CredentialResolver(NoStoredCredentials())
        payments = PaymentService(
            ledger, credentials, InMemorySandboxStore(), clock=clock, adapters=lambda channel, store: adapter
        )
        bus = Bus.create(aws_session)
        transport = RecordingTransport()
        yield World(
            clock=clock,
            ledger=ledger,
            records=records,
            deliveries=deliveries,
            adapter=adapter,
            payments=payments,
            events=EventService(ledger, clock=clock, resolver=public_resolver),
            credentials=credentials,
            bus=bus,
            stream=TableStreamReader(
                dynamodb, aws_session.client("dynamodbstreams", config=STREAMS_CONFIG), table
            ),
            publisher=OutboxPublisher(EventBridgeBus(bus.events, bus.name), records, clock=clock),
            transport=transport,
            notifier=Notifier(
                ledger,
                deliveries,
                transport,
                resolver=public_resolver,
                clock=clock,
                policy=RetryPolicy(jitter=lambda: 0.0),
                parallel_attempts=1,  # moto in-process is not thread-safe
            ),
            scope=MerchantScope(merchant_id=f"mch_{uuid.uuid4().hex[:26].upper()}", mode=Mode.TEST),
        )
