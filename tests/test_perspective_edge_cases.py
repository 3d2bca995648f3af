"""Edge Case Discovery: boundary values from comparisons and type hints, and Hypothesis properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.edge_cases import EdgeCaseDiscovery
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import run_specs, write_target


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(EdgeCaseDiscovery(), root, tmp_path, **options)


def _edges(specs: list[TestSpec], subject: str) -> dict[str, TestSpec]:
    return {
        s.inputs if s.kind != "property" else "property": s for s in specs if s.subject == subject
    }


def test_qty_at_most_0_gives_0_1_and_minus_1_and_values_that_only_return_give_no_test(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(shop_dir, tmp_path)
    price = _edges(specs, "shop.pricing:compute_price")
    positive = price["qty in [0, 1, -1]"]
    assert (positive.line, positive.file, positive.expected) == (
        7, "shop/pricing.py", "0, -1: raise ValueError; 1: return"
    )  # fmt: skip
    assert "for qty in (0, -1,):\n        with pytest.raises(ValueError):" in positive.test_code
    assert "`qty <= 0` at shop/pricing.py:7" in positive.rationale
    # qty > 100, the coupons and unit=-1.5 only return: a call that returns asserts nothing
    assert set(price) == {"qty in [0, 1, -1]", "property"}
    assert price["property"].kind == "property"
    assert 'pytest.importorskip("hypothesis")' in price["property"].test_code
    assert (
        "coupon=st.none() | st.text(alphabet=ALPHABET, max_size=30)" in price["property"].test_code
    )


def test_values_that_reach_a_raise_expect_it(ledger_dir: Path, tmp_path: Path) -> None:
    specs, _ = _run(ledger_dir, tmp_path)
    withdraw = _edges(specs, "ledger.core:Account.withdraw")
    assert (
        withdraw["amount in [0, 1, -1]"].expected
        == "0, -1: raise ValueError; 1: raise InsufficientFunds"
    )
    parse = _edges(specs, "ledger.boundaries.entries:parse_amount")
    assert (
        parse['text in ["x" * 12, "x" * 13]'].expected
        == '"x" * 12: raise ValueError; "x" * 13: raise OverflowError'
    )
    first = _edges(specs, "ledger.boundaries.entries:first_entry")
    collections = first['entries in [[], [f"item-{i}" for i in range(10000)]]']
    assert (
        collections.expected == '[]: raise IndexError; [f"item-{i}" for i in range(10000)]: return'
    )
    # the instance is built before pytest.raises: a constructor refusing the sampled arguments
    # is a broken test, never the expected raise
    assert re.search(  # the sample arguments themselves come from _setup
        r"            subject_instance = Account\((\"\w+\"|'\w+')\)\n        except Exception as error:\n",
        withdraw["amount in [0, 1, -1]"].test_code,
    )
    assert (
        "        with pytest.raises(ValueError):\n            subject_instance.withdraw(amount)"
    ) in withdraw["amount in [0, 1, -1]"].test_code
    # transfer returns None whatever the amount: no value to pin, so no test
    assert "ledger.core:transfer" not in {s.subject for s in specs}


def test_functions_reaching_the_outside_are_left_to_integration_points(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert {s.subject for s in specs} == {"shop.pricing:compute_price"}
    assert info["reaching_outside"] == 7  # order_total reaches open() through load_order
    assert info["summary"].startswith(
        "2 edge cases in 1 functions: 1 from literal comparisons, 1 Hypothesis"
    )


def test_generated_tests_collect_and_pass_on_the_unmodified_code(
    shop_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(shop_dir, tmp_path, run_target_tests=True)
    collection = collect_generated_tests(shop_dir, specs)
    assert collection.items == len(specs) == 2, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output
    assert {s.status for s in specs} == {"passed"}


def test_a_none_returned_against_the_annotation_is_kept_as_failed(
    ledger_dir: Path, tmp_path: Path
) -> None:
    specs, _ = _run(ledger_dir, tmp_path, run_target_tests=True)
    status = {
        (s.subject, s.inputs): s.status
        for s in specs
        if s.subject.startswith(("ledger.core", "ledger.boundaries"))
    }
    # find_entry returns None for entries holding no match, against its annotation: the
    # Hypothesis property finds it (a failed verdict on the code, not a broken test)
    hypothesis = "Hypothesis strategies from the type hints"
    assert status[("ledger.boundaries.entries:find_entry", hypothesis)] == "failed"
    assert status[("ledger.core:Account.withdraw", "amount in [0, 1, -1]")] == "passed"
    assert (
        status[("ledger.boundaries.entries:parse_amount", 'text in ["x" * 12, "x" * 13]')]
        == "passed"
    )


def test_callees_are_found_through_imports_and_annotations_never_by_bare_name(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {
        "app/__init__.py": "",
        "app/store.py": (
            "class Full(Exception):\n    pass\n\n\n"
            "class Store:\n    def save(self, n: int) -> None:\n        if n > 3:\n"
            "            raise Full(n)\n"
        ),
        "app/other.py": (
            "class Gone(Exception):\n    pass\n\n\n"
            "class Cache:\n    def save(self, n: int) -> None:\n        raise Gone(n)\n"
        ),
        "app/use.py": (
            "from app.store import Store\n\nSTORE = Store()\n\n\n"
            "def keep(n: int, store: Store = STORE) -> int:\n    store.save(n)\n    return n\n\n\n"
            "def keep_any(n: int, thing=STORE) -> int:\n    thing.save(n)\n    return n\n"
        ),
    })  # fmt: skip
    specs, _ = _run(root, tmp_path)
    keep = _edges(specs, "app.use:keep")["property"]
    assert (
        "except (Full, ValueError,):" in keep.test_code
        and "from app.store import Full" in keep.test_code
    )
    assert "Gone" not in keep.test_code
    assert all("Gone" not in s.test_code for s in specs if s.subject == "app.use:keep_any")


def test_spec_ids_are_stable_when_unrelated_lines_move(shop_dir: Path, tmp_path: Path) -> None:
    before = {s.id: s.line for s in _run(shop_dir, tmp_path)[0]}
    pricing = shop_dir / "shop" / "pricing.py"
    pricing.write_text("# a comment\n\n" + pricing.read_text())
    after = {s.id: s.line for s in _run(shop_dir, tmp_path)[0]}
    assert set(after) == set(before) and len(after) == 2
    assert sorted(after.values()) != sorted(before.values())


def test_untyped_code_without_comparisons_has_no_edge_cases(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "glue.py").write_text("def join(parts, sep):\n    return sep.join(parts)\n")
    specs, info = _run(root, tmp_path)
    assert specs == [] and info["edge_cases"] == 0
    assert info["summary"].startswith("No comparisons or typed parameters")


def test_a_target_without_python_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    with pytest.raises(PerspectiveSkipped):
        _run(tmp_path / "t", tmp_path)


def test_a_property_test_allows_what_the_code_raises_from_an_except_block(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/errors.py": "class Missing(Exception):\n    pass\n",
        "pkg/tools.py": (
            "import importlib.metadata\nfrom pkg.errors import Missing\n\n\n"
            "def tool_version(distribution: str) -> str:\n    try:\n"
            "        return importlib.metadata.version(distribution)\n"
            "    except importlib.metadata.PackageNotFoundError:\n"
            "        raise Missing(distribution) from None\n"
        ),
    })  # fmt: skip
    specs, _ = _run(root, tmp_path)
    prop = next(
        s for s in specs if s.subject == "pkg.tools:tool_version" and "@given" in s.test_code
    )
    assert (
        "except (Missing, ValueError,):" in prop.test_code
    )  # not a failure on the first unknown name
