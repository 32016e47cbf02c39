"""The event spine: the outbox publisher (table stream → bus), channel work over rules, merchant
webhooks (signed, retried, dead-lettered) and the scheduled status sync. See docs/events.md."""
