"""The deployed shape cannot drift from the one description the local platform also uses: routes,
functions, rules and schedules from TOPOLOGY, the table from the ledger schema, the environment from
the settings, the outputs from paymux.stack_outputs."""

from __future__ import annotations

import json
import re

from paymux.events.settings import BusEnv
from paymux.ledger.schema import create_table_request
from paymux.settings import PlatformSettings, env_names
from paymux.stack_outputs import OutputKey, StackOutputs
from paymux.topology import TOPOLOGY

from .conftest import Synthesized, api_routes, as_list, function_names, get_att_id, role_statements


def test_every_topology_route_and_no_other_is_served_by_its_function(synthesized: Synthesized) -> None:
    expected = {(route.method, route.path, spec.name) for route, spec in TOPOLOGY.routes()}

    assert api_routes(synthesized) == expected


def test_one_function_per_topology_entry_with_its_handler_and_limits(synthesized: Synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    by_name = {name: functions[lid]["Properties"] for lid, name in function_names(synthesized).items()}

    assert sorted(by_name) == sorted(spec.name for spec in TOPOLOGY.functions)
    for spec in TOPOLOGY.functions:
        props = by_name[spec.name]
        assert props["FunctionName"] == f"paymux-{synthesized.stage.name}-{spec.name}"
        assert props["Handler"] == spec.handler
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_seconds
        assert props.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
        assert synthesized.resources[_lid(functions, spec.name)]["Metadata"]["aws:asset:path"].endswith(
            f"functions/{spec.source}"
        )


def test_every_rule_delivers_its_pattern_to_its_function_through_a_queue(synthesized: Synthesized) -> None:
    names = function_names(synthesized)
    consumers = {
        get_att_id(mapping["Properties"]["EventSourceArn"]): names[
            mapping["Properties"]["FunctionName"]["Ref"]
        ]
        for mapping in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    delivered = []
    for rule in synthesized.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        if "EventPattern" not in props:
            continue
        (target,) = props["Targets"]
        delivered.append(
            (json.dumps(props["EventPattern"], sort_keys=True), consumers[get_att_id(target["Arn"])])
        )

    expected = [(json.dumps(rule.pattern(), sort_keys=True), spec.name) for rule, spec in TOPOLOGY.rules()]
    assert sorted(delivered) == sorted(expected)


def test_every_schedule_invokes_its_function_with_its_event(synthesized: Synthesized) -> None:
    names = function_names(synthesized)
    scheduled = sorted(
        (
            int(re.fullmatch(r"rate\((\d+) minutes?\)", rule["Properties"]["ScheduleExpression"]).group(1)),
            names[str(get_att_id(rule["Properties"]["Targets"][0]["Arn"]))],
            json.loads(rule["Properties"]["Targets"][0]["Input"])["detail"]["schedule"],
        )
        for rule in synthesized.of_type("AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"]
    )

    expected = sorted(
        (s.every_minutes, spec.name, s.event()["detail"]["schedule"]) for s, spec in TOPOLOGY.schedules()
    )
    assert scheduled == expected


def test_table_has_the_schema_the_local_platform_creates(synthesized: Synthesized) -> None:
    (table,) = synthesized.of_type("AWS::DynamoDB::GlobalTable").values()
    props = table["Properties"]
    local = create_table_request("ledger")

    assert props["KeySchema"] == local["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(local["AttributeDefinitions"], key=str)
    assert props["GlobalSecondaryIndexes"] == local["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == local["BillingMode"]
    assert props["StreamSpecification"] == {"StreamViewType": local["StreamSpecification"]["StreamViewType"]}


def test_functions_get_every_required_setting_and_only_known_ones(synthesized: Synthesized) -> None:
    required = {f"PAYMUX_{n.upper()}" for n, f in PlatformSettings.model_fields.items() if f.is_required()}
    known = set(env_names()) | {f"PAYMUX_{n.upper()}" for n in BusEnv.model_fields}

    for function in synthesized.of_type("AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        paymux_names = {name for name in variables if name.startswith("PAYMUX_")}
        assert required <= paymux_names
        assert paymux_names <= known
        assert variables["PAYMUX_SECRETS_PREFIX"] == synthesized.stage.secrets_prefix


def test_only_event_publishers_are_told_the_bus_and_may_put_events(synthesized: Synthesized) -> None:
    publishers = {spec.name for spec in TOPOLOGY.functions if spec.publishes_events}
    names = function_names(synthesized)

    for function_id, name in names.items():
        variables = synthesized.properties(function_id)["Environment"]["Variables"]
        actions = {a for s in role_statements(synthesized, function_id) for a in as_list(s["Action"])}
        assert ("PAYMUX_EVENT_BUS_NAME" in variables) == (name in publishers)
        assert ("events:PutEvents" in actions) == (name in publishers)


def test_every_stream_consumer_reads_the_ledger_stream_with_its_filter(synthesized: Synthesized) -> None:
    names = function_names(synthesized)
    consumers = {
        names[m["Properties"]["FunctionName"]["Ref"]]: m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StreamArn" in json.dumps(m["Properties"]["EventSourceArn"])
    }

    expected = {spec.name: spec.stream for spec in TOPOLOGY.functions if spec.stream is not None}
    assert set(consumers) == set(expected)
    for name, stream in expected.items():
        props = consumers[name]
        assert props["StartingPosition"] == "TRIM_HORIZON"
        assert props["BatchSize"] == stream.batch_size
        assert props["MaximumRetryAttempts"] == stream.max_retry_attempts
        assert [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]] == [
            stream.filter_pattern
        ]
        assert "OnFailure" in props["DestinationConfig"]


def test_outputs_are_what_the_cli_reads(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    keys = {v for k, v in vars(OutputKey).items() if k.isupper()}

    assert set(outputs) == keys
    assert outputs[OutputKey.STAGE]["Value"] == synthesized.stage.name
    assert outputs[OutputKey.SECRETS_PREFIX]["Value"] == synthesized.stage.secrets_prefix
    StackOutputs.from_outputs(dict.fromkeys(outputs, "x"))  # raises if one it needs is missing


def _lid(functions: dict[str, dict[str, object]], name: str) -> str:
    return next(
        lid
        for lid, r in functions.items()
        if r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == name  # type: ignore[index]
    )
