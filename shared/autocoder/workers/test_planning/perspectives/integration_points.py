"""Integration Points: where the target's functions reach the outside world.

Network clients, databases, the filesystem, subprocesses, environment variables, clocks and
randomness, found by :mod:`._boundaries`. Every boundary call becomes an integration spec whose
test replaces the module-level names the function goes through with fakes and proves the call is
reached: the fake for the boundary under test raises ``BoundaryReached`` (a ``BaseException``, so
no ``except Exception`` in the target hides it), the others return plain values.

Also home of what every generated test needs to call a subject: sample arguments from type hints
(:func:`call_code`) and fakes for a function's boundaries (:func:`fake_block`).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from autocoder.engine.perspective import PerspectiveResult, RunContext
from autocoder.engine.toolkit import require_python
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Param, Subject
from autocoder.workers.test_planning.perspectives._boundaries import (
    BOUNDARY_KINDS,
    Boundary,
    boundaries,
    indexed_inventory,
    named,
)
from autocoder.workers.test_planning.results import finish
from autocoder.workers.test_planning.specs import import_line, make_spec, render, test_name

SAMPLES = {
    "int": "1",
    "float": "1.0",
    "str": '"sample"',
    "bool": "True",
    "bytes": 'b"sample"',
    "list": "[]",
    "List": "[]",
    "Sequence": "[]",
    "Iterable": "[]",
    "dict": "{}",
    "Dict": "{}",
    "Mapping": "{}",
    "set": "set()",
    "tuple": "()",
    "None": "None",
}
MOCK_IMPORT = "from unittest import mock"


def base_type(annotation: str | None) -> str | None:
    """``list[int]`` -> list, ``int | None`` -> int, ``Optional[str]`` -> str, ``a.B`` -> B."""
    if not annotation:
        return None
    text = annotation.strip().strip("'\"")
    if text.startswith(("Optional[", "typing.Optional[")):
        text = text.split("[", 1)[1].rsplit("]", 1)[0]
    first = next((t for t in (p.strip() for p in text.split("|")) if t != "None"), "None")
    return first.split("[")[0].split(".")[-1]


def sample_value(param: Param, inventory: Inventory, depth: int = 0) -> tuple[str, set[str]]:
    """A plain value of the parameter's type (source text) and the imports it needs."""
    name = base_type(param.annotation)
    if name in SAMPLES:
        return SAMPLES[name], set()
    cls = next((s for s in named(inventory, name or "") if s.kind == "class"), None)
    if cls is not None and depth == 0:
        args, imports = arguments(init_params(cls, inventory), inventory, {}, depth + 1)
        return f"{cls.qualname}({args})", {import_line(cls), *imports}
    return "mock.MagicMock()", {MOCK_IMPORT}


def init_params(cls: Subject, inventory: Inventory) -> tuple[Param, ...]:
    init = inventory.by_id.get(f"{cls.module}:{cls.qualname}.__init__")
    return init.params[1:] if init else ()


def arguments(
    params: tuple[Param, ...], inventory: Inventory, values: dict[str, str], depth: int = 0
) -> tuple[str, set[str]]:
    """Source text of the arguments: ``values`` where given, samples for required parameters."""
    out: list[str] = []
    imports: set[str] = set()
    by_keyword = False
    for p in params:
        if p.kind.startswith("var_") or (p.default is not None and p.name not in values):
            by_keyword = by_keyword or p.kind == "positional"
            continue
        value = values.get(p.name)
        if value is None:
            value, needed = sample_value(p, inventory, depth)
            imports |= needed
        by_keyword = by_keyword or p.kind == "keyword"
        out.append(f"{p.name}={value}" if by_keyword else value)
    return ", ".join(out), imports


def callable_params(subject: Subject) -> tuple[Param, ...]:
    static = "staticmethod" in subject.decorators
    return subject.params[1:] if subject.kind == "method" and not static else subject.params


