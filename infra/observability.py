"""Alarms on what hurts merchants (5xx, failing or throttled channels, stuck or dead-lettered work)
and one dashboard. Alarms notify an SNS topic; `-c alarmEmail=...` subscribes an address."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.events import WorkQueue
from infra.stage import StageConfig
from paymux.observability import LEDGER_CONFLICT_METRIC, METRICS_NAMESPACE, METRICS_SERVICE

_PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.Function],
        work_queues: Sequence[WorkQueue],
        dead_letter_queues: Mapping[str, sqs.Queue],
        table: dynamodb.TableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name=f"paymux {stage.name} alarms", enforce_ssl=True
        )
        if stage.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(stage.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        api_5xx = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": api.metric_server_error(period=_PERIOD, statistic="Sum"),
                "requests": api.metric_count(period=_PERIOD, statistic="Sum"),
            },
            label="5xx %",
            period=_PERIOD,
        )
        self._alarm("Api5xxRate", api_5xx, stage.api_5xx_percent, "API answered 5xx to too many requests")

        for name, function in functions.items():
            error_rate = cloudwatch.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": function.metric_errors(period=_PERIOD, statistic="Sum"),
                    "invocations": function.metric_invocations(period=_PERIOD, statistic="Sum"),
                },
                label=f"{name} error %",
                period=_PERIOD,
            )
            self._alarm(f"{name}-ErrorRate", error_rate, stage.function_error_percent, f"{name} is failing")
            self._alarm(
                f"{name}-Throttles",
                function.metric_throttles(period=_PERIOD, statistic="Sum"),
                1,
                f"{name} is throttled: raise its reserved concurrency or find the burst",
            )

        for name, dead_letters in dead_letter_queues.items():
            self._alarm(
                f"{name}-DeadLetters",
                dead_letters.metric_approximate_number_of_messages_visible(
                    period=_PERIOD, statistic="Maximum"
                ),
                1,
                f"{name} gave up on work: inspect the dead letters, fix the cause, then redrive",
            )
        self._alarm(
            "LedgerConflicts",
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=LEDGER_CONFLICT_METRIC,
                dimensions_map={"service": METRICS_SERVICE},
                period=_PERIOD,
                statistic="Sum",
            ),
            1,
            "A provider took money for a payment the ledger had closed or failed: refund it at the "
            "provider (the function's log names the payment)",
        )
        for work in work_queues:
            self._alarm(
                f"{work.name}-Backlog",
                work.queue.metric_approximate_age_of_oldest_message(period=_PERIOD, statistic="Maximum"),
                stage.backlog_age_minutes * 60,
                f"{work.name} work waits longer than {stage.backlog_age_minutes} minutes",
            )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"paymux-{stage.name}")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[api.metric_count(period=_PERIOD), api.metric_client_error(period=_PERIOD)],
                right=[api.metric_server_error(period=_PERIOD)],
            ),
            cloudwatch.GraphWidget(title="API latency p99", left=[api.metric_latency(statistic="p99")]),
            cloudwatch.GraphWidget(
                title="Ledger throttled requests",
                left=[table.metric_throttled_requests_for_operations(period=_PERIOD)],
            ),
        )
        every = list(functions.values())
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Invocations", left=[f.metric_invocations() for f in every]),
            cloudwatch.GraphWidget(title="Errors", left=[f.metric_errors() for f in every]),
            cloudwatch.GraphWidget(title="Throttles", left=[f.metric_throttles() for f in every]),
            cloudwatch.GraphWidget(
                title="Duration p99", left=[f.metric_duration(statistic="p99") for f in every]
            ),
        )
        if work_queues:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Dead letters",
                    left=[
                        q.metric_approximate_number_of_messages_visible() for q in dead_letter_queues.values()
                    ],
                ),
                cloudwatch.GraphWidget(
                    title="Oldest work (s)",
                    left=[w.queue.metric_approximate_age_of_oldest_message() for w in work_queues],
                ),
            )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_description=f"paymux {self.stage.name}: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
