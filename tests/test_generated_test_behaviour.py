"""Every generated test asserts behaviour: one that only compares signatures or source text,
checks ``callable``/``isinstance``, or calls the code and asserts nothing is dropped and counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.schema import TestSpec
from autocoder.workers.test_planning.behaviour import structural_problem
from autocoder.workers.test_planning.perspectives._setup import setup_lines, setup_outside
from autocoder.workers.test_planning.results import finish

from perspectivekit import context, write_target

HEAD = "from calc import add\nimport inspect\nimport re\nfrom unittest import mock\n\n\n"


def _test(body: str) -> str:
    return HEAD + "def test_add():\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.mark.parametrize(
    "body",
    [
        "assert list(inspect.signature(add).parameters) == ['a', 'b']",
        "source = inspect.getsource(add)\nassert re.search('raise ValueError', source)",
        "assert 'raise ValueError' in inspect.getsource(inspect.unwrap(add))",
        "assert callable(add)",
        "result = add(1, 2)\nassert isinstance(result, int)",
        "result = add(1, 2)\nassert result is not None",
        "add(1, 2)  # runs without raising",
        "assert True",
        "with pytest.raises(TypeError):\n    inspect.signature(add).bind(1)",
    ],
)
def test_a_test_of_the_code_s_shape_asserts_no_behaviour(body: str) -> None:
    assert structural_problem(_test(body)) == (
        "test_add asserts no behaviour (only the code's shape, or nothing)"
    )


@pytest.mark.parametrize(
    "body",
    [
        "assert add(1, 2) == 3",
        "result = add(1, 2)\nassert isinstance(result, int) and result == 3",
        "assert add(0, 0) is None",
        "with pytest.raises(ValueError):\n    add(-1, 2)",
        "fake = mock.MagicMock()\nadd(fake, 1)\nfake.__add__.assert_called_once_with(1)",
        "@given(st.integers())\ndef check(n):\n    assert isinstance(add(n, 1), int)\n\ncheck()",
    ],
)
def test_a_test_of_a_value_a_raise_a_call_or_a_property_asserts_behaviour(body: str) -> None:
    assert structural_problem(_test(body)) is None


def test_every_test_of_a_module_must_assert_behaviour() -> None:
    code = _test("assert add(1, 2) == 3") + "\n\ndef test_shape():\n    assert callable(add)\n"
    assert structural_problem(code) == (
        "test_shape asserts no behaviour (only the code's shape, or nothing)"
    )
    assert structural_problem(HEAD + "x = 1\n") == "no test function"


def test_the_instance_a_method_needs_is_built_before_pytest_raises() -> None:
    assert setup_outside("Argument([])._parse_decls(decls, True)") == (
        "subject_instance = Argument([])", "subject_instance._parse_decls(decls, True)"
    )  # fmt: skip
    assert setup_outside("asyncio.run(Owner(1).fetch(x))") == (
        "subject_instance = Owner(1)", "asyncio.run(subject_instance.fetch(x))"
    )  # fmt: skip
    assert setup_outside("compute(Other(1).x())") == ("", "compute(Other(1).x())")
    assert setup_outside("Owner.build(1)") == ("", "Owner.build(1)")


def test_a_constructor_refusing_made_up_inputs_fails_on_the_test_s_own_line(
    tmp_path: Path,
) -> None:
    lines, call = setup_lines("Named('')._parse(1)")
    code = "\n".join(["def test_parse():", *(f"    {line}" for line in lines), f"    {call}"])
    code = (
        "class Named:\n    def __init__(self, name):\n        if not name:\n"
        "            raise TypeError('no name')\n\n\n" + code + "\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(code, str(tmp_path / "test_x.py"), "exec"), namespace)
    with pytest.raises(TypeError, match="setup: could not build the instance") as raised:
        namespace["test_parse"]()  # type: ignore[operator]
    assert str(raised.traceback[-1].path) == str(tmp_path / "test_x.py")  # from the test itself
    assert setup_lines("compute(1)") == ([], "compute(1)")


def _spec(spec_id: str, code: str) -> TestSpec:
    return TestSpec(
        id=spec_id, perspective="p", subject="calc:add", file="calc.py", line=1, kind="unit",
        rationale="r", inputs="i", expected="e", mocks="", priority=3, test_code=code,
    )  # fmt: skip


def test_finish_drops_structural_specs_and_counts_them(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"calc.py": "def add(a, b):\n    return a + b\n"})
    specs = [_spec("a" * 16, _test("assert add(1, 2) == 3")), _spec("b" * 16, _test("add(1, 2)"))]
    result = finish(context(root, tmp_path), specs, "summary")
    assert [s.id for s in result.items if isinstance(s, TestSpec)] == ["a" * 16]
    assert result.metrics["structural_specs"] == 1 and result.metrics["specs"] == 1
    assert result.skipped["structural specs"].startswith(
        f"1 dropped, their tests assert no behaviour: '{'b' * 16}' (calc:add: test_add asserts"
    )


def test_an_api_contract_keeps_its_signature_checks(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"calc.py": "def add(a, b):\n    return a + b\n"})
    code = _test("assert list(inspect.signature(add).parameters) == ['a', 'b']")
    result = finish(context(root, tmp_path), [_spec("c" * 16, code)], "s", api_contract=True)
    assert len(result.items) == 1 and "structural_specs" not in result.metrics
