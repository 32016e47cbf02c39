"""cdk-nag (AwsSolutions pack) acknowledgements. Each one sits next to the resource it concerns and
carries the reason a reviewer can check."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Token, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept the finding `rule` (e.g. `AwsSolutions-IAM5[Resource::*]`) on `scope` and below."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{rule}", reason=reason))


def arn_as_nag_shows(stack: Stack, service: str, resource: str) -> str:
    """An ARN the way cdk-nag prints it in a finding: unresolved parts as `<AWS::...>`."""
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
