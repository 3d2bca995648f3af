"""Fakes for a function's boundaries in generated tests.

:func:`fake_block` replaces every patchable root a function goes through with a fake,
:func:`integration_points` lists the boundaries of callable subjects, and :data:`IN_TMP` keeps
what a test writes by accident in its own folder. Shared by Integration Points, Mocking Strategy,
Failure Mode Analysis and Edge Case Discovery.
"""

from __future__ import annotations

from autocoder.engine.perspective import RunContext
from autocoder.workers.test_planning.codegen import literal
from autocoder.workers.test_planning.inventory import Inventory
from autocoder.workers.test_planning.perspectives._boundaries import boundaries
from autocoder.workers.test_planning.perspectives._calls import callable_subject
from autocoder.workers.test_planning.perspectives._facts import BOUNDARY_KINDS, Boundary

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


def fake_block(found: list[Boundary], target: Boundary | None, effect: str) -> list[str]:
    """Lines that replace every patchable root of ``found`` in ``subject_module`` with a fake;
    ``target``'s call raises ``effect`` (an exception class or instance, as source)."""
    roots = dict.fromkeys(b.root for b in found if b.patchable and b.kind in BOUNDARY_KINDS)
    if target is not None:
        roots[target.root] = None
    lines = ["fakes = {"]
    for root in roots:
        fake = (
            'mock.mock_open(read_data="{}")'
            if root == "open"
            else f"mock.MagicMock(name={literal(root)})"
        )
        lines.append(f"    {literal(root)}: {fake},")
    lines += [
        "}",
        "for name, fake in fakes.items():",
        "    monkeypatch.setattr(subject_module, name, fake, raising=False)",
    ]
    for b in found:
        where = f"fakes[{literal(b.root)}]" + (f".{b.path}" if b.path else "")
        if b == target:
            lines.append(f"{where}.side_effect = {effect}")
        elif b.call in RETURNS and b.root in roots:
            lines.append(f"{where}.return_value = {RETURNS[b.call]}")
    return lines


def integration_points(ctx: RunContext, inventory: Inventory) -> dict[str, list[Boundary]]:
    """Subject id -> its boundaries with the outside (parsers excluded), callable subjects only."""
    out: dict[str, list[Boundary]] = {}
    for subject_id, found in boundaries(ctx, inventory).items():
        kept = [b for b in found if b.kind in BOUNDARY_KINDS]
        if kept and callable_subject(inventory.by_id[subject_id], inventory):
            out[subject_id] = kept
    return out
