"""Requirements declared in tool tables of pyproject.toml: Poetry, PDM and uv.

deptry used to read these itself; the perspective now hands deptry every declaration it found
(sub-projects and requirements files included), so it reads them here, as PEP 508 strings.
Poetry's ``^1.2`` and ``~1.2`` cap the version; a bare ``1.2.3`` is an exact pin.
"""

from __future__ import annotations

from typing import Any

Specs = list[tuple[str, bool]]  # (requirement as a PEP 508-like string, is a development one)


def tool_specs(data: dict[str, Any]) -> Specs:
    """Poetry dependencies and groups, PDM and uv development dependencies of a pyproject."""
    tool = data.get("tool", {})
    poetry = tool.get("poetry", {})
    specs = _poetry_table(poetry.get("dependencies", {}), dev=False)
    specs += _poetry_table(poetry.get("dev-dependencies", {}), dev=True)
    for group, table in poetry.get("group", {}).items():  # only "main" is installed by default
        specs += _poetry_table(table.get("dependencies", {}), dev=group != "main")
    pdm = tool.get("pdm", {}).get("dev-dependencies", {})
    specs += [(s, True) for items in pdm.values() for s in items if isinstance(s, str)]
    uv = tool.get("uv", {}).get("dev-dependencies", [])
    return specs + [(s, True) for s in uv if isinstance(s, str)]


def _poetry_table(table: dict[str, Any], dev: bool) -> Specs:
    return [(f"{name}{_poetry_version(v)}", dev) for name, v in table.items() if name != "python"]


def _poetry_version(value: Any) -> str:
    """A Poetry constraint as the version part of a requirement string."""
    if isinstance(value, list):  # multiple constraints per marker: the first one
        value = value[0] if value else "*"
    if isinstance(value, dict):
        if {"git", "path", "url"} & value.keys():
            return " @ source"  # pinned by its source
        value = value.get("version", "*")
    text = str(value).strip()
    if text in ("", "*"):
        return ""
    return f"=={text}" if text[0].isdigit() else text
