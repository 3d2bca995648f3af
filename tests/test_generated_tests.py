"""Generated tests against real targets: where they import from, what the environment blocks,
and frameworks set up the way the target's own tests would."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.modules import is_test_file, module_name, package_dirs
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import build_inventory
from autocoder.workers.test_planning.perspectives.failure_modes import FailureModeAnalysis
from autocoder.workers.test_planning.specs import BLOCKED
from autocoder.workers.test_planning.verify import (
    BROKEN,
    collect_generated_tests,
    run_generated_tests,
)

from perspectivekit import context, run_specs, write_target

CHECK = "def check(n: int) -> int:\n    if n < 0:\n        raise ValueError(n)\n    return n\n"


def _specs(root: Path, tmp_path: Path, **options: object) -> list[TestSpec]:
    return run_specs(FailureModeAnalysis(), root, tmp_path, **options)[0]


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("shop/pricing.py", "shop.pricing"),
        ("shop/__init__.py", "shop"),
        ("src/pkg/io/__init__.py", "pkg.io"),
        ("shared/autocoder/cli.py", "autocoder.cli"),
        ("manage.py", "manage"),
        ("scripts/tool.py", "scripts.tool"),
        ("src/tool.py", "tool"),
    ],
)
def test_module_names_follow_the_init_chain(path: str, module: str) -> None:
    files = ["shop/__init__.py", "src/pkg/__init__.py", "src/pkg/io/__init__.py",
             "shared/autocoder/__init__.py"]  # fmt: skip
    assert module_name(path, package_dirs(files)) == module


def test_test_files_are_told_apart_from_code() -> None:
    assert all(map(is_test_file, ["tests/x.py", "pkg/test_a.py", "a_test.py", "conftest.py"]))
    assert not any(map(is_test_file, ["pkg/testament.py", "pkg/contest.py"]))


def test_a_package_under_a_source_folder_is_imported_by_its_package_name(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"shared/calc/__init__.py": "", "shared/calc/ops.py": CHECK})
    specs = _specs(root, tmp_path, run_target_tests=True)
    assert [(s.subject, s.status) for s in specs] == [("calc.ops:check", "passed")]
    assert "from calc.ops import check" in specs[0].test_code


def test_a_subject_the_environment_cannot_import_is_blocked_not_broken(tmp_path: Path) -> None:
    root = write_target(tmp_path, {
        "geo/__init__.py": "",
        "geo/native.py": "import json\n\nimport libgeos_binding_not_installed\n\n\n" + CHECK
        + "\n\ndef load(text: str) -> dict:\n    return json.loads(text)\n",
        "geo/plain.py": CHECK,
    })  # fmt: skip
    specs = {s.subject: s for s in _specs(root, tmp_path)}
    assert "import geo.native as subject_module" in specs["geo.native:load"].test_code
    collection = collect_generated_tests(root, list(specs.values()))
    native = [specs["geo.native:check"].id, specs["geo.native:load"].id]
    assert collection.items == 1, collection.output  # geo.plain's test
    assert (sorted(collection.blocked), collection.errors) == (sorted(native), {}), (
        collection.output
    )
    assert all(
        reason.startswith(f"{BLOCKED} geo.native: ModuleNotFoundError")
        for reason in collection.blocked.values()
    )
    ran = {s.subject: s for s in run_generated_tests(root, list(specs.values()), 120)}
    assert {subject: s.status for subject, s in ran.items()} == {
        "geo.native:check": "blocked", "geo.native:load": "blocked", "geo.plain:check": "passed"
    }  # fmt: skip
    assert ran["geo.native:check"].status_detail == (
        f'{BLOCKED} geo.native: ModuleNotFoundError("No module named '
        "'libgeos_binding_not_installed'\")"
    )
    assert ran["geo.plain:check"].status_detail == ""


def test_a_class_the_module_deletes_is_not_a_subject(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"trans.py": (
        "class Trans:\n    def gettext(self, text: str) -> str:\n        return text\n\n\n"
        "_trans = Trans()\ndel Trans\n\n\ndef gettext(text: str) -> str:\n"
        "    return _trans.gettext(text)\n"
    )})  # fmt: skip
    inventory = build_inventory(context(root, tmp_path))
    assert [s.id for s in inventory.subjects] == ["trans:gettext"]


def test_a_name_missing_from_a_module_that_imports_is_still_an_error(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"calc.py": CHECK})
    spec = _specs(root, tmp_path)[0]
    broken = spec.model_copy(
        update={"test_code": spec.test_code.replace("import check", "import gone")}
    )
    collection = collect_generated_tests(root, [broken])
    assert (collection.items, collection.blocked) == (0, {})
    assert collection.errors == {
        broken.id: f"ImportError: cannot import name 'gone' from 'calc' ({root / 'calc.py'})"
    }
    ran = run_generated_tests(root, [broken], 120)[0]
    assert (ran.status, ran.status_detail) == (  # a test that does not import is broken
        "error",
        f"{BROKEN} ImportError: cannot import name 'gone' from 'calc' ({root / 'calc.py'})",
    )


def test_django_style_settings_are_set_up_before_the_tests_import_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_target(tmp_path, {
        "django/__init__.py": "ready = False\n\n\ndef setup():\n    global ready\n    ready = True\n",
        "site_settings.py": "DEBUG = False\n",
        "shop/__init__.py": "",
        "shop/models.py": (
            "import django\n\nif not django.ready:\n"
            "    raise RuntimeError(\"Apps aren't loaded yet.\")\n\n\n" + CHECK
        ),
    })  # fmt: skip
    specs = [s for s in _specs(root, tmp_path) if s.subject == "shop.models:check"]
    assert [s.status for s in run_generated_tests(root, specs, 120)] == ["blocked"]
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "site_settings")
    assert [s.status for s in run_generated_tests(root, specs, 120)] == ["passed"]


def test_instances_are_made_with_the_init_a_class_inherits(tmp_path: Path) -> None:
    root = write_target(tmp_path, {
        "feeds/__init__.py": "",
        "feeds/base.py": (
            "class Feed:\n    def __init__(self, title: str, link: str) -> None:\n"
            "        self.title = title\n        self.link = link\n"
        ),
        "feeds/rss.py": (
            "from feeds.base import Feed\n\n\nclass Rss(Feed):\n    pass\n\n\nclass Atom(Rss):\n"
            "    def render(self, limit: int) -> str:\n        if limit < 0:\n"
            "            raise ValueError(limit)\n        return self.title[:limit]\n"
        ),
    })  # fmt: skip
    specs = _specs(root, tmp_path, run_target_tests=True)
    assert [(s.subject, s.inputs, s.status) for s in specs] == [
        ("feeds.rss:Atom.render", 'Atom("sample", "sample").render(-1)', "passed")
    ]


def test_a_raise_no_derivable_argument_reaches_gets_no_source_reading_test(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"checks.py": (
        "import functools\n\n\ndef logged(func):\n    @functools.wraps(func)\n"
        "    def wrapper(*args, **kwargs):\n        return func(*args, **kwargs)\n\n"
        "    return wrapper\n\n\n@logged\ndef count(items: list) -> int:\n"
        "    if items.count(0) > 1:\n        raise ValueError('zeros')\n    return len(items)\n"
    )})  # fmt: skip
    specs, info = run_specs(FailureModeAnalysis(), root, tmp_path)
    # 'raise ValueError' in inspect.getsource(count) would pass on broken code too
    assert specs == [] and info["raises_not_reached"] == 1


def test_a_raise_of_a_lower_case_factory_is_no_exception_to_expect(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"conv.py": (
        "import typing as t\n\n\ndef convert(n: int) -> int:\n    if n < 0:\n"
        "        raise t.cast(Exception, ValueError(n))\n    if n > 9:\n"
        "        raise OverflowError(n)\n    return n\n"
    )})  # fmt: skip
    specs = _specs(root, tmp_path)
    assert [s.expected for s in specs] == ["raises OverflowError"]  # never pytest.raises(t.cast)
    assert not any("t.cast" in s.test_code for s in specs)


def test_subjects_named_like_tests_are_tested_not_collected(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"naming.py": CHECK.replace("def check", "def test_name")})
    specs = _specs(root, tmp_path, run_target_tests=True)
    assert [(s.subject, s.status) for s in specs] == [("naming:test_name", "passed")]
    assert "test_name.__test__ = False" in specs[0].test_code


def test_methods_of_classes_meant_only_to_be_subclassed_get_no_instance_tests(
    tmp_path: Path,
) -> None:
    method = "    def check(self, n: int) -> int:\n" + "".join(
        f"    {line}\n" for line in CHECK.splitlines()[1:]
    )
    root = write_target(tmp_path, {"shapes.py": "import abc\nfrom abc import ABC\n\n\n" + "\n\n".join(
        f"class {head}:\n{method}" for head in (
            "BaseShape", "DrawMixin", "Shape(ABC)", "Solid(metaclass=abc.ABCMeta)", "Square",
            "Basement",
        )
    )})  # fmt: skip
    specs = _specs(root, tmp_path, run_target_tests=True)
    assert sorted((s.subject, s.status) for s in specs) == [
        ("shapes:Basement.check", "passed"), ("shapes:Square.check", "passed")
    ]  # fmt: skip
