"""Which credentials a channel call uses: the merchant's own, or in test mode the built-in sandbox's."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import ValidationError

from paymux.channels.base import ChannelAdapter, ChannelCredentials
from paymux.domain.errors import ChannelNotConfigured
from paymux.domain.models import Mode


class CredentialStore(Protocol):
    def load(self, channel: str, merchant_id: str, mode: str) -> dict[str, Any] | None: ...


class CredentialResolver:
    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    def resolve(self, adapter: ChannelAdapter, merchant_id: str, mode: Mode) -> ChannelCredentials:
        """The merchant's credentials for the adapter's channel in `mode`. In test mode a merchant
        that set none uses the sandbox's, so every new merchant can test every channel at once.

        Raises ChannelNotConfigured in live mode without credentials, or if stored ones are invalid.
        """
        stored = self.store.load(adapter.channel.value, merchant_id, mode.value)
        if stored is None:
            if mode is Mode.TEST:
                return adapter.sandbox_credentials()
            raise ChannelNotConfigured(
                f"No live credentials are set for {adapter.channel}: "
                f"`paymux channels set {merchant_id} {adapter.channel} --mode live --config FILE`",
                param="channel",
            )
        try:
            # The mode lets a model refuse credentials of the other mode (a Stripe sk_live_ key in test).
            return adapter.credentials_model.model_validate(stored, context={"mode": mode.value})
        except ValidationError:
            # The field names are safe to show; the values are secrets and are not.
            raise ChannelNotConfigured(
                f"The stored {adapter.channel} credentials are invalid; set them again", param="channel"
            ) from None
