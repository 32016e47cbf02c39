"""paymux: the shared core library of the platform (domain, ledger, channels, API glue, local mode)."""