def call_code(
    subject: Subject,
    inventory: Inventory,
    values: dict[str, str] | None = None,
    init_values: dict[str, str] | None = None,
) -> tuple[str, set[str]]:
    """The expression that calls ``subject`` (a method on a fresh instance), and its imports;
    ``values`` and ``init_values`` (source text) replace samples of its and its class's params."""
    args, imports = arguments(callable_params(subject), inventory, values or {})
    imports.add(import_line(subject))
    owner, _, method = subject.qualname.partition(".")
    if subject.kind != "method" or {"staticmethod", "classmethod"} & set(subject.decorators):
        expr = f"{subject.qualname}({args})"
    else:
        cls = inventory.by_id[f"{subject.module}:{owner}"]
        init, needed = arguments(init_params(cls, inventory), inventory, init_values or {})
        imports |= needed
        expr = f"{owner}({init if method != '__init__' else args})"
        expr += f".{method}({args})" if method != "__init__" else ""
    if subject.is_async:
        return f"asyncio.run({expr})", {*imports, "import asyncio"}
    return expr, imports


def callable_subject(subject: Subject) -> bool:
    """A function or method a test can call directly (not a class, property or dunder)."""
    name = subject.qualname.split(".")[-1]
    return (
        subject.kind != "class"
        and "property" not in subject.decorators
        and not any(d.endswith((".setter", ".deleter")) for d in subject.decorators)
        and (name == "__init__" or not (name.startswith("__") and name.endswith("__")))
    )


def ordered_imports(imports: set[str]) -> list[str]:
    """``import x`` lines, then ``from`` imports merged per module; other lines (an
    ``importorskip``) last, so they run after the imports they use."""
    names: dict[str, set[str]] = {}
    for line in imports:
        if line.startswith("from "):
            module, _, what = line[5:].partition(" import ")
            names.setdefault(module, set()).update(w.strip() for w in what.split(","))
    plain = sorted(i for i in imports if i.startswith("import "))
    merged = [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(names.items())]
    return [
        *plain,
        *merged,
        *sorted(i for i in imports if i and not i.startswith(("import ", "from "))),
    ]


# What a faked boundary returns when it is not the one under test, so the code runs on.
RETURNS = {
    "time.time": "1_700_000_000.0",
    "time.monotonic": "100.0",
    "time.perf_counter": "100.0",
    "os.getenv": '"sample"',
    "os.environ.get": '"sample"',
    "os.environ[]": '"sample"',
    "random.random": "0.5",
    "random.randint": "1",
    "random.choice": '"sample"',
    "subprocess.call": "0",
    "os.system": "0",
    "secrets.token_hex": '"00"',
}
# The first line of every generated test that runs the target's code: what it writes by accident
# (a path built from a fake, a relative file) lands in the test's own folder, not in the target.
IN_TMP = "monkeypatch.chdir(tmp_path)"
REACHED = (
    "class BoundaryReached(BaseException):\n"
    '    """Raised by the faked boundary: the function got as far as the outside world."""\n'
)


def fake_block(found: list[Boundary], target: Boundary | None, effect: str) -> list[str]:
    """Lines that replace every patchable root of ``found`` in ``subject_module`` with a fake;
    ``target``'s call raises ``effect`` (an exception class or instance, as source)."""
    roots = dict.fromkeys(b.root for b in found if b.patchable and b.kind in BOUNDARY_KINDS)
    if target is not None:
        roots[target.root] = None
    lines = ["fakes = {"]
    for root in roots:
        fake = (
            'mock.mock_open(read_data="{}")' if root == "open" else f'mock.MagicMock(name="{root}")'
        )
        lines.append(f'    "{root}": {fake},')
    lines += [
        "}",
        "for name, fake in fakes.items():",
        "    monkeypatch.setattr(subject_module, name, fake, raising=False)",
    ]
    for b in found:
        where = f'fakes["{b.root}"]' + (f".{b.path}" if b.path else "")
        if b == target:
            lines.append(f"{where}.side_effect = {effect}")
        elif b.call in RETURNS and b.root in roots:
            lines.append(f"{where}.return_value = {RETURNS[b.call]}")
    return lines


def module_import(subject: Subject) -> str:
    return f"import {subject.module} as subject_module"


