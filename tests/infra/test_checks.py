"""cfn-lint reports no error on the template; cdk-nag's AwsSolutions pack reports no finding that is
not acknowledged, and every acknowledgement says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from .conftest import Synthesized, read_validation_report, violations


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    matches = lint(json.dumps(synthesized.template), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))

    errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    found = violations(synthesized.report)

    assert synthesized.validation_error is None, found
    assert found == []
    assert [p["pluginName"] for p in synthesized.report["pluginReports"]] == ["AwsSolutions"]


def test_every_acknowledgement_carries_a_real_reason(synthesized: Synthesized) -> None:
    reasons = [
        (path, rule, reason)
        for path, acknowledged in synthesized.acknowledgements.items()
        for rule, reason in acknowledged.items()
    ]

    assert reasons
    for path, rule, reason in reasons:
        assert rule.startswith("AwsSolutions::AwsSolutions-"), (path, rule)
        assert len(reason.split()) >= 12, f"{path} {rule}: say why, not just that"


def test_the_nag_harness_reports_findings_it_is_not_told_about(tmp_path: Path) -> None:
    # given a queue with neither TLS enforcement nor a dead-letter queue, and no acknowledgement
    app = App(outdir=str(tmp_path))
    sqs.Queue(Stack(app, "Careless"), "Queue")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    # when
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    # then
    rules = {finding.split(":")[0] for finding in violations(read_validation_report(tmp_path))}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules
