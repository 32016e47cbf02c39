"""Cold start cost of each function's handler module, as a ratio to a bare handler.

Each sample is a fresh Python process that imports the function module (what Lambda's init phase
does) and builds nothing else; the baseline process imports boto3 and creates a DynamoDB client,
the least a handler on this table does. Prints medians and the ratio; asserts nothing.

    .venv/bin/python bench/cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers"), str(ROOT)]

from paymux.topology import TOPOLOGY  # noqa: E402

BASELINE = "import boto3; boto3.client('dynamodb')"
TIMER = """
import time, importlib
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""


def sample(body: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers'}{os.pathsep}{ROOT}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def median_of(body: str, runs: int) -> float:
    sample(body)  # warm the OS file cache and .pyc files first
    return statistics.median(sample(body) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    baseline = median_of(BASELINE, args.runs)
    print(f"{'module':<40} {'median ms':>10} {'ratio':>7}")
    print(f"{'baseline: boto3 + dynamodb client':<40} {baseline * 1000:>10.1f} {1.0:>7.2f}")
    for function in TOPOLOGY.functions:
        if not (ROOT / "functions" / function.source / "app.py").exists():
            continue
        seconds = median_of(f"importlib.import_module({function.module!r})", args.runs)
        print(f"{function.module:<40} {seconds * 1000:>10.1f} {seconds / baseline:>7.2f}")


if __name__ == "__main__":
    main()
