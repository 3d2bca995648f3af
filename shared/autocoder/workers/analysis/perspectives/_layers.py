"""The layers a project declares for import-linter, and the imports that break them.

import-linter reads ``[tool.importlinter]`` in ``pyproject.toml`` or ``[importlinter:contract:*]``
sections in ``.importlinter`` or ``setup.cfg``; a ``layers`` contract lists layers from the
highest to the lowest, optionally inside ``containers``. A lower layer that imports a higher
one breaks the project's own rule, whatever the perspective thinks of the design.
"""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path
from typing import Any

from autocoder.engine.sources import SourceFiles

CONFIG_FILES = ("pyproject.toml", ".importlinter", "setup.cfg")


def layer_contracts(sources: SourceFiles) -> list[dict[str, Any]]:
    """The ``layers`` contracts at the root: name, layers (highest first), containers. Only
    files of the target are read (not a symlink that leads out of it)."""
    contracts: list[dict[str, Any]] = []
    present = set(sources.files)
    for name in (n for n in CONFIG_FILES if n in present):
        path = sources.path(name)
        raw = _toml_contracts(path) if name.endswith(".toml") else _ini_contracts(path)
        contracts += [_contract(c, name) for c in raw if c.get("type") == "layers"]
    return [c for c in contracts if c["layers"]]


def _toml_contracts(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(errors="replace"))
    except tomllib.TOMLDecodeError:
        return []
    contracts = data.get("tool", {}).get("importlinter", {}).get("contracts", [])
    return [c for c in contracts if isinstance(c, dict)]


def _ini_contracts(path: Path) -> list[dict[str, Any]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(errors="replace"))
    except configparser.Error:
        return []
    out = []
    for section in parser.sections():
        if section.startswith("importlinter:contract:"):
            values = dict(parser[section])
            out.append({k: _ini_list(v) if k in {"layers", "containers"} else v
                        for k, v in values.items()})  # fmt: skip
    return out


def _ini_list(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _contract(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Each layer as a list of sibling modules; ``a | b`` and ``a : b`` share a layer, and the
    parentheses of an optional layer go."""
    layers = []
    for entry in raw.get("layers") or []:
        siblings = str(entry).replace(":", "|").split("|")
        layers.append([s.strip().strip("()").strip() for s in siblings if s.strip()])
    containers = [str(c) for c in raw.get("containers") or []]
    return {"name": str(raw.get("name", "layers")), "source": source, "layers": layers,
            "containers": containers}  # fmt: skip


def layer_breaks(graph: Any, contracts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per contract, each import chain from a lower layer up to a higher one, as grimp finds
    them; layers missing from the graph are left out, as import-linter does for optional ones."""
    from grimp import Layer

    out: list[dict[str, Any]] = []
    modules = set(graph.modules)
    for contract in contracts:
        containers = [c for c in contract["containers"] if c in modules]
        prefixes = [c + "." for c in containers] or [""]
        layers = [
            Layer(*present)
            for layer in contract["layers"]
            if (present := [m for m in layer if any(p + m in modules for p in prefixes)])
        ]
        if len(layers) < 2:
            continue
        found = graph.find_illegal_dependencies_for_layers(
            layers=layers, containers=set(containers) or None
        )
        for dependency in sorted(found, key=lambda d: (d.importer, d.imported)):
            route = min(dependency.routes, key=lambda r: (len(r.middle), sorted(r.heads)))
            chain = [min(route.heads), *route.middle, min(route.tails)]
            out.append({"contract": contract["name"], "source": contract["source"],
                        "lower": dependency.importer, "higher": dependency.imported,
                        "chain": chain})  # fmt: skip
    return out
