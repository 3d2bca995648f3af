"""Generated tests build instances only as the target's authors would: with the arguments its
own tests, examples and doctests use, or from the signature's defaults, type hints and data
class fields; never a Protocol, an Enum, a TypedDict or a class with abstract methods left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autocoder.workers.test_planning.inventory import Inventory, build_inventory
from autocoder.workers.test_planning.perspectives._calls import (
    call_code,
    callable_subject,
    init_params,
    unbuildable_classes,
    unbuildable_entry,
    unbuildable_reason,
)

from perspectivekit import context, write_target

ROOT = Path(__file__).resolve().parents[1]
CLICK = Path("/tmp/real/click-8.1.8")
ATTRS = Path("/tmp/real/attrs-25.3.0")


def _inventory(tmp_path: Path, files: dict[str, str]) -> Inventory:
    return build_inventory(context(write_target(tmp_path, files), tmp_path))


def _call(inventory: Inventory, subject_id: str) -> str:
    subject = inventory.by_id[subject_id]
    assert callable_subject(subject, inventory), unbuildable_reason(
        inventory.by_id[subject_id.rsplit(".", 1)[0]], inventory
    )
    return call_code(subject, inventory)[0]


UNTYPED = (
    "class Argument:\n"
    "    def __init__(self, param_decls, required=None):\n"
    "        if not param_decls:\n"
    "            raise TypeError('needs a name')\n"
    "        self.name = param_decls[0]\n\n"
    "    def human(self) -> str:\n"
    "        return self.name.upper()\n"
)


def test_an_untyped_constructor_is_built_as_the_target_s_own_tests_build_it(
    tmp_path: Path,
) -> None:
    inventory = _inventory(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/core.py": UNTYPED,
            "tests/test_core.py": "from pkg.core import Argument\n\n\ndef test_a():\n"
            "    assert Argument(['name'], required=False).human() == 'NAME'\n",
        },
    )
    # the required argument and the one defaulting to None come from the test
    assert _call(inventory, "pkg.core:Argument.human") == "Argument(['name'], False).human()"


def test_a_default_other_than_none_is_kept_over_the_example(tmp_path: Path) -> None:
    """What the solved outcomes assume: ``Account(owner, balance=0)`` keeps balance 0."""
    inventory = _inventory(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bank.py": "class Account:\n    def __init__(self, owner, balance=0):\n"
            "        self.balance = balance\n\n    def empty(self) -> bool:\n"
            "        return self.balance == 0\n",
            "tests/test_bank.py": "from pkg.bank import Account\n\nAccount('ann', 10)\n",
        },
    )
    assert _call(inventory, "pkg.bank:Account.empty") == "Account('ann').empty()"


def test_an_untyped_constructor_with_no_example_gives_no_test_and_says_why(
    tmp_path: Path,
) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/core.py": UNTYPED})
    human = inventory.by_id["pkg.core:Argument.human"]
    assert not callable_subject(human, inventory)
    assert unbuildable_classes(inventory) == {
        "pkg.core:Argument": ("Argument() needs param_decls: no example and no usable type hint")
    }


def test_the_record_says_which_classes_got_no_method_test_and_why(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/core.py": UNTYPED})
    assert unbuildable_entry(inventory) == {
        "instances not built": "1 classes get no method test: "
        "Argument() needs param_decls: no example and no usable type hint"
    }
    point_only = DATA.partition("\n\n\n@dataclass(frozen=True)\nclass Point3")[0]
    built = _inventory(tmp_path / "built", {"pkg/__init__.py": "", "pkg/shapes.py": point_only})
    assert "pkg.shapes:Point.norm" in built.by_id
    assert unbuildable_entry(built) == {}


def test_a_construction_in_library_code_is_no_example(tmp_path: Path) -> None:
    """Only tests, examples, docs and doctests show how a class is meant to be built."""
    inventory = _inventory(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/core.py": UNTYPED,
            "pkg/other.py": "from pkg.core import Argument\n\nDEFAULT = Argument(['x'])\n",
        },
    )
    assert not callable_subject(inventory.by_id["pkg.core:Argument.human"], inventory)


def test_a_doctest_and_an_examples_folder_give_constructions(tmp_path: Path) -> None:
    doctested = UNTYPED.replace(
        "    def human(self) -> str:\n",
        "    def human(self) -> str:\n        '''\n        >>> Argument(['doc']).human()\n"
        "        'DOC'\n        '''\n",
    )
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/core.py": doctested})
    assert _call(inventory, "pkg.core:Argument.human") == "Argument(['doc']).human()"
    example = _inventory(
        tmp_path / "second",
        {
            "pkg/__init__.py": "",
            "pkg/core.py": UNTYPED,
            "examples/run.py": "from pkg.core import Argument\n\nArgument(['ex']).human()\n",
        },
    )
    assert _call(example, "pkg.core:Argument.human") == "Argument(['ex']).human()"


def test_an_example_with_a_keyword_the_class_does_not_take_is_not_used(tmp_path: Path) -> None:
    inventory = _inventory(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/core.py": UNTYPED,
            "tests/test_core.py": "from pkg.core import Argument\n\nArgument(['a'], colour=1)\n",
        },
    )
    assert not callable_subject(inventory.by_id["pkg.core:Argument.human"], inventory)


DATA = (
    "from dataclasses import dataclass, field\nimport attr\nfrom typing import ClassVar\n\n\n"
    "@dataclass(frozen=True)\nclass Point:\n    x: int\n    y: int = 0\n"
    "    tags: list[str] = field(default_factory=list)\n    unit: ClassVar[str] = 'm'\n\n"
    "    def norm(self) -> int:\n        return abs(self.x) + abs(self.y)\n\n\n"
    "@dataclass(frozen=True)\nclass Point3(Point):\n    z: int = 0\n\n"
    "    def depth(self) -> int:\n        return self.z\n\n\n"
    "@attr.s\nclass Box:\n    _size = attr.ib()\n    label: str = attr.ib(default='box')\n\n"
    "    def size(self) -> int:\n        return self._size\n"
)


def test_a_dataclass_is_built_from_its_fields(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/shapes.py": DATA})
    point = inventory.by_id["pkg.shapes:Point"]
    assert [(p.name, p.default) for p in init_params(point, inventory)] == [
        ("x", None),
        ("y", "0"),
        ("tags", "list()"),
    ]
    assert _call(inventory, "pkg.shapes:Point.norm") == "Point(1).norm()"
    assert _call(inventory, "pkg.shapes:Point3.depth") == "Point3(1).depth()"


def test_a_parameter_typed_as_a_class_gets_a_mock_collaborator_and_a_callable_none(
    tmp_path: Path,
) -> None:
    code = (
        "from typing import Callable\n\n\nclass Shell:\n"
        "    def __init__(self, cli: 'Command', env: dict) -> None:\n        self.env = env\n\n"
        "    def words(self) -> list:\n        return []\n\n\n"
        "class Func:\n    def __init__(self, func: Callable) -> None:\n"
        "        self.name = func.__name__\n\n    def call(self) -> int:\n        return 1\n"
    )
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/sh.py": code})
    assert _call(inventory, "pkg.sh:Shell.words") == "Shell(mock.MagicMock(), {}).words()"
    assert unbuildable_reason(inventory.by_id["pkg.sh:Func"], inventory) == (
        "Func() needs func: no example and no usable type hint"
    )


def test_a_pydantic_model_is_built_by_keyword_and_never_with_a_mock_field(
    tmp_path: Path,
) -> None:
    code = (
        "from pathlib import Path\n\nfrom pydantic import BaseModel\n\n\n"
        "class Job(BaseModel):\n    name: str\n    tries: int = 3\n\n"
        "    def label(self) -> str:\n        return self.name\n\n\n"
        "class Place(BaseModel):\n    root: Path\n\n"
        "    def where(self) -> str:\n        return str(self.root)\n"
    )
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/jobs.py": code})
    assert _call(inventory, "pkg.jobs:Job.label") == 'Job(name="sample").label()'
    assert unbuildable_reason(inventory.by_id["pkg.jobs:Place"], inventory) == (
        "Place() needs root: no example and no usable type hint"
    )


def test_an_attrs_class_without_a_type_for_its_private_field_gives_no_test(
    tmp_path: Path,
) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/shapes.py": DATA})
    assert unbuildable_reason(inventory.by_id["pkg.shapes:Box"], inventory) == (
        "Box() needs size: no example and no usable type hint"
    )


KINDS = (
    "import abc\nimport enum\nfrom typing import Protocol, TypedDict\n\n\n"
    "class Reader(Protocol):\n    def read(self) -> str: ...\n\n\n"
    "class Colour(enum.Enum):\n    RED = 1\n\n    def label(self) -> str:\n"
    "        return self.name\n\n\n"
    "class Shade(Colour):\n    def dark(self) -> bool:\n        return True\n\n\n"
    "class Row(TypedDict):\n    a: int\n\n\n"
    "class Store(abc.ABC):\n    @abc.abstractmethod\n    def get(self) -> int: ...\n\n"
    "    def twice(self) -> int:\n        return 2 * self.get()\n\n\n"
    "class Half(Store):\n    def other(self) -> int:\n        return 1\n\n\n"
    "class Memory(Store):\n    def get(self) -> int:\n        return 1\n\n\n"
    "class Param:\n    def __init__(self) -> None:\n        self.decls = self.parse()\n\n"
    "    def parse(self) -> list[str]:\n        '''Subclasses say.'''\n"
    "        raise NotImplementedError()\n\n\n"
    "class Opt(Param):\n    def parse(self) -> list[str]:\n        return ['-o']\n\n\n"
    "class Hook:\n    def run(self) -> int:\n        raise NotImplementedError\n\n"
    "    def name(self) -> str:\n        return 'hook'\n"
)


@pytest.mark.parametrize(
    ("cls", "reason"),
    [
        ("Reader", "Reader is a Protocol, which cannot be instantiated"),
        ("Colour", "Colour is an Enum: its members are the instances"),
        ("Shade", "Shade is an Enum: its members are the instances"),
        ("Row", "Row is a TypedDict, a type for plain dicts"),
        ("Store", "Store has abstract methods left: get"),
        ("Half", "Half has abstract methods left: get"),
        ("Param", "Param has abstract methods left: parse"),
    ],
)
def test_a_class_that_cannot_be_instantiated_gets_no_method_test(
    tmp_path: Path, cls: str, reason: str
) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/kinds.py": KINDS})
    assert unbuildable_reason(inventory.by_id[f"pkg.kinds:{cls}"], inventory) == reason
    methods = [s for s in inventory.subjects if s.qualname.startswith(f"{cls}.")]
    assert bool(methods) == (cls != "Row")  # a TypedDict has no methods
    assert not any(callable_subject(m, inventory) for m in methods)


@pytest.mark.parametrize("cls", ["Memory", "Opt", "Hook"])  # Hook's __init__ calls no hook
def test_a_subclass_that_implements_every_abstract_method_is_built(
    tmp_path: Path, cls: str
) -> None:
    inventory = _inventory(tmp_path, {"pkg/__init__.py": "", "pkg/kinds.py": KINDS})
    assert unbuildable_reason(inventory.by_id[f"pkg.kinds:{cls}"], inventory) is None


def test_a_generated_construction_runs_against_the_unmodified_target(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/core.py": UNTYPED,
        "pkg/shapes.py": DATA,
        "tests/test_core.py": "from pkg.core import Argument\n\nArgument(['name'])\n",
    }
    inventory = _inventory(tmp_path, files)
    calls = [_call(inventory, i) for i in ("pkg.core:Argument.human", "pkg.shapes:Point.norm")]
    test = tmp_path / "target" / "test_generated.py"
    test.write_text(
        "from pkg.core import Argument\nfrom pkg.shapes import Point\n\n\n"
        f"def test_calls():\n    assert ({calls[0]}, {calls[1]}) == ('NAME', 1)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path / "target",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not CLICK.is_dir(), reason="click 8.1.8 sources not at /tmp/real")
def test_click_s_argument_is_built_with_a_name_from_click_s_own_tests(tmp_path: Path) -> None:
    inventory = build_inventory(context(CLICK, tmp_path))
    call = _call(inventory, "click.core:Argument.get_usage_pieces")
    assert call.startswith("Argument(['") and "Argument([])" not in call
    reasons = unbuildable_classes(inventory)
    # its __init__ calls _parse_decls, which only raises NotImplementedError in the base
    assert reasons["click.core:Parameter"] == ("Parameter has abstract methods left: _parse_decls")
    assert "click.core:Option" not in reasons  # it implements both


@pytest.mark.skipif(not ATTRS.is_dir(), reason="attrs 25.3.0 sources not at /tmp/real")
def test_attrs_enum_sentinel_gets_no_method_test(tmp_path: Path) -> None:
    inventory = build_inventory(context(ATTRS, tmp_path))
    assert unbuildable_classes(inventory)["attr._make:_Nothing"] == (
        "_Nothing is an Enum: its members are the instances"
    )


def test_this_repository_s_protocols_and_record_classes_get_no_made_up_instance(
    tmp_path: Path,
) -> None:
    inventory = build_inventory(context(ROOT, tmp_path))
    reasons = unbuildable_classes(inventory)
    assert reasons["autocoder.engine.perspective:Perspective"] == (
        "Perspective is a Protocol, which cannot be instantiated"
    )
    subject = inventory.by_id["autocoder.workers.test_planning.inventory:Subject"]
    assert len([p for p in init_params(subject, inventory) if p.default is None]) == 12
    inventory_class = "autocoder.workers.test_planning.inventory:Inventory"
    assert not callable_subject(inventory.by_id[f"{inventory_class}.by_id"], inventory)


@pytest.mark.parametrize(
    ("annotation", "admits_none"),
    [("int | None", True), ("Optional[int]", True), ("t.Optional[str]", True),
     ("Union[int, None]", True), ("list[str | None]", False), ("dict[str, int | None]", False),
     ("str", False), (None, False)],
)  # fmt: skip
def test_only_an_annotation_that_itself_admits_none_is_optional(
    annotation: str | None, admits_none: bool
) -> None:
    # Before, `redact(text, secrets: list[str | None])` got secrets=None from Hypothesis.
    from autocoder.workers.test_planning.perspectives._calls import optional

    assert optional(annotation) is admits_none
