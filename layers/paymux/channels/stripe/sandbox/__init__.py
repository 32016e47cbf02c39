"""The built-in Stripe sandbox: an emulation of the subset of Stripe's v1 API that paymux uses
(PaymentIntents, Refunds, Balance Transactions) and of Stripe's signed webhook events."""
