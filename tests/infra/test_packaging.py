"""The Docker-free build: what pip is asked for, what lands where, and when an asset's hash moves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from infra.packaging import (
    LAMBDA_PLATFORM,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_RUNTIME,
    Packager,
    layer_requirements,
    source_hash,
)

from paymux.topology import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "layers" / "paymux").mkdir(parents=True)
    (tmp_path / "layers" / "paymux" / "__init__.py").write_text("")
    (tmp_path / "layers" / "paymux" / "__pycache__").mkdir()
    (tmp_path / "layers" / "paymux" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / "functions" / "channel_demo").mkdir(parents=True)
    (tmp_path / "functions" / "channel_demo" / "app.py").write_text("def lambda_handler(e, c): ...\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["pydantic==2.14.3", "boto3==1.44.5", "botocore>=1"]\n'
    )
    return tmp_path


class RecordingPip:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))


SPEC = FunctionSpec(
    name="channel-demo", source="channel_demo", description="d", requirements=("stripe==12.0.0",)
)


def test_layer_leaves_boto3_to_the_runtime() -> None:
    requirements = layer_requirements(ROOT / "pyproject.toml")

    assert requirements
    assert not any(r.lower().startswith(("boto3", "botocore")) for r in requirements)
    assert any(r.startswith("aws-lambda-powertools") for r in requirements)


def test_layer_build_asks_pip_for_arm64_wheels_of_the_runtime_and_copies_the_package(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    pip = RecordingPip()
    out = tmp_path / "out"

    Packager(repo, run=pip).build_layer(out)

    (command,) = pip.commands
    assert command[command.index("--platform") + 1] == LAMBDA_PLATFORM == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == LAMBDA_PYTHON_VERSION
    assert LAMBDA_RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}"
    assert "--only-binary=:all:" in command
    assert command[command.index("--target") + 1] == str(out / "python")
    assert command[-1] == "pydantic==2.14.3"
    assert (out / "python" / "paymux" / "__init__.py").exists()
    assert not (out / "python" / "paymux" / "__pycache__").exists()


def test_function_build_copies_its_folder_and_installs_its_own_requirements(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    pip = RecordingPip()
    out = tmp_path / "out"

    Packager(repo, run=pip).build_function(SPEC, out)

    assert (out / "app.py").exists()
    (command,) = pip.commands
    assert command[-1] == "stripe==12.0.0"
    assert command[command.index("--target") + 1] == str(out)


def test_function_without_a_handler_fails_the_build(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / "functions" / "channel_demo" / "app.py").unlink()

    with pytest.raises(FileNotFoundError, match=r"app\.py is missing"):
        Packager(repo, run=RecordingPip()).build_function(SPEC, tmp_path / "out")


def test_asset_hash_moves_with_sources_and_requirements_but_not_bytecode(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    packager = Packager(repo, run=RecordingPip())
    layer, function = packager.layer_hash(), packager.function_hash(SPEC)

    (repo / "layers" / "paymux" / "__pycache__" / "y.pyc").write_bytes(b"\1")
    assert packager.layer_hash() == layer

    (repo / "layers" / "paymux" / "__init__.py").write_text("VERSION = 2\n")
    assert packager.layer_hash() != layer

    (repo / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pydantic==2.15.0"]\n')
    assert source_hash([repo / "layers" / "paymux"]) != packager.layer_hash()

    assert packager.function_hash(SPEC) == function
    other = FunctionSpec(
        name=SPEC.name, source=SPEC.source, description="d", requirements=("stripe==13.0.0",)
    )
    assert packager.function_hash(other) != function


def test_cdk_bundles_through_the_local_bundler_without_docker(tmp_path: Path) -> None:
    # given a stack whose function asset is bundled (as `cdk synth` does), pip recorded instead of run
    repo = _repo(tmp_path / "repo")
    pip = RecordingPip()
    packager = Packager(repo, run=pip)
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Bundled")
    lambda_.Function(
        stack,
        "Demo",
        runtime=LAMBDA_RUNTIME,
        handler=SPEC.handler,
        code=packager.function_code(SPEC),
        layers=[lambda_.LayerVersion(stack, "Layer", code=packager.layer_code())],
    )

    # when
    app.synth()

    # then the layer and the function were built into cdk.out by pip, not by Docker
    assert len(pip.commands) == 2
    staged = [path for path in (tmp_path / "cdk.out").glob("asset.*") if path.is_dir()]
    assert sorted(path.name for d in staged for path in d.iterdir()) == ["app.py", "python"]
    assert any((d / "python" / "paymux" / "__init__.py").exists() for d in staged)
