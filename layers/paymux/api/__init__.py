"""The HTTP edge of the core: resolver setup, auth, idempotency, error mapping, handler builder."""