def _reached_test(
    subject: Subject, inventory: Inventory, found: list[Boundary], b: Boundary
) -> str:
    call, imports = call_code(subject, inventory)
    body = "\n".join(f"    {line}" for line in fake_block(found, b, "BoundaryReached"))
    fake = f'fakes["{b.root}"]' + (f".{b.path}" if b.path else "")
    what = f"reaches_{b.kind}_{b.call}"
    checks = f"    assert {fake}.call_count == 1\n"
    if b.arg is not None:
        checks += f"    assert {b.arg!r} in str({fake}.call_args)\n"
    code = (
        f"{REACHED}\n\ndef {test_name(subject, what)}(monkeypatch, tmp_path):\n"
        f"    {IN_TMP}\n{body}\n    with pytest.raises(BoundaryReached):\n        {call}\n{checks}"
    )
    heads = ordered_imports({*imports, MOCK_IMPORT, "import pytest", module_import(subject)})
    return render(heads, code)


def _spec(subject: Subject, inventory: Inventory, found: list[Boundary], b: Boundary) -> TestSpec:
    arg = f" ({b.arg!r})" if b.arg is not None else ""
    return make_spec(
        perspective=IntegrationPoints.name,
        perspective_id=IntegrationPoints.id,
        subject=subject,
        kind="integration",
        key=f"{b.kind}:{b.call}:{b.arg}",
        rationale=f"{subject.id} reaches the {b.kind} through {b.call}{arg} at "
        f"{subject.file}:{b.line}; a test must control this boundary.",
        inputs=f"sample arguments; every boundary of {subject.qualname} faked",
        expected=f"the call reaches {b.call}{arg} exactly once",
        mocks=f"patch {subject.module}.{b.root} with a fake ({b.call} raises BoundaryReached)",
        test_code=_reached_test(subject, inventory, found, b),
        inventory=inventory,
        line=b.line,
    )


def integration_points(ctx: RunContext, inventory: Inventory) -> dict[str, list[Boundary]]:
    """Subject id -> its boundaries with the outside (parsers excluded), callable subjects only."""
    out: dict[str, list[Boundary]] = {}
    for subject_id, found in boundaries(ctx, inventory).items():
        kept = [b for b in found if b.kind in BOUNDARY_KINDS]
        if kept and callable_subject(inventory.by_id[subject_id]):
            out[subject_id] = kept
    return out


class IntegrationPoints:
    id: ClassVar[str] = "integration_points"
    name: ClassVar[str] = "Integration Points"

    def run(self, ctx: RunContext) -> PerspectiveResult:
        require_python(ctx)
        inventory = indexed_inventory(ctx)
        points = integration_points(ctx, inventory)
        specs: dict[str, tuple[TestSpec, str]] = {}
        unpatchable: list[str] = []
        for subject_id, found in sorted(points.items()):
            subject = inventory.by_id[subject_id]
            for b in found:
                if b.patchable:
                    spec = _spec(subject, inventory, found, b)
                    specs[spec.id] = (spec, b.kind)
                else:
                    unpatchable.append(f"{subject_id} {b.call} (line {b.line})")
        by_kind = Counter(kind for _, kind in specs.values())
        kinds = ", ".join(f"{n} {k}" for k, n in by_kind.most_common())
        summary = (
            f"{len(specs)} integration points in {len(points)} functions ({kinds}); each test "
            "fakes the function's boundaries and proves the call reaches the one it names"
            if specs
            else "No calls to the network, databases, files, subprocesses, environment, clocks "
            f"or randomness in {len(inventory.subjects)} subjects: nothing to fake"
        )
        late = (
            f"; {len(unpatchable)} go through local imports and get no test" if unpatchable else ""
        )
        metrics = {
            "integration_points": len(specs),
            "functions_with_boundaries": len(points),
            "by_boundary": dict(by_kind.most_common()),
            "unpatchable": unpatchable[:20],
        }
        listing = {
            sid: [f"{b.kind} {b.call} line {b.line}" for b in found]
            for sid, found in sorted(points.items())[:40]
        }
        return finish(
            ctx,
            [s for s, _ in specs.values()],
            summary + late + ".",
            metrics,
            {"boundaries": listing},
        )
