"""The local platform: the real function handlers behind an API Gateway emulation, with an embedded
AWS (moto) and no account. `paymux local` (and `make run`) starts it; tests reuse its event builder."""
