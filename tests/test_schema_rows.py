"""The rows of the findings and specs configs: one metadata base type, and the JSON written to
shards and the card's features exactly as before (same keys, same order)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from autocoder.schema import (
    FINDINGS,
    RECORDS,
    SPECS,
    FindingRow,
    Record,
    RowMeta,
    SpecRow,
    TargetRef,
    TestSpec,
    dataset_card,
    utc_timestamp,
)
from autocoder.store.layout import shard_path
from autocoder.store.local import LocalStore

# The key order of each row type as written before RowMeta existed: pinned, never re-derived.
FINDING_KEYS = [
    "iteration", "timestamp", "worker", "perspective_id", "perspective_name", "repo", "commit",
    "tool", "rule", "severity", "file", "line", "message", "fingerprint",
]  # fmt: skip
SPEC_KEYS = [
    "id", "perspective", "subject", "file", "line", "kind", "rationale", "inputs", "expected",
    "mocks", "priority", "test_code", "status", "status_detail",
    "iteration", "timestamp", "worker", "perspective_name", "repo", "commit",
]  # fmt: skip
META = {"iteration": 3, "timestamp": utc_timestamp(), "worker": "analysis",
        "perspective_name": "Security", "repo": "https://example.org/shop", "commit": "a" * 40}  # fmt: skip


def _finding_row() -> FindingRow:
    return FindingRow(**META, perspective_id="security", tool="bandit", rule="B101",
                      severity="low", file="shop/a.py", line=4, message="assert used",
                      fingerprint="f" * 16)  # fmt: skip


def _spec_row() -> SpecRow:
    spec = TestSpec(id="s1", perspective="Edge Cases", subject="shop.a:f", file="shop/a.py",
                    line=2, kind="unit", rationale="r", inputs="f(0)", expected="0", mocks="",
                    priority=1, test_code="def test_f():\n    assert True\n")  # fmt: skip
    return SpecRow(**META, **spec.model_dump())


def _record() -> Record:
    return Record(iteration=3, timestamp=META["timestamp"], worker="analysis",
                  perspective_id="security", perspective_name="Security",
                  target=TargetRef(repo=META["repo"], commit=META["commit"]), status="ok",
                  error=None, duration_s=0.1, analysis={}, cumulative_insights={})  # fmt: skip


def test_finding_and_spec_rows_dump_their_keys_in_the_pinned_order() -> None:
    assert list(_finding_row().model_dump(mode="json")) == FINDING_KEYS
    assert list(_spec_row().model_dump(mode="json")) == SPEC_KEYS
    assert list(json.loads(_finding_row().model_dump_json())) == FINDING_KEYS
    assert list(json.loads(_spec_row().model_dump_json())) == SPEC_KEYS


def test_rows_written_to_shards_keep_the_pinned_key_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "ds", "Rows", "rows", (RECORDS, FINDINGS, SPECS))
    store.append(_record(), {"findings": [_finding_row()], "specs": [_spec_row()]}, {})
    for config, keys in ((FINDINGS, FINDING_KEYS), (SPECS, SPEC_KEYS)):
        line = (tmp_path / "ds" / shard_path(config, 3)).read_text(encoding="utf-8")
        assert list(json.loads(line)) == keys


def test_the_dataset_card_lists_row_features_in_the_pinned_order() -> None:
    card = dataset_card("Rows", "rows", (RECORDS, FINDINGS, SPECS))
    info = {c["config_name"]: c for c in yaml.safe_load(card.split("---")[1])["dataset_info"]}
    for config, keys in ((FINDINGS, FINDING_KEYS), (SPECS, SPEC_KEYS)):
        assert [feature["name"] for feature in info[config.name]["features"]] == keys


def test_both_row_types_take_their_metadata_from_one_base_type() -> None:
    shared = ["iteration", "timestamp", "worker", "perspective_name", "repo", "commit"]
    assert list(RowMeta.model_fields) == shared
    for row_type in (FindingRow, SpecRow):
        assert issubclass(row_type, RowMeta)
        assert {n: repr(row_type.model_fields[n]) for n in shared} == {
            n: repr(field) for n, field in RowMeta.model_fields.items()
        }
    assert issubclass(SpecRow, TestSpec)  # a spec row is still a spec
    assert "perspective_id" not in SpecRow.model_fields


@pytest.mark.parametrize("make", [_finding_row, _spec_row])
def test_row_metadata_is_validated_once_for_both_row_types(make: object) -> None:
    row = make()  # type: ignore[operator]
    with pytest.raises(ValidationError, match="iteration"):
        type(row).model_validate({**row.model_dump(), "iteration": 0})
    with pytest.raises(ValidationError, match="extra"):
        type(row).model_validate({**row.model_dump(), "unknown": 1})
