"""Shared pieces of the UnionPay unit tests: the in-process sandbox, payments, and certificate
chains that are not the sandbox's (an attacker's CA, a wrong identity, an expired certificate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from paymux.channels.base import PaymentRequest
from paymux.channels.unionpay.adapter import UnionPayAdapter
from paymux.channels.unionpay.credentials import UnionPayCredentials
from paymux.channels.unionpay.sandbox import UnionPaySandbox
from paymux.domain.models import Channel, Payment
from paymux.domain.states import PaymentStatus
from tests import builders
from tests.fakes import InMemorySandboxStore

NOTIFY_URL = "https://paymux.example/webhooks/unionpay"
NOTIFY_PATH = "/webhooks/unionpay"
UNIONPAY_TEST_CN = "041@Ztest@00040000:SIGN@00000001"


@dataclass
class Sandboxed:
    store: InMemorySandboxStore
    adapter: UnionPayAdapter
    sandbox: UnionPaySandbox
    credentials: UnionPayCredentials


def sandboxed() -> Sandboxed:
    store = InMemorySandboxStore()
    adapter = UnionPayAdapter(store)
    return Sandboxed(store, adapter, UnionPaySandbox(store), adapter.sandbox_credentials())


def unionpay_payment(scene: str = "qr", amount: int = 1234, **overrides: object) -> Payment:
    return builders.payment(channel=Channel.UNIONPAY, scene=scene, amount=amount, **overrides)


def payment_request(payment: Payment, **overrides: object) -> PaymentRequest:
    values: dict[str, object] = {
        "payment_id": payment.id,
        "scene": payment.scene,
        "amount": payment.amount,
        "currency": payment.currency,
        "subject": payment.subject,
        "description": None,
        "expires_at": None,
        "return_url": None,
        "client_ip": None,
        "notify_url": NOTIFY_URL,
    }
    return PaymentRequest(**(values | overrides))  # type: ignore[arg-type]


def created(env: Sandboxed, scene: str = "qr", amount: int = 1234) -> Payment:
    payment = unionpay_payment(scene, amount)
    credential = env.adapter.create_payment(env.credentials, payment_request(payment)).credential
    return payment.model_copy(update={"credential": credential})


def paid(env: Sandboxed, scene: str = "qr", amount: int = 1234) -> Payment:
    """A payment the sandbox completed, as the ledger holds it after the notification."""
    payment = created(env, scene, amount)
    notification = env.sandbox.notification_for(
        env.credentials, payment, PaymentStatus.SUCCEEDED, NOTIFY_PATH
    )
    state = env.adapter.verify_notification(env.credentials, notification)
    return payment.model_copy(
        update={"status": PaymentStatus.SUCCEEDED, "channel_transaction_id": state.channel_transaction_id}
    )


@dataclass(frozen=True)
class Identity:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue(
    common_name: str,
    *,
    issuer: Identity | None = None,
    ca: bool = False,
    key_name: str | None = None,
    not_after: datetime | None = None,
) -> Identity:
    """A certificate for `common_name`, self-signed unless `issuer` is given."""
    key = _key(key_name or common_name)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer.key if issuer else key, hashes.SHA256())
    )
    return Identity(key, cert)


@cache
def attacker_chain() -> tuple[Identity, Identity]:
    """An attacker's CA and a signing certificate it issued that claims to be UnionPay's."""
    ca = issue("attacker CA", ca=True)
    return ca, issue(UNIONPAY_TEST_CN, issuer=ca, key_name="attacker signer")
