"""The code facts the implementation stages present, read statically from small real packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.cache import ResultCache
from autocoder.engine.sources import SourceFiles
from autocoder.errors import TargetError
from autocoder.workers.implementation import context
from autocoder.workers.implementation._context_index import SUMMARY_TOOL, SUMMARY_VERSION

SHOP = {
    "src/shop/__init__.py": "from shop.pricing import total\n\n__all__ = ['total']\n",
    "src/shop/pricing.py": (
        "import shop.orders\n"
        "\n"
        "\n"
        "def total(items):\n"
        '    """Sum of the\n    prices.\n\n    More text.\n    """\n'
        "    return sum(items)\n"
        "\n"
        "\n"
        "def _round(x):\n"
        "    return round(x, 2)\n"
    ),
    "src/shop/orders.py": "def place():\n    return 1\n",
    "src/shop/cart.py": (
        "from shop.pricing import total as t\n\n\ndef checkout(items):\n    return t(items)\n"
    ),
    "src/shop/report.py": (
        "import shop.pricing as p\n"
        "from shop import pricing\n"
        "\n"
        "\n"
        "def report(items):\n"
        "    return p.total(items), pricing.total(items)\n"
    ),
    "src/shop/dotted.py": "import shop.pricing\n\nVALUE = shop.pricing.total([1])\n",
    "src/shop/facade.py": "from shop import total\n\n\ndef run():\n    return total([2])\n",
    "src/shop/other.py": (
        "def total(items):\n    return 0\n\n\ndef use():\n    return total([])\n"
    ),
    "src/shop/shadow.py": (
        "from shop.pricing import total\n\n\ndef compute(total):\n    return total + 1\n"
    ),
    "tests/test_pricing.py": (
        "from shop.pricing import total\n"
        "\n"
        "\n"
        "def test_total():\n"
        "    def helper():\n"
        "        return total([1])\n"
        "    assert helper() == 1\n"
        "    assert total([2]) == 2\n"
    ),
    "tests/test_orders.py": "from shop.orders import place\n\n\ndef test_place():\n    place()\n",
}


def write(root: Path, files: dict[str, str]) -> SourceFiles:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return SourceFiles.discover(root)


@pytest.fixture
def shop(tmp_path: Path) -> SourceFiles:
    return write(tmp_path / "shop", SHOP)


def test_snippet_numbers_the_lines_around_the_line_and_marks_it(shop: SourceFiles) -> None:
    text = context.snippet(shop, "src/shop/pricing.py", 4, radius=1)
    assert text.splitlines() == [
        "  3 | ",
        "> 4 | def total(items):",
        '  5 |     """Sum of the',
    ]


def test_snippet_is_empty_for_a_line_or_file_that_does_not_exist(shop: SourceFiles) -> None:
    assert context.snippet(shop, "src/shop/pricing.py", 999) == ""
    assert context.snippet(shop, "src/shop/missing.py", 1) == ""


def test_enclosing_names_the_innermost_method_with_its_header_and_docstring(
    tmp_path: Path,
) -> None:
    sources = write(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": (
        "class Shop:\n"
        "    @property\n"
        "    def total(self, n: int = 1) -> int:\n"
        '        """The total.\n\n        Details.\n        """\n'
        "        def inner():\n"
        "            return n\n"
        "        return inner()\n"
    )})  # fmt: skip
    method = context.enclosing(sources, "pkg/m.py", 2)
    assert method is not None
    assert (method.qualname, method.kind, method.start, method.end) == (
        "Shop.total",
        "method",
        2,
        10,
    )
    assert method.signature == "def total(self, n: int=1) -> int"
    assert method.docstring == "The total."
    inner = context.enclosing(sources, "pkg/m.py", 9)
    assert inner is not None
    assert (inner.qualname, inner.kind) == ("Shop.total.<locals>.inner", "function")
    shop = context.enclosing(sources, "pkg/m.py", 1)
    assert shop is not None
    assert (shop.kind, shop.signature, shop.docstring) == ("class", "class Shop", "")


def test_enclosing_gives_the_docstrings_whole_first_paragraph(shop: SourceFiles) -> None:
    total = context.enclosing(shop, "src/shop/pricing.py", 9)
    assert total is not None
    assert (total.qualname, total.docstring) == ("total", "Sum of the prices.")


