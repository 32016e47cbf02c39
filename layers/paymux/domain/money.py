"""Money as integer minor units with ISO 4217 currencies and their exponents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from paymux.domain.errors import InvalidRequest

# ISO 4217 minor-unit exponents for the currencies the channels settle in. A currency missing
# here is refused rather than guessed: a wrong exponent moves money by a factor of 100.
CURRENCY_EXPONENTS: dict[str, int] = {
    "aud": 2, "cad": 2, "chf": 2, "cny": 2, "czk": 2, "dkk": 2, "eur": 2, "gbp": 2, "hkd": 2,
    "idr": 2, "ils": 2, "inr": 2, "myr": 2, "mxn": 2, "nok": 2, "nzd": 2, "php": 2, "pln": 2,
    "sek": 2, "sgd": 2, "thb": 2, "twd": 2, "usd": 2, "zar": 2, "brl": 2, "mop": 2, "aed": 2,
    "jpy": 0, "krw": 0, "vnd": 0, "clp": 0, "isk": 0, "huf": 2,
    "bhd": 3, "jod": 3, "kwd": 3, "omr": 3, "tnd": 3,
}  # fmt: skip

# The largest amount any channel accepts (Alipay: 100,000,000.00 CNY), in minor units.
MAX_AMOUNT = 10_000_000_000


def exponent(currency: str) -> int:
    """Return the minor-unit exponent of an ISO 4217 currency; raises InvalidRequest if unknown."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidRequest(f"Unsupported currency: {currency!r}", param="currency") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit (fen, cents). Never a float."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise InvalidRequest("amount must be an integer in minor units", param="amount")
        exponent(self.currency)

    def to_major_string(self) -> str:
        """The decimal string providers such as Alipay expect ("12.34" for 1234 fen)."""
        exp = exponent(self.currency)
        return str((Decimal(self.amount) / (Decimal(10) ** exp)).quantize(Decimal(1).scaleb(-exp)))

    @classmethod
    def from_major_string(cls, value: str, currency: str) -> Money:
        """Parse a provider's decimal amount exactly; raises InvalidRequest on excess precision."""
        exp = exponent(currency)
        try:
            scaled = Decimal(value).scaleb(exp)
        except ArithmeticError:
            raise InvalidRequest(f"Not a decimal amount: {value!r}", param="amount") from None
        if scaled != scaled.to_integral_value():
            raise InvalidRequest(f"Amount {value!r} has more precision than {currency}", param="amount")
        return cls(int(scaled), currency)
