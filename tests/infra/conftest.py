"""Synthesizes the stack once per stage for the whole session, with cdk-nag's AwsSolutions pack as a
validation plugin and without bundling (no pip, no Docker, no network, no AWS account)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks
from infra.stack import PaymuxStack
from infra.stage import STAGES, StageConfig

STAGE_NAMES = sorted(STAGES)


@dataclass
class Synthesized:
    stage: StageConfig
    stack: PaymuxStack
    template: dict[str, Any]
    report: dict[str, Any]
    validation_error: str | None
    acknowledgements: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})


def synthesize(stage: StageConfig, outdir: Path) -> Synthesized:
    # As the CDK CLI runs an app: path and asset metadata on, but no bundling.
    context = {
        "aws:cdk:bundling-stacks": [],
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }
    app = App(context=context, outdir=str(outdir))
    stack = PaymuxStack(app, f"paymux-{stage.name}", stage=stage)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    error: str | None = None
    try:
        app.synth()
    except Exception as failure:  # the validation plugin fails synth; the template is written already
        error = str(failure)
    acknowledgements: dict[str, dict[str, str]] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                acknowledgements.setdefault(construct.node.path, {}).update(entry.data)
    return Synthesized(
        stage=stage,
        stack=stack,
        template=json.loads((outdir / f"paymux-{stage.name}.template.json").read_text()),
        report=read_validation_report(outdir),
        validation_error=error,
        acknowledgements=acknowledgements,
    )


def read_validation_report(outdir: Path) -> dict[str, Any]:
    report_file = outdir / "validation-report.json"
    return json.loads(report_file.read_text()) if report_file.exists() else {}


def violations(report: dict[str, Any]) -> list[str]:
    return [
        f"{violation['ruleName']}: {[c['constructPath'] for c in violation['violatingConstructs']]}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin["violations"]
    ]


@pytest.fixture(scope="session")
def synthesized_stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    return {name: synthesize(STAGES[name], tmp_path_factory.mktemp(f"cdk-{name}")) for name in STAGE_NAMES}


@pytest.fixture(params=STAGE_NAMES)
def synthesized(request: pytest.FixtureRequest, synthesized_stages: dict[str, Synthesized]) -> Synthesized:
    return synthesized_stages[request.param]


@pytest.fixture
def dev(synthesized_stages: dict[str, Synthesized]) -> Synthesized:
    return synthesized_stages["dev"]


@pytest.fixture
def prod(synthesized_stages: dict[str, Synthesized]) -> Synthesized:
    return synthesized_stages["prod"]


# Reading the template back: which function a route, rule or schedule reaches.


def get_att_id(value: Any) -> str | None:
    """The logical id inside `{"Fn::GetAtt": [id, ...]}` anywhere in `value`."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        for inner in value.values():
            found = get_att_id(inner)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = get_att_id(inner)
            if found:
                return found
    return None


def function_names(synth: Synthesized) -> dict[str, str]:
    """Lambda logical id -> topology name (from POWERTOOLS_SERVICE_NAME)."""
    return {
        lid: r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for lid, r in synth.of_type("AWS::Lambda::Function").items()
    }


def resource_path(synth: Synthesized, resource_id: Any) -> str:
    if "Ref" not in resource_id:  # the RestApi's root resource
        return ""
    props = synth.properties(resource_id["Ref"])
    return f"{resource_path(synth, props['ParentId'])}/{props['PathPart']}"


def api_routes(synth: Synthesized) -> set[tuple[str, str, str]]:
    """(method, path, function) for every method API Gateway serves."""
    names = function_names(synth)
    routes = set()
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        target = get_att_id(props["Integration"]["Uri"])
        routes.add((props["HttpMethod"], resource_path(synth, props["ResourceId"]), names[str(target)]))
    return routes


def role_statements(synth: Synthesized, function_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the function's role."""
    role_id = get_att_id(synth.properties(function_logical_id)["Role"])
    statements: list[dict[str, Any]] = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
