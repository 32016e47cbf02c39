"""The `paymux` command line.

    paymux local [--port N]                      run the whole platform on this machine
    paymux merchants create NAME                 a merchant and its test and live secret keys (JSON)
    paymux channels set MERCHANT CHANNEL --mode test|live --config FILE
                                                 store a merchant's channel credentials
    paymux events tail                           print a merchant's events as they happen
    paymux webhooks listen --forward-to URL      forward each new event, signed, to a local URL

`merchants` and `channels` act on a `Deployment`: today the running local platform, found through its
state file; a deployed stack resolves to the same shape (its table, secrets prefix and region), so the
commands themselves do not change.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from paymux.domain.errors import PaymuxError
from paymux.domain.models import Mode


class CommandError(Exception):
    """A failure to report in one line and exit 1."""


@dataclass(frozen=True)
class Deployment:
    """Where `merchants` and `channels` act. `endpoint_url` is the embedded AWS of a local platform;
    None means real AWS with the default credential chain."""

    description: str
    table_name: str
    secrets_prefix: str
    region: str
    endpoint_url: str | None = None

    def client(self, service: str) -> Any:
        if self.endpoint_url is not None:
            from paymux.local.endpoint import local_client

            return local_client(service, self.endpoint_url, self.region)
        import boto3

        make_client: Callable[..., Any] = boto3.client
        return make_client(service, region_name=self.region)


def resolve_deployment() -> Deployment:
    """The deployment a command acts on: the running local platform (issue 5 adds `--stack NAME`,
    resolved from the stack's outputs into the same shape). Raises CommandError when there is none."""
    from paymux.local.state import PlatformNotRunning, read_state

    try:
        state = read_state()
    except PlatformNotRunning as error:
        raise CommandError(f"{error}. Start one with `make run` or `paymux local` first.") from None
    return Deployment(
        description=f"local platform at {state.api_url}",
        table_name=state.table_name,
        secrets_prefix=state.secrets_prefix,
        region=state.region,
        endpoint_url=state.aws_endpoint,
    )


def run_local(args: argparse.Namespace) -> int:
    from paymux.local.platform import LocalConfig, LocalPlatform, PlatformStartError

    try:
        return LocalPlatform(LocalConfig(port=args.port)).serve()
    except PlatformStartError as error:
        raise CommandError(str(error)) from None


def create_merchant(args: argparse.Namespace) -> int:
    from paymux.ledger.dynamodb import DynamoLedger
    from paymux.services.merchants import MerchantService

    deployment = resolve_deployment()
    ledger = DynamoLedger(deployment.table_name, deployment.client("dynamodb"))
    created = MerchantService(ledger).create(args.name)
    _print_json(
        {
            "merchant_id": created.merchant.id,
            "name": created.merchant.name,
            "test_secret_key": created.test_secret_key,
            "live_secret_key": created.live_secret_key,
        }
    )
    return 0


def set_channel_credentials(args: argparse.Namespace) -> int:
    from paymux.channels.credentials import SecretsCredentialStore
    from paymux.channels.registry import load_adapter, parse_channel
    from paymux.ledger.dynamodb import DynamoLedger
    from paymux.ledger.sandbox_store import DynamoSandboxStore

    channel = parse_channel(args.channel)
    values = _read_config(args.config)
    deployment = resolve_deployment()
    dynamodb = deployment.client("dynamodb")
    DynamoLedger(deployment.table_name, dynamodb).get_merchant(args.merchant)
    adapter = load_adapter(channel, DynamoSandboxStore(deployment.table_name, dynamodb))
    try:
        adapter.credentials_model.model_validate(values, context={"mode": args.mode})
    except ValidationError as error:
        raise CommandError(
            f"{args.config} is not a valid {channel} configuration:\n{_describe(error)}"
        ) from None
    # Store what was given, once it validates: a dump of the model would mask its SecretStr fields.
    store = SecretsCredentialStore(deployment.client("secretsmanager"), deployment.secrets_prefix)
    name = store.save(channel.value, args.merchant, args.mode, values)
    _print_json(
        {"secret_name": name, "merchant_id": args.merchant, "channel": channel.value, "mode": args.mode}
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paymux", description="Operate a paymux payment platform.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = commands.add_parser("local", help="run the whole platform locally (embedded AWS, no account)")
    local.add_argument("--port", type=int, default=3000, help="HTTP port on 127.0.0.1 (default 3000)")
    local.set_defaults(run=run_local)

    merchants = commands.add_parser("merchants", help="manage merchants").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = merchants.add_parser("create", help="create a merchant; prints its id and secret keys as JSON")
    create.add_argument("name", metavar="NAME")
    create.set_defaults(run=create_merchant)

    channels = commands.add_parser("channels", help="manage merchants' channel credentials").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    set_ = channels.add_parser("set", help="store a merchant's credentials for a channel and mode")
    set_.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    set_.add_argument("channel", metavar="CHANNEL", help="alipay, wechatpay, unionpay or stripe")
    set_.add_argument("--mode", required=True, choices=[mode.value for mode in Mode])
    set_.add_argument(
        "--config", required=True, metavar="FILE", help="the credentials as a JSON object ('-': stdin)"
    )
    set_.set_defaults(run=set_channel_credentials)

    from paymux.events.cli import add_event_commands

    add_event_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as error:
        return _fail(str(error))
    except PaymuxError as error:
        return _fail(error.message)
    except (BotoCoreError, ClientError) as error:
        return _fail(f"the AWS call failed: {error}")


def _read_config(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{path} is not JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(values, dict):
        raise CommandError(f"{path} must hold a JSON object")
    return values


def _describe(error: ValidationError) -> str:
    """Field paths and messages only: never the input values, which are secrets."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"  {location}: {item['msg']}")
    return "\n".join(lines)


def _print_json(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def _fail(message: str) -> int:
    sys.stderr.write(f"paymux: error: {message}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