def test_enclosing_is_none_at_module_level(shop: SourceFiles) -> None:
    assert context.enclosing(shop, "src/shop/pricing.py", 1) is None


def test_module_of_names_a_src_layout_module_and_refuses_other_files(tmp_path: Path) -> None:
    sources = write(tmp_path, {**SHOP, "src/shop/broken.py": "def (:\n", "README.md": "x\n"})
    assert context.module_of(sources, "src/shop/pricing.py") == "shop.pricing"
    assert context.module_of(sources, "src/shop/__init__.py") == "shop"
    assert context.module_of(sources, "README.md") is None
    assert context.module_of(sources, "src/shop/broken.py") is None


def test_import_place_lists_first_party_imports_and_importers_without_tests(
    shop: SourceFiles,
) -> None:
    place = context.import_place(shop, "shop.pricing")
    assert place.imports == ["shop.orders"]
    assert place.imported_by == ["shop", "shop.cart", "shop.dotted", "shop.report", "shop.shadow"]
    assert place.imported_by_total == 5
    assert (place.package, place.file, place.in_cycle) == ("shop", "src/shop/pricing.py", False)


def test_import_place_finds_a_cycle_that_runs_at_import_time(tmp_path: Path) -> None:
    sources = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "from pkg.c import f\n",
        "pkg/c.py": "import pkg.a\n\n\ndef f():\n    pass\n",
    })  # fmt: skip
    place = context.import_place(sources, "pkg.a")
    assert place.in_cycle
    assert place.cycle == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_import_place_ignores_a_cycle_closed_in_a_function_or_for_type_checking(
    tmp_path: Path,
) -> None:
    sources = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\nimport pkg.c\n",
        "pkg/b.py": "def late():\n    from pkg import a\n",
        "pkg/c.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import a\n",
    })  # fmt: skip
    place = context.import_place(sources, "pkg.a")
    assert place.imports == ["pkg.b", "pkg.c"]
    assert not place.in_cycle and place.cycle == []


def test_import_place_bounds_the_importers_and_counts_them_all(tmp_path: Path) -> None:
    users = {f"pkg/user{n:02}.py": "from pkg import core\n" for n in range(25)}
    sources = write(tmp_path, {"pkg/__init__.py": "", "pkg/core.py": "X = 1\n", **users})
    place = context.import_place(sources, "pkg.core")
    assert len(place.imported_by) == context.MAX_LISTED
    assert place.imported_by_total == 25


def test_import_place_refuses_a_module_the_target_does_not_have(shop: SourceFiles) -> None:
    with pytest.raises(TargetError, match=r"'shop\.nothing' is not a module"):
        context.import_place(shop, "shop.nothing")


def test_callers_follow_every_import_form_and_the_package_re_export(shop: SourceFiles) -> None:
    found = {(r.file, r.caller, r.how) for r in context.callers(shop, "shop.pricing", "total")}
    assert found == {
        ("src/shop/cart.py", "checkout", "call"),  # an aliased import
        ("src/shop/report.py", "report", "call"),  # import ... as p, from shop import pricing
        ("src/shop/dotted.py", "<module>", "call"),  # import shop.pricing
        ("src/shop/facade.py", "run", "call"),  # through shop/__init__.py
    }
    lines = [r.line for r in context.callers(shop, "shop.pricing", "total")
             if r.file == "src/shop/report.py"]  # fmt: skip
    assert lines == [6, 6]


def test_callers_leave_out_a_same_named_function_a_parameter_and_the_tests(
    shop: SourceFiles,
) -> None:
    files = {r.file for r in context.callers(shop, "shop.pricing", "total")}
    assert "src/shop/other.py" not in files  # its own total
    assert "src/shop/shadow.py" not in files  # a parameter named total
    assert "src/shop/pricing.py" not in files  # the definition itself
    assert not any(f.startswith("tests/") for f in files)


def test_callers_of_a_method_are_its_self_calls_in_its_own_class(tmp_path: Path) -> None:
    sources = write(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": (
        "class Cart:\n"
        "    def total(self):\n"
        "        return 1\n"
        "\n"
        "    def pay(this):\n"
        "        return this.total()\n"
        "\n"
        "\n"
        "class Other:\n"
        "    def total(self):\n"
        "        return 2\n"
        "\n"
        "    def pay(self):\n"
        "        return self.total()\n"
    )})  # fmt: skip
    found = context.callers(sources, "pkg.m", "Cart.total")
    assert [(r.line, r.caller, r.how) for r in found] == [(6, "Cart.pay", "self-call")]


