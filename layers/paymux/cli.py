"""The `paymux` command line.

    paymux local [--port N]                      run the whole platform on this machine
    paymux merchants create NAME                 a merchant and its test and live secret keys (JSON)
    paymux keys roll MERCHANT --mode test|live   an extra secret key for the merchant (JSON)
    paymux keys revoke MERCHANT --key-hash HASH | --key-stdin
                                                 revoke a key: its next request fails
    paymux channels set MERCHANT CHANNEL --mode test|live --config FILE
                                                 store a merchant's channel credentials
    paymux events tail                           print a merchant's events as they happen
    paymux webhooks listen --forward-to URL      forward each new event, signed, to a local URL

Every command but `local` acts on a `Deployment`: the running local platform (found through its state
file), or with `--stack NAME [--region R]` a deployed stack, found through its CloudFormation outputs
with the engineer's own AWS credentials (boto3's default chain: `AWS_PROFILE`, SSO, environment...).
Both resolve to the same shape, so the commands themselves do not change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from pydantic import ValidationError

from paymux.domain.errors import PaymuxError
from paymux.domain.models import Mode

if TYPE_CHECKING:
    from paymux.ledger.dynamodb import DynamoLedger

_KEY_HASH = re.compile(r"[0-9a-f]{64}")


class CommandError(Exception):
    """A failure to report in one line and exit 1."""


@dataclass(frozen=True)
class Deployment:
    """Where a command acts: the running local platform or a deployed stack. `clients` makes a boto3
    client for a service there (the embedded AWS's fake credentials, or the engineer's own)."""

    description: str
    api_url: str
    table_name: str
    event_bus_name: str
    secrets_prefix: str
    region: str
    clients: Callable[[str], Any] = field(repr=False, compare=False)

    def client(self, service: str) -> Any:
        return self.clients(service)


def resolve_deployment(stack: str | None = None, region: str | None = None) -> Deployment:
    """The deployment a command acts on: the stack named `stack`, else the running local platform.

    Raises CommandError when there is none; botocore's errors when AWS cannot be asked.
    """
    if stack is not None:
        return stack_deployment(stack, region)
    from paymux.local.endpoint import local_client
    from paymux.local.state import PlatformNotRunning, read_state

    try:
        state = read_state()
    except PlatformNotRunning as error:
        raise CommandError(f"{error}. Start one with `make run` or `paymux local` first.") from None
    return Deployment(
        description=f"local platform at {state.api_url}",
        api_url=state.api_url,
        table_name=state.table_name,
        event_bus_name=state.event_bus_name,
        secrets_prefix=state.secrets_prefix,
        region=state.region,
        clients=lambda service: local_client(service, state.aws_endpoint, state.region),
    )


def stack_deployment(stack_name: str, region: str | None) -> Deployment:
    """A deployed stack, from its outputs. The region is `region`, else `$AWS_REGION`, else the one
    boto3 finds (`$AWS_DEFAULT_REGION`, the profile's); credentials are boto3's default chain.

    Raises CommandError when no region is set, or the stack is missing or not a paymux stack;
    botocore's errors (NoCredentialsError among them) when AWS cannot be asked.
    """
    import boto3

    from paymux.stack_outputs import StackOutputsMissing, load_stack_outputs

    # One session for every client: credentials are resolved (an assumed role, an MFA prompt) once.
    session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if session.region_name is None:
        raise CommandError(
            f"which region is {stack_name} in? Pass --region, set AWS_REGION, or give your profile one"
        )
    try:
        outputs = load_stack_outputs(stack_name, session.client("cloudformation"))
    except StackOutputsMissing as error:
        raise CommandError(f"{error}, in region {session.region_name}") from None
    make_client: Callable[..., Any] = session.client
    return Deployment(
        description=f"stack {stack_name} in {session.region_name}",
        api_url=outputs.api_url,
        table_name=outputs.table_name,
        event_bus_name=outputs.event_bus_name,
        secrets_prefix=outputs.secrets_prefix,
        region=session.region_name,
        clients=make_client,
    )


def run_local(args: argparse.Namespace) -> int:
    from paymux.local.platform import LocalConfig, LocalPlatform, PlatformStartError

    try:
        return LocalPlatform(LocalConfig(port=args.port)).serve()
    except PlatformStartError as error:
        raise CommandError(str(error)) from None


def create_merchant(args: argparse.Namespace) -> int:
    from paymux.services.merchants import MerchantService

    created = MerchantService(_ledger(args)).create(args.name)
    _print_json(
        {
            "merchant_id": created.merchant.id,
            "name": created.merchant.name,
            "test_secret_key": created.test_secret_key,
            "live_secret_key": created.live_secret_key,
        }
    )
    return 0


def roll_key(args: argparse.Namespace) -> int:
    """A new key beside the merchant's others (shown once); revoke the old one when it is unused."""
    from paymux.services.merchants import MerchantService, hash_key

    mode = Mode(args.mode)
    key = MerchantService(_ledger(args)).roll_key(args.merchant, mode)
    _print_json(
        {"merchant_id": args.merchant, "mode": mode.value, "secret_key": key, "key_hash": hash_key(key)}
    )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    """Delete a key's hash: its next request is refused. The key is named by its hash, or read from
    stdin (never from the command line, where shell history would keep it)."""
    from paymux.services.merchants import hash_key, mode_of

    if args.key_stdin:
        key = sys.stdin.read().strip()
        if mode_of(key) is None:
            raise CommandError("stdin holds no secret key (sk_test_... or sk_live_...)")
        key_hash = hash_key(key)
    elif _KEY_HASH.fullmatch(args.key_hash):
        key_hash = args.key_hash
    else:
        raise CommandError("--key-hash takes the key's SHA-256 as 64 lower-case hex digits")
    revoked = _ledger(args).delete_api_key(key_hash, args.merchant)
    _print_json(
        {
            "merchant_id": revoked.merchant_id,
            "mode": revoked.mode.value,
            "key_hash": key_hash,
            "revoked": True,
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
    deployment = resolve_deployment(args.stack, args.region)
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


def target_options(*, on_command: bool) -> argparse.ArgumentParser:
    """`--stack` and `--region`, accepted before the command (`paymux --stack S merchants create`) and
    after it (`paymux merchants create X --stack S`). On a command they default to "not given", so
    they do not overwrite what was given before it."""
    default = argparse.SUPPRESS if on_command else None
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--stack",
        metavar="NAME",
        default=default,
        help="act on this deployed CloudFormation stack (default: the running local platform)",
    )
    options.add_argument(
        "--region", default=default, help="the stack's AWS region (default: $AWS_REGION, or your profile's)"
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paymux",
        description="Operate a paymux payment platform.",
        parents=[target_options(on_command=False)],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    targets = [target_options(on_command=True)]

    local = commands.add_parser("local", help="run the whole platform locally (embedded AWS, no account)")
    local.add_argument("--port", type=int, default=3000, help="HTTP port on 127.0.0.1 (default 3000)")
    local.set_defaults(run=run_local)

    merchants = commands.add_parser("merchants", help="manage merchants").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = merchants.add_parser(
        "create", parents=targets, help="create a merchant; prints its id and secret keys as JSON"
    )
    create.add_argument("name", metavar="NAME")
    create.set_defaults(run=create_merchant)

    keys = commands.add_parser("keys", help="rotate merchants' secret keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    roll = keys.add_parser("roll", parents=targets, help="issue an extra key; prints it once, as JSON")
    roll.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    roll.add_argument("--mode", required=True, choices=[mode.value for mode in Mode])
    roll.set_defaults(run=roll_key)
    revoke = keys.add_parser("revoke", parents=targets, help="revoke a key: its next request fails")
    revoke.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--key-hash", metavar="HASH", help="the key's SHA-256 (hex), as `keys roll` printed it"
    )
    which.add_argument("--key-stdin", action="store_true", help="read the secret key itself from stdin")
    revoke.set_defaults(run=revoke_key)

    channels = commands.add_parser("channels", help="manage merchants' channel credentials").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    set_ = channels.add_parser(
        "set", parents=targets, help="store a merchant's credentials for a channel and mode"
    )
    set_.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    set_.add_argument("channel", metavar="CHANNEL", help="alipay, wechatpay, unionpay or stripe")
    set_.add_argument("--mode", required=True, choices=[mode.value for mode in Mode])
    set_.add_argument(
        "--config", required=True, metavar="FILE", help="the credentials as a JSON object ('-': stdin)"
    )
    set_.set_defaults(run=set_channel_credentials)

    from paymux.events.cli import add_event_commands

    add_event_commands(commands, parents=targets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_target(args)
        return int(args.run(args))
    except CommandError as error:
        return _fail(str(error))
    except PaymuxError as error:
        return _fail(error.message)
    except NoCredentialsError:
        return _fail(
            "no AWS credentials found: set AWS_PROFILE, run `aws sso login` or `aws configure`, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    except (BotoCoreError, ClientError) as error:
        return _fail(f"the AWS call failed: {error}")


def _check_target(args: argparse.Namespace) -> None:
    """Raises CommandError for `--stack`/`--region` where they would be ignored."""
    if args.command == "local" and args.stack is not None:
        raise CommandError("`paymux local` runs a platform on this machine; --stack does not apply")
    if args.region is not None and args.stack is None:
        raise CommandError("--region goes with --stack NAME; without it, commands act on the local platform")


def _ledger(args: argparse.Namespace) -> DynamoLedger:
    from paymux.ledger.dynamodb import DynamoLedger

    deployment = resolve_deployment(args.stack, args.region)
    return DynamoLedger(deployment.table_name, deployment.client("dynamodb"))


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
