"""The ledger: every payment, refund, event and merchant record, on one DynamoDB table."""
