"""The values at which behaviour changes, for Edge Case Discovery: from a literal comparison
(``qty > 100`` gives 100 and 101), from type hints and defaults (None, empty and unicode strings,
empty and huge collections, negative numbers), and the Hypothesis strategy of a typed parameter.
"""

from __future__ import annotations

from typing import Any

from autocoder.workers.test_planning.inventory import Param
from autocoder.workers.test_planning.perspectives._calls import base_type, optional
from autocoder.workers.test_planning.perspectives._facts import Comparison
from autocoder.workers.test_planning.perspectives._solve import literal

UNICODE = "ünïcødé ✓ 日本"
HUGE = 10_000
STRATEGIES = {"int": "st.integers(min_value=-(10**6), max_value=10**6)", "bool": "st.booleans()",
              "float": "st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)",
              "str": "st.text(alphabet=ALPHABET, max_size=30)",
              "bytes": "st.binary(max_size=30)"}  # fmt: skip
Value = tuple[str, Any]  # (source text, Python value)


def _steps(op: str, value: float, step: float) -> list[float]:
    """The literal and its neighbour on the other side of the comparison (both for ==, !=)."""
    above, below = [value, value + step], [value - step, value]
    return {">": above, "<=": above, "<": below, ">=": below}.get(op, [value - step, *above])


def comparison_values(c: Comparison, param: Param) -> list[Value]:
    """``qty > 100`` -> 100, 101; ``qty <= 0`` -> 0, 1, -1; ``len(s) > 12`` -> 12 and 13 chars."""
    value = literal(c.value)[1]
    if c.length:
        many = base_type(param.annotation) in ("list", "List", "Sequence", "tuple")
        return [
            (f"[0] * {n}", [0] * n) if many else (f'"x" * {n}', "x" * n)
            for n in (int(v) for v in _steps(c.op, value, 1))
            if n >= 0
        ]
    if isinstance(value, str):
        other = value.swapcase() if value.swapcase() != value else f"{value}x"
        return [(repr(v), v) for v in dict.fromkeys([value, other, ""])]
    steps = _steps(c.op, value, 1 if isinstance(value, int) else 0.5)
    steps += [-1] if value == 0 and -1 not in steps else []
    return [(repr(v), v) for v in steps]


def collection(annotation: str | None) -> tuple[Value, Value] | None:
    """The empty and the huge (10 000 items) value of a collection type hint."""
    base, inner = base_type(annotation) or "", (annotation or "").partition("[")[2]
    if base in ("dict", "Dict", "Mapping"):
        huge = {f"key-{i}": i for i in range(HUGE)}
        return ("{}", {}), (f'{{f"key-{{i}}": i for i in range({HUGE})}}', huge)
    if base not in ("list", "List", "Sequence", "Iterable", "tuple", "set"):
        return None
    strings = inner.startswith("str")
    items: list[Any] = [f"item-{i}" for i in range(HUGE)] if strings else list(range(HUGE))
    source = f'[f"item-{{i}}" for i in range({HUGE})]' if strings else f"list(range({HUGE}))"
    if base in ("tuple", "set"):
        kind = tuple if base == "tuple" else set
        return (f"{base}()", kind()), (f"{base}({source})", kind(items))
    return ("[]", []), (source, items)


def type_edges(param: Param, compared: bool) -> list[tuple[str, str, list[Value]]]:
    """(key, what, values) from the type hint and default: None, strings, collections, negatives."""
    base, out = base_type(param.annotation), list[tuple[str, str, list[Value]]]()
    if optional(param.annotation) or param.default == "None":
        out.append(("none", "None", [("None", None)]))
    if base == "str":
        out.append(("strings", "empty and unicode strings", [(repr(s), s) for s in ("", UNICODE)]))
    if (values := collection(param.annotation)) is not None:
        out.append(("collections", "empty and huge collections", list(values)))
    if base in ("int", "float") and not compared:
        negative: Value = ("-1", -1) if base == "int" else ("-1.5", -1.5)
        out.append(("negative", "a negative number", [negative]))
    return out


def strategy(param: Param) -> str | None:
    annotation, base = param.annotation or "", base_type(param.annotation) or ""
    inner = annotation.partition("[")[2].rstrip("]")
    strategy = STRATEGIES.get(base)
    if base in ("list", "List", "Sequence") and base_type(inner) in STRATEGIES:
        strategy = f"st.lists({STRATEGIES[base_type(inner) or '']}, max_size=20)"
    return f"st.none() | {strategy}" if strategy and optional(annotation) else strategy
