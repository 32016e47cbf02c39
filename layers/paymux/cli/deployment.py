"""Where a command acts: the running local platform (found through its state file), or with
`--stack NAME [--region R]` a deployed stack, found through its CloudFormation outputs with the
engineer's own AWS credentials (boto3's default chain: `AWS_PROFILE`, SSO, environment...). Both
resolve to the same shape, so the commands themselves do not change."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
