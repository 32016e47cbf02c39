"""The REST API: every route of the topology, each integrated with the function that serves it.

Merchant keys are checked by the functions themselves (a hash lookup in the ledger, see
docs/deploy.md "Why no Lambda authorizer"); provider webhooks are open and verified in their channel's
function. API Gateway adds what it does best: throttling, path validation, access logs, tracing and
errors in the contract's shape for requests that never reach a function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.nag import acknowledge
from infra.stage import StageConfig
from paymux.topology import Topology

# `{name}` and the greedy `{name+}` (whose parameter API Gateway calls `name`).
_PATH_PARAMETER = re.compile(r"{([A-Za-z0-9_]+)\+?}")

# Fields of one JSON access log line; no header, body or key is ever logged.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "responseLatency": "$context.responseLatency",
    "errorMessage": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}

# Responses API Gateway gives itself (no function ran), in the contract's error shape:
# response type -> (HTTP status or None to keep API Gateway's, error type, error code).
GATEWAY_ERRORS: dict[str, tuple[str | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "invalid_request_error", "resource_missing"),
    "THROTTLED": ("429", "rate_limit_error", "rate_limited"),
    "BAD_REQUEST_PARAMETERS": ("400", "invalid_request_error", "parameter_missing"),
    "BAD_REQUEST_BODY": ("400", "invalid_request_error", "parameter_invalid"),
    "WAF_FILTERED": ("403", "invalid_request_error", "request_blocked"),
    "DEFAULT_4XX": (None, "invalid_request_error", "invalid_request"),
    "DEFAULT_5XX": (None, "api_error", "internal_error"),
}


def path_parameters(path: str) -> list[str]:
    return _PATH_PARAMETER.findall(path)


def error_template(error_type: str, code: str) -> str:
    """The contract's error body; API Gateway puts its own message in, already a quoted JSON string."""
    body = {
        "error": {
            "type": error_type,
            "code": code,
            "message": "MESSAGE",
            "param": None,
            "request_id": "$context.requestId",
        }
    }
    return json.dumps(body).replace('"MESSAGE"', "$context.error.messageString")


class PaymuxApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        topology: Topology,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"paymux-{stage.name}",
            description="paymux merchant API and provider webhooks",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs need the account's API Gateway logging role; kept when the stack goes.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=stage.name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=stage.api_rate_limit,
                throttling_burst_limit=stage.api_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # The stack publishes the URL as `ApiUrl` (paymux.stack_outputs); drop the default duplicate.
        self.rest_api.node.try_remove_child("Endpoint")
        self._add_routes(topology, functions)
        self._add_gateway_errors()
        if stage.waf:
            self._add_web_acl()
        else:
            acknowledge(
                self.rest_api.deployment_stage,
                "AwsSolutions-APIG3",
                f"The {stage.name} stage relies on stage throttling alone; production gets the web ACL "
                "(about $7 a month at rest per stage).",
            )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG4",
            "Merchant routes authenticate `Authorization: Bearer sk_...` in the function by a hash lookup "
            "in the ledger (docs/deploy.md, 'Why no Lambda authorizer'); provider webhooks cannot send "
            "credentials and are verified by the provider's signature in their channel function; "
            "/openapi.json is public documentation; the test-mode sandbox shopper pages (/sandbox/...) are "
            "reached by shoppers' browsers and authorized by the provider-signed credential they carry.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Callers are merchants' back-end services holding paymux secret keys, not Cognito users; "
            "see the APIG4 acknowledgement for how each route is authenticated.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Path parameters are validated by API Gateway; bodies are validated in the functions by the "
            "same pydantic models that generate docs/openapi.json, so the contract has one source and "
            "errors keep the contract's shape.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-wide role API Gateway uses to write execution logs; AWS's managed policy is the "
            "documented one and is limited to CloudWatch Logs.",
        )

    def _add_routes(self, topology: Topology, functions: Mapping[str, lambda_.IFunction]) -> None:
        # Bodies are validated in the functions, by the same models that generate docs/openapi.json;
        # API Gateway checks that every path parameter is there.
        validator = self.rest_api.add_request_validator(
            "PathValidator", validate_request_parameters=True, validate_request_body=False
        )
        integrations = {
            name: apigw.LambdaIntegration(function, allow_test_invoke=False)
            for name, function in functions.items()
        }
        for route, spec in topology.routes():
            self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                integrations[spec.name],
                request_validator=validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in path_parameters(route.path)
                },
            )

    def _add_gateway_errors(self) -> None:
        for response_type, (status, error_type, code) in GATEWAY_ERRORS.items():
            self.rest_api.add_gateway_response(
                response_type.title().replace("_", ""),
                type=apigw.ResponseType.of(response_type),
                status_code=status,
                templates={"application/json": error_template(error_type, code)},
            )

    def _add_web_acl(self) -> None:
        """AWS managed rules that match no legitimate merchant or provider request."""
        rules = [
            ("IpReputation", "AWSManagedRulesAmazonIpReputationList"),
            ("KnownBadInputs", "AWSManagedRulesKnownBadInputsRuleSet"),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("paymux-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=name,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=_visibility(name),
                )
                for priority, (name, group) in enumerate(rules)
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
