"""Core use cases. They know the domain, the ledger port and the channel ports; nothing of HTTP."""
