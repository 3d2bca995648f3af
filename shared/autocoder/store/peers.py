"""A worker reading another worker's latest pass, typed and filtered by the target's commit.

A peer's rows are evidence about the code at one commit: rows made at another commit describe
other code, so :func:`latest_pass` hands them over only when the commits match, and otherwise
says why not, in words the caller can put in its record (``details``) as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from autocoder.schema import DatasetConfig, Record
from autocoder.store.dataset import Dataset
from autocoder.store.reader import latest_ok, rows_of_iteration

RowT = TypeVar("RowT", bound=BaseModel)


@dataclass(frozen=True)
class PeerPass:
    """The newest ``ok`` record of one perspective and its rows of one config, validated."""

    record: Record
    rows: tuple[BaseModel, ...]  # instances of the config's model, of this perspective only

    @property
    def iteration(self) -> int:
        return self.record.iteration

    def rows_as(self, model: type[RowT]) -> list[RowT]:
        """The rows typed as ``model`` (the config's model, e.g. ``FindingRow`` for FINDINGS)."""
        wrong = {type(row).__name__ for row in self.rows if not isinstance(row, model)}
        if wrong:
            raise TypeError(f"rows are {', '.join(sorted(wrong))}, not {model.__name__}")
        return [row for row in self.rows if isinstance(row, model)]


def latest_pass(
    dataset: Dataset | None,
    perspective: str,
    config: DatasetConfig,
    commit: str | None,
    *,
    where: str | None = None,
) -> PeerPass | str:
    """The newest ``ok`` pass of ``perspective`` at ``commit``, or why there is none to use.

    ``dataset`` None is a peer that is not there. ``where`` names the dataset in the reasons
    (default: its location): "no Security Audit record in NAME", "the Security Audit ran at
    COMMIT, target at COMMIT", or a record or row that does not validate.
    """
    named = where or (dataset.location if dataset is not None else "the peer dataset")
    row = latest_ok(dataset, perspective) if dataset is not None else None
    if dataset is None or row is None:
        return f"no {perspective} record in {named}"
    try:
        record = Record.model_validate(row)
    except ValidationError as e:
        return f"the {perspective} record in {named} is not valid: {_first(e)}"
    if record.target.commit != commit:
        return f"the {perspective} ran at {record.target.commit}, target at {commit}"
    found = [r for r in rows_of_iteration(dataset, config, record.iteration)
             if r.get("perspective_name") == perspective]  # fmt: skip
    try:
        rows = tuple(config.model.model_validate(r) for r in found)
    except ValidationError as e:
        return (
            f"the {config.name} rows of {named} iteration {record.iteration} are not valid: "
            f"{_first(e)}"
        )
    return PeerPass(record, rows)


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(map(str, first['loc'])) or 'row'}: {first['msg']}"
