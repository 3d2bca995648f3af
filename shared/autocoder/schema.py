"""Typed records, validated before they are written, and the dataset card generated from them.

A dataset has a ``default`` config (one row per iteration: :class:`Record`) and optional extra
configs (one row per item, e.g. ``findings``: :class:`FindingRow`). The card's ``dataset_info``
features are derived from the models, so ``load_dataset`` never has to guess a schema: the free-form
``analysis`` and ``cumulative_insights`` mappings are ``Json`` features and come back as dicts.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
Severity = Literal["critical", "high", "medium", "low", "info"]
Status = Literal["ok", "error", "skipped"]
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with microseconds and an explicit offset.

    Always the same shape, so pyarrow's JSON reader keeps it a string and it round-trips exactly
    through ``load_dataset`` (``...Z`` without fractions comes back as ``YYYY-MM-DD HH:MM:SS``).
    """
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info; lower is worse."""
    return SEVERITIES.index(severity)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Finding(_Model):
    """One piece of evidence: where, which rule, how bad, and a fingerprint stable across runs."""

    tool: str
    rule: str
    severity: Severity
    file: str = Field(description="repo-relative path with forward slashes")
    line: int = Field(ge=0)
    message: str
    fingerprint: str

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or "\\" in value or value.startswith("../"):
            raise ValueError(f"file {value!r} must be repo-relative with forward slashes")
        return value


class TargetRef(_Model):
    repo: str
    commit: str | None


class Record(_Model):
    """One iteration of one worker: the row of the dataset's default config.

    ``analysis`` has the same keys in every record of a worker, whatever its ``status``: a
    skipped or failed iteration has the empty values and its ``reason`` (``error`` too), an ok
    one the results and ``reason`` "" (see ``WorkerSpec.analysis_of``).
    """

    iteration: int = Field(ge=1)
    timestamp: str
    worker: str
    perspective_id: str
    perspective_name: str
    target: TargetRef
    status: Status
    error: str | None
    duration_s: float = Field(ge=0)
    analysis: dict[str, Any]
    cumulative_insights: dict[str, Any]

    def row_meta(self) -> dict[str, Any]:
        """What every row of an extra config (findings, specs, patches) repeats of its record."""
        return {
            "iteration": self.iteration, "timestamp": self.timestamp, "worker": self.worker,
            "perspective_name": self.perspective_name, "repo": self.target.repo,
            "commit": self.target.commit,
        }  # fmt: skip

    @field_validator("timestamp")
    @classmethod
    def _utc_iso(cls, value: str) -> str:
        try:
            parse_timestamp(value)
        except ValueError:
            raise ValueError(
                f"timestamp {value!r} must look like 2026-01-31T12:00:00.000000+00:00 "
                "(use autocoder.schema.utc_timestamp)"
            ) from None
        return value


class RowOrigin(_Model):
    """Which iteration of which worker wrote a row, and when: the first keys of a row's metadata."""

    iteration: int = Field(ge=1)
    timestamp: str
    worker: str


class RowMeta(RowOrigin):
    """The metadata every item row carries (a finding, a spec): the iteration that wrote it and the
    target it looked at. Row types inherit it, so the fields and their checks are declared once.

    pydantic orders a model's fields by the reversed MRO (the deepest base first, the class's own
    fields last), and the key order of the JSON in the shards and of the card's features must not
    change. So the metadata is split in two: :class:`RowOrigin` first, then these fields. A row
    type that puts a key between the two (``FindingRow``'s ``perspective_id``) mixes in a
    :class:`RowOrigin` subclass holding it after ``RowMeta`` in its bases; a row type whose own
    fields come first (``SpecRow``) names that base after ``RowMeta``. tests/test_schema_rows.py
    pins both orders.
    """

    perspective_name: str
    repo: str
    commit: str | None


class _PerspectiveId(RowOrigin):
    """The key findings rows carry between ``worker`` and ``perspective_name``."""

    perspective_id: str


class FindingRow(RowMeta, _PerspectiveId):
    """One finding of one iteration: the row of the ``findings`` config."""

    tool: str
    rule: str
    severity: Severity
    file: str
    line: int
    message: str
    fingerprint: str


SpecKind = Literal["unit", "integration", "property", "end-to-end", "performance", "security"]
# blocked: the environment cannot import the subject's module (a driver, a native library, settings)
SpecStatus = Literal["not_run", "passed", "failed", "error", "blocked"]


class TestSpec(_Model):
    """A test specification derived from the target's code, with a pytest test for its subject."""

    __test__ = False  # not a pytest test class

    id: str = Field(description="stable fingerprint")
    perspective: str
    subject: str = Field(description="module:qualname of what is under test")
    file: str = Field(description="repo-relative file of the evidence")
    line: int = Field(ge=0)
    kind: SpecKind
    rationale: str
    inputs: str = Field(description="inputs or scenario")
    expected: str
    mocks: str = Field(description="what to fake and with which tool; empty when nothing")
    priority: int = Field(ge=1, le=5, description="1 = write first")
    test_code: str
    status: SpecStatus = "not_run"
    status_detail: str = Field(
        default="", description="why a run did not pass: the exception, or the skip reason"
    )

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        return Finding._relative(value)


class SpecRow(RowMeta, TestSpec):
    """One spec of one iteration: the row of the ``specs`` config (the spec's fields, then the
    :class:`RowMeta` ones)."""


PatchStatus = Literal["verified", "checked", "failed", "unverified"]