def test_tests_referring_lists_each_test_naming_it_and_each_import(shop: SourceFiles) -> None:
    found = context.tests_referring(shop, "shop.pricing", "total")
    assert [(r.file, r.line, r.caller, r.how) for r in found] == [
        ("tests/test_pricing.py", 1, "<module>", "import"),
        ("tests/test_pricing.py", 6, "test_total", "call"),  # inside a helper of the test
    ]


def test_tests_referring_is_empty_for_code_no_test_names(shop: SourceFiles) -> None:
    assert context.tests_referring(shop, "shop.cart", "checkout") == []


def test_public_api_calls_a_private_helper_private(shop: SourceFiles) -> None:
    api = context.public_api(shop, "shop.pricing", "_round")
    assert not api.public
    assert api.private_parts == ["_round"]
    assert api.reasons[0] == "private part of its name: _round"


def test_public_api_takes_a_name_listed_in_all_and_refuses_one_left_out(tmp_path: Path) -> None:
    sources = write(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": (
        "__all__ = ['shown']\n__all__ += ['added']\n\n\n"
        "def shown():\n    pass\n\n\ndef added():\n    pass\n\n\ndef hidden():\n    pass\n"
    )})  # fmt: skip
    assert context.public_api(sources, "pkg.m", "shown").in_all is True
    assert context.public_api(sources, "pkg.m", "added").public
    hidden = context.public_api(sources, "pkg.m", "hidden")
    assert not hidden.public
    assert "not listed in its module's __all__" in hidden.reasons


def test_public_api_counts_a_re_export_from_a_private_module(tmp_path: Path) -> None:
    sources = write(tmp_path, {
        "pkg/__init__.py": "from ._impl import run\n",
        "pkg/_impl.py": "def run():\n    pass\n",
        "pkg/user.py": "from ._impl import run\n",
    })  # fmt: skip
    api = context.public_api(sources, "pkg._impl", "run")
    assert api.public
    assert api.private_parts == ["_impl"]
    assert api.exported_as == ["pkg.run"]  # pkg.user uses it, it does not export it


def test_public_api_finds_docs_that_name_it_but_not_prose(tmp_path: Path) -> None:
    sources = write(tmp_path, {
        **SHOP,
        "docs/api.rst": ".. currentmodule:: shop\n\n.. autofunction:: total\n",
        "docs/guide.md": "Call `shop.pricing.total` for the sum.\n",
        "docs/prose.md": "The total is what you pay.\n",
    })  # fmt: skip
    api = context.public_api(sources, "shop.pricing", "total")
    assert api.documented_in == ["docs/api.rst", "docs/guide.md"]
    assert api.documented_total == 2


def test_bounded_keeps_the_first_references_and_counts_all_and_their_files(
    shop: SourceFiles,
) -> None:
    found = context.callers(shop, "shop.pricing", "total")
    few = context.bounded(found, limit=2)
    assert few.shown == found[:2]
    assert (few.total, few.files) == (len(found), 4)


def test_the_import_summaries_are_read_from_the_result_cache_by_content(tmp_path: Path) -> None:
    sources = write(tmp_path / "shop", SHOP)
    cache = ResultCache(tmp_path / "cache.sqlite3")
    assert "src/shop/cart.py" in {
        r.file for r in context.callers(sources, "shop.pricing", "total", cache)
    }
    digest = sources.digest("src/shop/cart.py")
    cached = cache.get_many(SUMMARY_TOOL, SUMMARY_VERSION, [digest])[digest]
    assert cached[0][0][2] == [["total", "t"]]  # from shop.pricing import total as t
    cache.put(SUMMARY_TOOL, SUMMARY_VERSION, digest, [[], ["checkout"]])  # a summary without it
    again = SourceFiles.discover(tmp_path / "shop")
    files = {r.file for r in context.callers(again, "shop.pricing", "total", cache)}
    assert "src/shop/cart.py" not in files
    cache.close()
