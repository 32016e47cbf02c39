"""A merchant's WeChat Pay API v3 credentials (public-key mode, platform certificates, or both)."""

from __future__ import annotations

from pydantic import Field, model_validator

from paymux.channels.base import ChannelCredentials


class WechatPayCredentials(ChannelCredentials):
    """What `paymux channels set MERCHANT wechatpay --config FILE` stores (PEM strings inline).

    Responses and notifications are verified with the WeChat Pay public key (`platform_public_key`,
    whose id is `platform_public_key_id`, `PUB_KEY_ID_...`) or with one of `platform_certificates`
    (matched by serial number); at least one of the two must be given.
    """

    mchid: str = Field(min_length=1, max_length=32)
    appid: str = Field(min_length=1, max_length=32)
    merchant_serial_no: str = Field(min_length=1, max_length=64, description="The API certificate's serial")
    merchant_private_key: str = Field(min_length=1, repr=False, description="PEM of the API certificate key")
    apiv3_key: str = Field(min_length=32, max_length=32, repr=False)
    platform_public_key: str | None = Field(default=None, repr=False)
    platform_public_key_id: str | None = None
    platform_certificates: tuple[str, ...] = Field(default=(), repr=False)

    @model_validator(mode="after")
    def _has_a_platform_key(self) -> WechatPayCredentials:
        if (self.platform_public_key is None) != (self.platform_public_key_id is None):
            raise ValueError("platform_public_key and platform_public_key_id go together")
        if self.platform_public_key is None and not self.platform_certificates:
            raise ValueError("give platform_public_key (with its id) or platform_certificates")
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("apiv3_key must be 32 ASCII characters")
        return self

    @property
    def uses_public_key(self) -> bool:
        return self.platform_public_key_id is not None
