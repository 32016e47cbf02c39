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

Every command but `local` acts on a `Deployment` (`cli/deployment.py`): the running local platform,
or with `--stack NAME [--region R]` a deployed stack. Each module here adds its commands to the parser.
"""

from __future__ import annotations

import argparse

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from paymux.cli.channels import add_channel_commands
from paymux.cli.deployment import CommandError
from paymux.cli.events import add_event_commands
from paymux.cli.local import add_local_command
from paymux.cli.merchants import add_merchant_commands
from paymux.cli.output import fail
from paymux.domain.errors import PaymuxError


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
    add_local_command(commands)
    add_merchant_commands(commands, parents=targets)
    add_channel_commands(commands, parents=targets)
    add_event_commands(commands, parents=targets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_target(args)
        return int(args.run(args))
    except CommandError as error:
        return fail(str(error))
    except PaymuxError as error:
        return fail(error.message)
    except NoCredentialsError:
        return fail(
            "no AWS credentials found: set AWS_PROFILE, run `aws sso login` or `aws configure`, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    except (BotoCoreError, ClientError) as error:
        return fail(f"the AWS call failed: {error}")


def _check_target(args: argparse.Namespace) -> None:
    """Raises CommandError for `--stack`/`--region` where they would be ignored."""
    if args.command == "local" and args.stack is not None:
        raise CommandError("`paymux local` runs a platform on this machine; --stack does not apply")
    if args.region is not None and args.stack is None:
        raise CommandError("--region goes with --stack NAME; without it, commands act on the local platform")
