"""Benchmark the redaction step on one test planning iteration's payload of ``--specs`` specs.

Runs the test planning worker (15 perspectives, no network) on a copy of the 'shop' fixture with
a module of planted secrets (tests/secretkit.py), takes the spec rows it stored, and makes
``--specs`` of them (ids and test names varied, a planted secret line added to one spec in a
hundred). Then times ``scrub_parts`` over record + rows + state, which is what
``LocalStore.append`` does once per iteration.

Run: ``.venv/bin/python bench/bench_redaction.py --specs 10000``
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from autocoder.redaction import scrub_parts  # noqa: E402

from secretkit import Planted  # noqa: E402


def sample_specs(work: Path) -> list[dict[str, Any]]:
    target = work / "shop"
    shutil.copytree(HERE.parent / "tests" / "fixtures" / "shop", target)
    (target / "shop" / "credentials.py").write_text(Planted.build().module(), encoding="utf-8")
    autocoder = str(Path(sys.executable).with_name("autocoder"))
    subprocess.run(
        [autocoder, "once", "test-planning", "--target", str(target), "--data-dir",
         str(work / "data"), "--iterations", "15"],
        check=True, capture_output=True, env={"AUTOCODER_NETWORK": "0", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    folder = work / "data" / "autocoder-test-planning-results" / "data" / "specs"
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.open()]


def payload(specs: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    secrets = [line for line in Planted.build().module().splitlines() if '"' in line]
    rows = []
    for n in range(count):
        row = dict(rng.choice(specs))
        row["id"] = f"{rng.getrandbits(64):016x}"
        row["test_code"] = row["test_code"].replace("def test_", f"def test_{n}_")
        if n % 100 == 0:
            row["test_code"] += "\n" + rng.choice(secrets) + "\n"
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = payload(sample_specs(Path(tmp)), args.specs)
    lines = sum(r["test_code"].count("\n") for r in rows)
    size = sum(len(json.dumps(r)) for r in rows)
    started = time.perf_counter()
    _, counts = scrub_parts({"default": {"analysis": {}}, "specs": rows, "state": {}})
    seconds = time.perf_counter() - started
    print(f"{len(rows)} specs, {lines} lines of test code, {size / 1e6:.1f} MB: "
          f"scrubbed in {seconds:.2f} s ({counts['specs']} values replaced)")  # fmt: skip


if __name__ == "__main__":
    main()
