"""The domain: money, identifiers, models and state machines. Knows nothing of Lambda, HTTP or DynamoDB."""
