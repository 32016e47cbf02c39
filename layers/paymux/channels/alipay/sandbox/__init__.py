"""Alipay's side, played offline: the gateway (`gateway.py`), its trades (`trades.py`), bills and
notifications (`notifier.py`), signed with the committed sandbox keys (`identity.py`)."""
