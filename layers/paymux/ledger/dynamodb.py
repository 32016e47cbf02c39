"""The ledger on one DynamoDB table. State changes are conditional writes, each committed in one
transaction with the event that announces it (the outbox), so the guarantees hold under any
concurrency: a payment never moves backwards, is never paid twice, is never refunded past its amount.
"""

from __future__ import annotations

from paymux.ledger.event_records import EventRecords
from paymux.ledger.merchant_records import MerchantRecords
from paymux.ledger.refund_records import RefundRecords
from paymux.ledger.work_index_records import WorkIndexRecords


class DynamoLedger(MerchantRecords, RefundRecords, EventRecords, WorkIndexRecords):
    """The `Ledger` port on DynamoDB. Takes its client; builds nothing from the environment."""
