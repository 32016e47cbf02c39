"""`paymux merchants create` and `paymux keys roll|revoke`: merchants and their secret keys."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from paymux.cli.deployment import CommandError, resolve_deployment
from paymux.cli.output import print_json
from paymux.domain.models import Mode

if TYPE_CHECKING:
    from paymux.ledger.dynamodb import DynamoLedger

_KEY_HASH = re.compile(r"[0-9a-f]{64}")


def create_merchant(args: argparse.Namespace) -> int:
    from paymux.services.merchants import MerchantService

    created = MerchantService(_ledger(args)).create(args.name)
    print_json(
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
    print_json(
        {"merchant_id": args.merchant, "mode": mode.value, "secret_key": key, "key_hash": hash_key(key)}
    )
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    """Delete a key's hash: its next request is refused. The key is named by its hash, or read from
    stdin (never from the command line, where shell history would keep it).

    Raises CommandError when stdin holds no key or the hash is malformed."""
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
    print_json(
        {
            "merchant_id": revoked.merchant_id,
            "mode": revoked.mode.value,
            "key_hash": key_hash,
            "revoked": True,
        }
    )
    return 0


def add_merchant_commands(commands: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `merchants create` and `keys roll|revoke` to the `paymux` parser's subcommands, with the
    options of `parents` (the CLI's `--stack`/`--region`)."""
    merchants = commands.add_parser("merchants", help="manage merchants").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = merchants.add_parser(
        "create", parents=parents, help="create a merchant; prints its id and secret keys as JSON"
    )
    create.add_argument("name", metavar="NAME")
    create.set_defaults(run=create_merchant)

    keys = commands.add_parser("keys", help="rotate merchants' secret keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    roll = keys.add_parser("roll", parents=parents, help="issue an extra key; prints it once, as JSON")
    roll.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    roll.add_argument("--mode", required=True, choices=[mode.value for mode in Mode])
    roll.set_defaults(run=roll_key)
    revoke = keys.add_parser("revoke", parents=parents, help="revoke a key: its next request fails")
    revoke.add_argument("merchant", metavar="MERCHANT", help="merchant id (mch_...)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--key-hash", metavar="HASH", help="the key's SHA-256 (hex), as `keys roll` printed it"
    )
    which.add_argument("--key-stdin", action="store_true", help="read the secret key itself from stdin")
    revoke.set_defaults(run=revoke_key)


def _ledger(args: argparse.Namespace) -> DynamoLedger:
    from paymux.ledger.dynamodb import DynamoLedger

    deployment = resolve_deployment(args.stack, args.region)
    return DynamoLedger(deployment.table_name, deployment.client("dynamodb"))
