"""`npx cdk synth` with the pinned CDK CLI: offline, no AWS account, no Docker, no bundling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_cdk_cli_synthesizes_prod_without_an_account(tmp_path: Path) -> None:
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        pytest.fail("node_modules is missing: run `make infra` (it runs `npm ci`)")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_DEFAULT_"))  # no credentials, no account
    }
    environment.update(
        CDK_DISABLE_VERSION_CHECK="1",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(tmp_path),  # no ~/.aws profile either
    )
    out = tmp_path / "cdk.out"
    # The cdk.json default is dev: `-c stage=prod` checks that context reaches the app.
    command = [str(cli), "synth", "--quiet", "-c", "stage=prod", "-c", "paymux:bundle=false", "-o", str(out)]

    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240, check=False
    )

    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "paymux-prod" in manifest["artifacts"]
    template = json.loads((out / "paymux-prod.template.json").read_text())
    assert template["Outputs"]["Stage"]["Value"] == "prod"
    # Nothing was bundled: the assets point at the source folders.
    assets = json.loads((out / "paymux-prod.assets.json").read_text())["files"]
    assert assets


def test_cli_is_pinned_to_a_2x_release() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    version = package["devDependencies"]["aws-cdk"]

    assert version.startswith("2.")
    assert shutil.which("node") is not None
