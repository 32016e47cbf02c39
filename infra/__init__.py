"""The paymux CDK app: one stack built from `paymux.topology.TOPOLOGY` and `paymux.ledger.schema`."""