class PatchFields(_Model):
    """A change the implementation worker made and checked, with what it answers."""

    id: str = Field(description="patch-<16 hex>: the item, base commit and diff")
    item_id: str
    fingerprints: list[str] = Field(description="the findings it answers")
    spec_ids: list[str] = Field(description="the test specifications it answers")
    base_commit: str | None = Field(description="the target commit the diff applies to")
    fixer: str = Field(description="what made the change: 'ruff', 'libcst:requests-timeout'")
    files: list[str] = Field(description="repo-relative files it changes or adds")
    diff: str = Field(description="unified diff against base_commit (a/ and b/ prefixes)")
    status: PatchStatus = Field(
        description="verified: every check that was allowed ran and passed, the tests included; "
        "checked: the static checks passed and the tests were not allowed to run; failed; "
        "unverified: a check could not run"
    )
    failed_step: str = Field(default="", description="the first step that failed, if any")
    evidence: dict[str, Any] = Field(description="each verification step and its output")
    published_kind: str = Field(default="", description="'github', 'hub', or '' (not published)")
    published_branch: str = Field(default="", description="'autocoder/<item-id>', 'refs/pr/N'")
    published_url: str = Field(default="", description="the pull request")
    published_commit: str = Field(default="", description="the commit the pull request shows")
    publish_detail: str = Field(default="", description="why it was not published, when asked")


class PatchRow(RowMeta, PatchFields):
    """One patch of one iteration: the row of the ``patches`` config (the patch's fields, then
    the :class:`RowMeta` ones)."""


TaskType = Literal["feature", "bug_fix", "optimization", "content"]
TaskStatus = Literal["pending", "running", "completed", "failed"]
TaskSource = Literal["api", "tasks.json"]


class TaskRow(_Model):
    """One state of one task handed to the implementation worker: the row of the ``tasks``
    config. A task is written again whenever its state changes; its newest row (the greatest
    ``updated_at``) is its state. Rows written outside an iteration (a submission through the
    API, a reset after a restart) have ``iteration`` 0."""

    id: str = Field(description="task-<16 hex>")
    type: TaskType
    priority: int = Field(ge=1, le=5, description="1 = do first")
    description: str = Field(description="a feature's description; for the others, a summary")
    file: str = Field(default="", description="a bug fix's repo-relative file")
    issue: str = Field(default="", description="a bug fix's issue")
    target: str = Field(default="", description="an optimization's target (file or function)")
    goal: str = Field(default="", description="an optimization's goal")
    content_type: str = Field(default="", description="a content task's kind: 'docstring'...")
    context: str = Field(default="", description="a content task's context")
    source: TaskSource
    status: TaskStatus
    created_at: str
    updated_at: str
    branch_name: str = Field(default="", description="the branch its change was published on")
    published_url: str = Field(default="", description="the pull request, when published")
    error_detail: str = Field(default="", description="why it failed, and the fix")
    record_iterations: list[int] = Field(default_factory=list, description="its stage records")
    patch_ids: list[str] = Field(default_factory=list, description="the patches it produced")
    iteration: int = Field(ge=0, description="the iteration that wrote this row; 0: none")
    worker: str
    repo: str
    commit: str | None


@dataclass(frozen=True)
class DatasetConfig:
    """A config of a dataset: its name, the folder its shards live in, and its row model."""

    name: str
    folder: str
    model: type[BaseModel]

    @property
    def glob(self) -> str:
        return f"{self.folder}/*/*.jsonl"


RECORDS = DatasetConfig("default", "data/records", Record)
FINDINGS = DatasetConfig("findings", "data/findings", FindingRow)
SPECS = DatasetConfig("specs", "data/specs", SpecRow)
PATCHES = DatasetConfig("patches", "data/patches", PatchRow)
TASKS = DatasetConfig("tasks", "data/tasks", TaskRow)


def _feature(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _feature(args[0])
        return {"dtype": "json"}
    if origin is Literal:
        return {"dtype": "string"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"struct": _features(annotation)}
    simple = {int: "int64", float: "float64", str: "string", bool: "bool"}
    if annotation in simple:
        return {"dtype": simple[annotation]}
    return {"dtype": "json"}


def _features(model: type[BaseModel]) -> list[dict[str, Any]]:
    hints = typing.get_type_hints(model)
    return [{"name": name, **_feature(hints[name])} for name in model.model_fields]


def dataset_card(
    title: str,
    description: str,
    configs: tuple[DatasetConfig, ...],
    sizes: dict[str, int] | None = None,
) -> str:
    """The README.md of a dataset repo: YAML ``configs`` and ``dataset_info`` derived from models.

    No ``splits``/``num_examples``: the data grows, and a fixed count would make ``load_dataset``
    raise ``NonMatchingSplitsSizesError``. ``dataset_size`` (bytes of each config's shards) is
    there because ``datasets`` keys its cache of a local folder on the card alone: without a
    value that changes with the data, ``load_dataset(folder)`` keeps returning the first rows it
    ever read, and mixes up folders that share a name.
    """
    sizes = sizes or {}
    header = {
        "configs": [
            {
                "config_name": c.name,
                "data_files": [{"split": "train", "path": c.glob}],
                **({"default": True} if c.name == "default" else {}),
            }
            for c in configs
        ],
        "dataset_info": [
            {
                "config_name": c.name,
                "features": _features(c.model),
                "dataset_size": sizes.get(c.name, 0),
            }
            for c in configs
        ],
        "tags": ["autocoder"],
    }
    yaml_text = yaml.safe_dump(header, sort_keys=False)
    return f"---\n{yaml_text}---\n\n# {title}\n\n{description}\n"
