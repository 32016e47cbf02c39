"""Docker-free packaging: pip installs wheels built for Lambda's arm64 Python into the asset folders.

The shared layer holds the core's runtime dependencies (boto3 is left to the runtime) and the
`paymux` package; a function's asset holds its folder under `functions/` and its own requirements.
Each asset's hash is computed from its sources, so CDK rebuilds it only when they change, and a stack
synthesized with `aws:cdk:bundling-stacks=[]` builds nothing at all.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from paymux.topology import FunctionSpec

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_PYTHON_VERSION = "3.14"
LAMBDA_PLATFORM = "manylinux2014_aarch64"
# Provided by the Lambda runtime: never packaged.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".mypy_cache")
_ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "*.egg-info"]

Runner = Callable[[Sequence[str]], None]


def layer_requirements(pyproject: Path) -> list[str]:
    """The project's runtime dependencies less those the Lambda runtime provides."""
    dependencies: list[str] = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [req for req in dependencies if _distribution(req) not in RUNTIME_PROVIDED]


def pip_install_command(requirements: Iterable[str], target: Path) -> list[str]:
    """`pip install` of wheels for Lambda's platform into `target`; sdists are refused."""
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION, "--only-binary=:all:",
        "--target", str(target), *requirements,
    ]  # fmt: skip


def source_hash(paths: Iterable[Path], *extra: str) -> str:
    """SHA-256 over the files under `paths` (names and contents, bytecode ignored) and `extra`."""
    digest = hashlib.sha256()
    for value in (LAMBDA_PYTHON_VERSION, LAMBDA_PLATFORM, *extra):
        digest.update(value.encode() + b"\0")
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(file.as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


class Packager:
    """Builds the layer and function assets of the repository at `root`."""

    def __init__(self, root: Path, run: Runner | None = None) -> None:
        self.root = root
        self.run: Runner = run or _run

    @property
    def package_dir(self) -> Path:
        return self.root / "layers" / "paymux"

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    def function_dir(self, spec: FunctionSpec) -> Path:
        return self.root / "functions" / spec.source

    def layer_hash(self) -> str:
        return source_hash([self.package_dir], *layer_requirements(self.pyproject))

    def function_hash(self, spec: FunctionSpec) -> str:
        return source_hash([self.function_dir(spec)], *spec.requirements)

    def build_layer(self, out: Path) -> None:
        """Lay out `out/python/` as Lambda expects a Python layer; raises CalledProcessError."""
        site = out / "python"
        self.run(pip_install_command(layer_requirements(self.pyproject), site))
        shutil.copytree(self.package_dir, site / "paymux", ignore=_IGNORED, dirs_exist_ok=True)

    def build_function(self, spec: FunctionSpec, out: Path) -> None:
        """Copy the function's folder into `out` and install its own requirements beside it.

        Raises FileNotFoundError when the folder has no `app.py`; CalledProcessError when pip fails.
        """
        entry = self.function_dir(spec) / "app.py"
        if not entry.is_file():
            raise FileNotFoundError(f"{entry} is missing: {spec.name} has no handler to package")
        shutil.copytree(self.function_dir(spec), out, ignore=_IGNORED, dirs_exist_ok=True)
        if spec.requirements:
            self.run(pip_install_command(spec.requirements, out))

    def layer_code(self) -> lambda_.Code:
        return self._code(self.root / "layers", self.layer_hash(), self.build_layer)

    def function_code(self, spec: FunctionSpec) -> lambda_.Code:
        return self._code(
            self.function_dir(spec), self.function_hash(spec), lambda out: self.build_function(spec, out)
        )

    @staticmethod
    def _code(source: Path, asset_hash: str, build: Callable[[Path], None]) -> lambda_.Code:
        return lambda_.Code.from_asset(
            str(source),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=asset_hash,
            exclude=_ASSET_EXCLUDES,
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=LAMBDA_RUNTIME.bundling_image,
                local=LocalPipBundling(build),
            ),
        )


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """CDK's hook for bundling on the host instead of in Docker."""

    def __init__(self, build: Callable[[Path], None]) -> None:
        self._build = build

    # jsii matches the keyword-only `image` to expand CDK's BundlingOptions into keywords.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:  # noqa: ARG002
        self._build(Path(output_dir))
        return True


def _distribution(requirement: str) -> str:
    name = requirement
    for separator in ("[", "=", "<", ">", "!", "~", ";", " "):
        name = name.split(separator, 1)[0]
    return name.strip().lower().replace("_", "-")


def _run(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True)  # noqa: S603 (the command is built above, not from input)
