"""The inventory with fan-in counted in one pass, and whether a module's dotted name is importable.

Shared by Coverage Strategy, CI/CD Integration, Performance Impact and Test Pyramid.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cached_property

from autocoder.engine.perspective import RunContext
from autocoder.workers.test_planning.inventory import Inventory, build_inventory, module_name


class FastInventory(Inventory):
    """The inventory with every module's fan-in counted in one pass over the imports (the base
    class rescans every file on each call, which is quadratic on a large target)."""

    @cached_property
    def _fan_in(self) -> dict[str, int]:
        importers: dict[str, set[str]] = {}
        for file, imported in self.imports.items():
            own = module_name(file)
            for name in imported:
                parts = name.split(".")
                for n in range(1, len(parts) + 1):
                    if (prefix := ".".join(parts[:n])) != own:
                        importers.setdefault(prefix, set()).add(file)
        return {module: len(files) for module, files in importers.items()}

    def fan_in(self, module: str) -> int:
        return self._fan_in.get(module, 0)


def fast_inventory(ctx: RunContext) -> FastInventory:
    inventory = build_inventory(ctx)
    return FastInventory(**{f.name: getattr(inventory, f.name) for f in fields(inventory)})


def importable(module: str) -> bool:
    """A test can import it: every part of the dotted path is an identifier (no ``django-src``)."""
    return all(part.isidentifier() for part in module.split("."))
