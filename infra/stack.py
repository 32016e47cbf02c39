"""The paymux stack: the ledger, one function per topology entry, the API, the event wiring and the
alarms, composed from small constructs, with each function granted only what it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from aws_cdk import CfnElement, CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.api import PaymuxApi
from infra.events import EventWiring
from infra.functions import FunctionFactory, settings_environment
from infra.ledger_table import LedgerTable
from infra.nag import acknowledge, arn_as_nag_shows
from infra.observability import Observability
from infra.packaging import Packager
from infra.stage import StageConfig
from paymux.domain.models import Channel
from paymux.events.settings import BusEnv
from paymux.settings import PlatformSettings
from paymux.stack_outputs import OutputKey
from paymux.topology import TOPOLOGY, FunctionSpec, Topology

# The CDK context key that names the stacks whose assets are bundled (`[]`: none).
BUNDLING_STACKS = "aws:cdk:bundling-stacks"
REPO_ROOT = Path(__file__).resolve().parents[1]


def channel_secrets(scope: Construct, stage: StageConfig, channel: Channel) -> secretsmanager.ISecret:
    """Every secret named `{prefix}/{channel}/...` (see `paymux.channels.credentials.secret_name`)."""
    return secretsmanager.Secret.from_secret_name_v2(
        scope, f"{channel.value}-secrets", f"{stage.secrets_prefix}/{channel.value}/*"
    )


class PaymuxStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        topology: Topology = TOPOLOGY,
        root: Path = REPO_ROOT,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=f"paymux payment platform ({stage.name})", **kwargs)
        if not stage.bundle:
            self.node.set_context(BUNDLING_STACKS, [])

        ledger = LedgerTable(self, "Ledger", stage=stage)
        wiring = EventWiring(self, "Events", stage=stage)
        environment = settings_environment(
            PlatformSettings,
            {
                "table_name": ledger.table.table_name,
                "secrets_prefix": stage.secrets_prefix,
                "log_level": "INFO",
                # Loopback inside Lambda is the runtime API, never a merchant's server.
                "webhook_test_loopback": "false",
            },
        )
        publisher_environment = settings_environment(BusEnv, {"event_bus_name": wiring.bus.event_bus_name})
        factory = FunctionFactory(
            self, "Functions", stage=stage, packager=Packager(root), environment=environment
        )
        self.functions = {
            spec.name: factory.build(spec, publisher_environment if spec.publishes_events else None)
            for spec in topology.functions
        }
        for spec in topology.functions:
            self._grant(spec, self.functions[spec.name], ledger, stage)
        wiring.connect(topology, self.functions, ledger.table)

        api = PaymuxApi(self, "Api", stage=stage, topology=topology, functions=self.functions)
        Observability(
            self,
            "Observability",
            stage=stage,
            api=api.rest_api,
            functions=self.functions,
            work_queues=wiring.work_queues,
            dead_letter_queues=wiring.dead_letter_queues,
            table=ledger.table,
        )

        outputs = {
            OutputKey.API_URL: api.rest_api.url,
            OutputKey.TABLE_NAME: ledger.table.table_name,
            OutputKey.EVENT_BUS_NAME: wiring.bus.event_bus_name,
            OutputKey.SECRETS_PREFIX: stage.secrets_prefix,
            OutputKey.STAGE: stage.name,
        }
        for key, value in outputs.items():
            CfnOutput(self, key, value=value)

    def _grant(
        self, spec: FunctionSpec, function: lambda_.Function, ledger: LedgerTable, stage: StageConfig
    ) -> None:
        """The ledger for every function; a channel's own secrets for a channel function, none otherwise."""
        ledger.table.grant_read_write_data(function)
        table_id = self.get_logical_id(cast(CfnElement, ledger.table.node.default_child))
        acknowledge(
            function.role or function,
            f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
            "The ledger's own global secondary indexes (paymux.ledger.schema.GLOBAL_SECONDARY_INDEXES: "
            "a merchant's lists, background work); no other table is reachable.",
        )
        if spec.reads_test_credentials:
            self._grant_test_credentials(function, stage)
        if spec.channel is None:
            return
        channel_secrets(self, stage, spec.channel).grant_read(function)
        pattern = f"secret:{stage.secrets_prefix}/{spec.channel.value}/*-??????"
        acknowledge(
            function.role or function,
            f"AwsSolutions-IAM5[Resource::{arn_as_nag_shows(self, 'secretsmanager', pattern)}]",
            f"Merchants' {spec.channel.value} credentials are one secret per merchant and mode, created at "
            "run time by `paymux` (paymux.channels.credentials); the name prefix limits this function to "
            "its own channel's secrets in this stage.",
        )

    def _grant_test_credentials(self, function: lambda_.Function, stage: StageConfig) -> None:
        """Read access to every channel's test-mode credentials (`{prefix}/{channel}/{merchant}/test`)
        and to no live ones: the sandbox features of test mode sign with them."""
        secrets = secretsmanager.Secret.from_secret_name_v2(
            self, f"{function.node.id}-test-secrets", f"{stage.secrets_prefix}/*/*/test"
        )
        secrets.grant_read(function)
        pattern = f"secret:{stage.secrets_prefix}/*/*/test-??????"
        acknowledge(
            function.role or function,
            f"AwsSolutions-IAM5[Resource::{arn_as_nag_shows(self, 'secretsmanager', pattern)}]",
            "Test mode's sandbox features (completing a test payment, the shopper pages) need each "
            "merchant's test credentials of the payment's channel; the name pattern admits test-mode "
            "secrets only, never live ones.",
        )
