"""Which credentials a channel call uses, per merchant and mode."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationInfo, field_validator

from paymux.domain.errors import ChannelNotConfigured
from paymux.domain.models import Mode
from paymux.services.credentials import CredentialResolver
from tests.fakes import FakeAdapter, FakeCredentials
from tests.unit.core.conftest import DictCredentialStore


class ModeCheckedCredentials(FakeCredentials):
    @field_validator("signing_secret")
    @classmethod
    def of_its_mode(cls, value: str, info: ValidationInfo) -> str:
        mode = (info.context or {}).get("mode")
        if not value.startswith(f"{mode}_"):
            raise ValueError("a secret of the other mode")
        return value


GATEWAY = "https://provider.example/gateway"


@pytest.fixture
def store() -> DictCredentialStore:
    return DictCredentialStore()


def resolve(store: DictCredentialStore, mode: Mode, stored: dict[str, Any] | None = None) -> FakeCredentials:
    adapter = FakeAdapter()
    adapter.credentials_model = ModeCheckedCredentials
    if stored is not None:
        store.values[("alipay", "mch_1", mode.value)] = stored
    credentials = CredentialResolver(store).resolve(adapter, "mch_1", mode)
    assert isinstance(credentials, FakeCredentials)
    return credentials


def test_test_mode_without_credentials_uses_the_sandbox(store):
    assert resolve(store, Mode.TEST).signing_secret == "sandbox-secret"


def test_live_mode_without_credentials_is_refused(store):
    with pytest.raises(ChannelNotConfigured, match="paymux channels set mch_1 alipay --mode live"):
        resolve(store, Mode.LIVE)


def test_stored_credentials_are_validated_for_their_mode(store):
    assert (
        resolve(store, Mode.LIVE, {"signing_secret": "live_abc", "gateway_url": GATEWAY}).signing_secret
        == "live_abc"
    )
    with pytest.raises(ChannelNotConfigured) as refused:
        resolve(store, Mode.TEST, {"signing_secret": "live_abc", "gateway_url": GATEWAY})
    assert "live_abc" not in refused.value.message


def test_live_credentials_never_reach_the_built_in_sandbox(store):
    with pytest.raises(ChannelNotConfigured):
        resolve(store, Mode.LIVE, {"signing_secret": "live_abc"})
