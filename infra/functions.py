"""One factory for every paymux function: the same runtime, architecture, logging, tracing, layer and
environment for all, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from pydantic_settings import BaseSettings

from infra.nag import acknowledge
from infra.packaging import LAMBDA_RUNTIME, Packager
from infra.stage import StageConfig
from paymux.topology import FunctionSpec

POWERTOOLS_NAMESPACE = "paymux"


def settings_environment(settings: type[BaseSettings], values: Mapping[str, str]) -> dict[str, str]:
    """`PAYMUX_*` variables for the fields of a paymux settings class (see `paymux.settings`).

    Raises ValueError for a value no field reads, or a required field left without a value.
    """
    fields = settings.model_fields
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{settings.__name__} reads no {unknown}")
    missing = sorted(name for name, field in fields.items() if field.is_required() and name not in values)
    if missing:
        raise ValueError(f"the stack sets no value for {settings.__name__}'s required {missing}")
    return {f"PAYMUX_{name.upper()}": value for name, value in sorted(values.items())}


def function_name(stage: StageConfig, spec: FunctionSpec) -> str:
    return f"paymux-{stage.name}-{spec.name}"


class FunctionFactory(Construct):
    """Holds the shared layer; `build(spec)` makes one function from its topology entry."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        packager: Packager,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.packager = packager
        self.environment = dict(environment)
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            code=packager.layer_code(),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="paymux core and its runtime dependencies (boto3 comes with the runtime)",
            removal_policy=stage.removal_policy,
        )

    def build(self, spec: FunctionSpec, environment: Mapping[str, str] | None = None) -> lambda_.Function:
        """The function of `spec`, with `environment` beside the variables every function gets."""
        name = function_name(self.stage, spec)
        scope = Construct(self, spec.name)
        log_group = logs.LogGroup(
            scope,
            "Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=self.stage.log_retention,
            removal_policy=self.stage.removal_policy,
        )
        # Its own role with no managed policy: logs, traces and each grant are added one by one.
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"paymux {spec.name} ({self.stage.name})",
        )
        log_group.grant_write(role)
        reserved = spec.reserved_concurrency if self.stage.reserve_concurrency else None
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
            "permissions, so Lambda's own tracing policy names `*`.",
        )
        return lambda_.Function(
            scope,
            "Function",
            function_name=name,
            description=spec.description,
            runtime=LAMBDA_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=self.packager.function_code(spec),
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=reserved,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **self.environment,
                **(environment or {}),
                "POWERTOOLS_SERVICE_NAME": spec.name,
                "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_NAMESPACE,
                # Responses carry secrets once (a webhook endpoint's whsec_): never put them in traces.
                "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
                "POWERTOOLS_LOGGER_LOG_EVENT": "false",
            },
        )
