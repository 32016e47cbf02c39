"""What a careful reviewer checks in the template: data protection, least privilege, the API's
guard rails, the event plumbing and the alarms, and how dev and prod differ."""

from __future__ import annotations

import json

from paymux.domain.models import Channel
from paymux.ledger import schema
from paymux.topology import TOPOLOGY

from .conftest import Synthesized, as_list, function_names, role_statements


def _table(synth: Synthesized) -> dict:
    (table,) = synth.of_type("AWS::DynamoDB::GlobalTable").values()
    return table


def test_point_in_time_recovery_is_on_for_every_replica_in_every_stage(synthesized: Synthesized) -> None:
    # cdk-nag's DDB3 does not evaluate TableV2 (AWS::DynamoDB::GlobalTable): this is that check.
    replicas = _table(synthesized)["Properties"]["Replicas"]

    assert replicas
    for replica in replicas:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_table_is_on_demand_with_ttl_and_stream(synthesized: Synthesized) -> None:
    props = _table(synthesized)["Properties"]

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_prod_protects_and_retains_the_ledger_and_dev_does_not(dev: Synthesized, prod: Synthesized) -> None:
    assert _table(prod)["DeletionPolicy"] == "Retain"
    assert all(r["DeletionProtectionEnabled"] for r in _table(prod)["Properties"]["Replicas"])
    assert _table(dev)["DeletionPolicy"] == "Delete"
    assert not any(r["DeletionProtectionEnabled"] for r in _table(dev)["Properties"]["Replicas"])


def test_stages_differ_in_retention_and_alarm_thresholds(dev: Synthesized, prod: Synthesized) -> None:
    def retention(synth: Synthesized) -> set[int]:
        return {g["Properties"]["RetentionInDays"] for g in synth.of_type("AWS::Logs::LogGroup").values()}

    def api_5xx_threshold(synth: Synthesized) -> float:
        return next(
            a["Properties"]["Threshold"]
            for lid, a in synth.of_type("AWS::CloudWatch::Alarm").items()
            if "Api5xxRate" in lid
        )

    assert retention(dev) == {14}
    assert retention(prod) == {90}
    assert api_5xx_threshold(prod) < api_5xx_threshold(dev)
    assert all(g["DeletionPolicy"] == "Retain" for g in prod.of_type("AWS::Logs::LogGroup").values())


def test_functions_run_arm64_python_with_json_logs_tracing_and_the_shared_layer(
    synthesized: Synthesized,
) -> None:
    (layer_id,) = synthesized.of_type("AWS::Lambda::LayerVersion")
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.14"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


def test_function_roles_have_no_managed_policies(synthesized: Synthesized) -> None:
    for role in synthesized.of_type("AWS::IAM::Role").values():
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        if principal.get("Service") == "lambda.amazonaws.com":
            assert "ManagedPolicyArns" not in role["Properties"]


def _secret_resources(synth: Synthesized, function_id: str) -> list[str]:
    resources = []
    for statement in role_statements(synth, function_id):
        if any(str(action).startswith("secretsmanager:") for action in as_list(statement["Action"])):
            resources.extend(json.dumps(resource) for resource in as_list(statement["Resource"]))
    return resources


def test_each_channel_reads_only_its_own_channel_secrets(synthesized: Synthesized) -> None:
    prefix = synthesized.stage.secrets_prefix
    channels = {spec.name: spec.channel for spec in TOPOLOGY.functions if spec.channel is not None}
    test_readers = {spec.name for spec in TOPOLOGY.functions if spec.reads_test_credentials}

    for function_id, name in function_names(synthesized).items():
        resources = _secret_resources(synthesized, function_id)
        channel = channels.get(name)
        if channel is None and name in test_readers:
            assert resources
            assert all(f":secret:{prefix}/*/*/test-??????" in resource for resource in resources), name
            continue
        if channel is None:
            assert resources == [], f"{name} must read no channel secrets"
            continue
        assert resources
        for resource in resources:
            assert f":secret:{prefix}/{channel.value}/*-??????" in resource
            others = [c for c in Channel if c is not channel]
            assert not any(f"/{other.value}/" in resource for other in others)


def test_every_function_reads_and_writes_the_ledger_and_nothing_else_of_dynamodb(
    synthesized: Synthesized,
) -> None:
    (table_id,) = synthesized.of_type("AWS::DynamoDB::GlobalTable")
    for function_id in function_names(synthesized):
        dynamo = [
            s
            for s in role_statements(synthesized, function_id)
            if any(str(a).startswith("dynamodb:") for a in as_list(s["Action"]))
        ]
        actions = {a for s in dynamo for a in as_list(s["Action"])}
        assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"} <= actions
        assert "dynamodb:DeleteTable" not in actions
        for statement in dynamo:
            assert all(table_id in json.dumps(r) for r in as_list(statement["Resource"]))


def test_api_stage_traces_throttles_and_writes_json_access_logs(synthesized: Synthesized) -> None:
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]

    assert props["StageName"] == synthesized.stage.name
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == synthesized.stage.api_rate_limit
    assert settings["ThrottlingBurstLimit"] == synthesized.stage.api_burst_limit
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    access_log = json.loads(props["AccessLogSetting"]["Format"])
    assert access_log["requestId"] == "$context.requestId"
    assert not any("authorization" in value.lower() for value in access_log.values())


def test_methods_validate_their_path_parameters(synthesized: Synthesized) -> None:
    for method in synthesized.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        assert "RequestValidatorId" in props
        # Every `{name}` in the path is a required request parameter.
        for name, required in props["RequestParameters"].items():
            assert name.startswith("method.request.path.")
            assert required is True


def test_gateway_errors_have_the_contract_shape(synthesized: Synthesized) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
    }

    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    template = responses["DEFAULT_5XX"]["ResponseTemplates"]["application/json"]
    rendered = json.loads(template.replace("$context.error.messageString", '"boom"'))
    assert set(rendered["error"]) == {"type", "code", "message", "param", "request_id"}
    assert rendered["error"]["message"] == "boom"


def test_web_acl_protects_prod_only(dev: Synthesized, prod: Synthesized) -> None:
    assert len(prod.of_type("AWS::WAFv2::WebACLAssociation")) == 1
    assert dev.of_type("AWS::WAFv2::WebACLAssociation") == {}


def test_bus_has_an_archive_and_work_queues_have_encrypted_dead_letters(synthesized: Synthesized) -> None:
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    assert archive["Properties"]["RetentionDays"] == synthesized.stage.archive_days

    queues = synthesized.of_type("AWS::SQS::Queue")
    with_redrive = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(with_redrive) == len(TOPOLOGY.rules())
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for queue in with_redrive:
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * 29


def test_alarms_cover_5xx_errors_throttles_dead_letters_and_backlog(synthesized: Synthesized) -> None:
    alarm_ids = list(synthesized.of_type("AWS::CloudWatch::Alarm"))
    (topic_id,) = synthesized.of_type("AWS::SNS::Topic")

    assert any("Api5xxRate" in lid for lid in alarm_ids)
    for spec in TOPOLOGY.functions:
        compact = spec.name.replace("-", "")
        assert any(compact in lid and "ErrorRate" in lid for lid in alarm_ids)
        assert any(compact in lid and "Throttles" in lid for lid in alarm_ids)
    for rule, _ in TOPOLOGY.rules():
        compact = rule.name.replace("-", "")
        assert any(compact in lid and "DeadLetters" in lid for lid in alarm_ids)
        assert any(compact in lid and "Backlog" in lid for lid in alarm_ids)
    for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    assert len(synthesized.of_type("AWS::CloudWatch::Dashboard")) == 1
