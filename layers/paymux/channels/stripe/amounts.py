"""paymux minor units to Stripe's API amounts and back.

Stripe's API amount is the ISO 4217 minor unit except in its special cases: ISK stays a two-decimal
currency in the API (ISK 5 is `500`) although ISO gives it no minor unit.
"""

from __future__ import annotations

from paymux.domain.errors import ChannelError
from paymux.domain.money import Money, exponent

# Currencies whose Stripe API exponent differs from ISO 4217's (paymux's): currency → Stripe exponent.
_STRIPE_EXPONENTS: dict[str, int] = {"isk": 2}


def _shift(currency: str) -> int:
    return _STRIPE_EXPONENTS.get(currency, exponent(currency)) - exponent(currency)


def to_stripe_amount(money: Money) -> int:
    """The `amount` Stripe expects for `money`. Raises InvalidRequest for an unknown currency."""
    return money.amount * 10 ** _shift(money.currency)


def from_stripe_amount(amount: int, currency: str) -> Money:
    """The paymux amount of a Stripe `amount` in `currency` (lower case). Raises ChannelError when
    Stripe reports a fraction paymux's currency cannot hold, InvalidRequest for an unknown currency."""
    currency = currency.lower()
    factor = 10 ** _shift(currency)
    if amount % factor:
        raise ChannelError(f"Stripe reported {amount} {currency}, which has no exact amount in minor units")
    return Money(amount // factor, currency)
