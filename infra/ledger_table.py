"""The ledger: paymux's one DynamoDB table, built from `paymux.ledger.schema` so that the deployed
table, DynamoDB Local and the test fixtures share one key layout."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.stage import StageConfig
from paymux.ledger import schema


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class LedgerTable(Construct):
    """On demand, point-in-time recovery in every stage, TTL, a stream for the outbox publisher;
    deletion protection and retention where the stage protects data."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=_key(schema.PARTITION_KEY),
            sort_key=_key(schema.SORT_KEY),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=_key(partition_key),
                    sort_key=_key(sort_key),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for name, partition_key, sort_key in schema.GLOBAL_SECONDARY_INDEXES
            ],
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            dynamo_stream=dynamodb.StreamViewType(schema.STREAM_VIEW_TYPE),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=stage.protect_data,
            removal_policy=stage.removal_policy,
        )
