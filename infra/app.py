"""The CDK app: `npx cdk synth -c stage=dev|prod`. It makes the App and the stack, nothing else."""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stack import PaymuxStack
from infra.stage import stage_from_context


def main() -> None:
    app = App()
    stage = stage_from_context(app.node)
    # Environment-agnostic unless the CDK CLI found credentials: synth needs no AWS account.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    PaymuxStack(app, f"paymux-{stage.name}", stage=stage, env=env)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
