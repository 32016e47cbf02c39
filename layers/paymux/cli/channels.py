"""`paymux channels set MERCHANT CHANNEL --mode test|live --config FILE`: store a merchant's
channel credentials, once they validate against the channel's credentials model."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from paymux.cli.deployment import CommandError, resolve_deployment
from paymux.cli.output import print_json
from paymux.domain.models import Mode


def set_channel_credentials(args: argparse.Namespace) -> int:
    """Raises CommandError when the file is unreadable, not JSON or not valid for the channel."""
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
    print_json(
        {"secret_name": name, "merchant_id": args.merchant, "channel": channel.value, "mode": args.mode}
    )
    return 0


def add_channel_commands(commands: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `channels set` to the `paymux` parser's subcommands, with the options of `parents`."""
    channels = commands.add_parser("channels", help="manage merchants' channel credentials").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    set_ = channels.add_parser(
        "set", parents=parents, help="store a merchant's credentials for a channel and mode"
    )
    set_.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    set_.add_argument("channel", metavar="CHANNEL", help="alipay, wechatpay, unionpay or stripe")
    set_.add_argument("--mode", required=True, choices=[mode.value for mode in Mode])
    set_.add_argument(
        "--config", required=True, metavar="FILE", help="the credentials as a JSON object ('-': stdin)"
    )
    set_.set_defaults(run=set_channel_credentials)


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
