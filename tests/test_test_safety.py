"""Running generated tests safely: no test is generated for code that reaches a process, a
package manager, a deletion or the network unfaked; what runs anyway runs in a throwaway
environment with a temporary HOME and working folder, and a change to the worker's own site
folders is a loud error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from autocoder.engine import testenv
from autocoder.engine.testrun import configured_testpaths, run_tests
from autocoder.errors import ToolError
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.reach import call_graph, safe_to_run, unfaked_reach
from autocoder.workers.test_planning.spec import test_planning_spec as planning_spec
from autocoder.workers.test_planning.verify import is_broken, run_generated_tests, without_broken

from perspectivekit import context, write_files, write_target

UNINSTALL = '''"""Removes the toolbox: its data folder, then the package itself."""

import shutil
import subprocess
import sys
from os import remove as delete


def _pip(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "pip", *args], check=False).returncode


def remove_data(folder: str) -> None:
    shutil.rmtree(folder)


def uninstall(folder: str, package: str = "toolbox") -> int:
    """Remove ``folder`` and uninstall ``package``; the exit code of pip."""
    if not folder:
        raise ValueError("no folder given")
    remove_data(folder)
    return _pip("uninstall", "-y", package)


def forget(path: str) -> None:
    delete(path)


class Cleaner:
    def __init__(self, folder: str) -> None:
        self.folder = folder

    def clean(self, force: bool = False) -> bool:
        if force:
            self.wipe()
        return force

    def wipe(self) -> None:
        shutil.rmtree(self.folder)


def version_tuple(text: str) -> tuple[int, ...]:
    """``"1.2.3"`` -> ``(1, 2, 3)``."""
    if not text:
        raise ValueError("empty version")
    return tuple(int(part) for part in text.split("."))
'''
FILES = {"toolbox/__init__.py": "", "toolbox/uninstall.py": UNINSTALL}
HEAD = "import toolbox.uninstall as subject_module\nfrom toolbox import uninstall as u\n\n\n"


def _spec(subject: str, body: str, file: str = "toolbox/uninstall.py") -> TestSpec:
    return TestSpec(
        id=f"s{abs(hash((subject, body))) % 10**12:012d}", perspective="Test", subject=subject,
        file=file, line=1, kind="unit", rationale="r", inputs="i", expected="e", mocks="",
        priority=3, test_code=HEAD + body,
    )  # fmt: skip


def _reach(tmp_path: Path, subject: str, body: str) -> str | None:
    ctx = context(write_target(tmp_path, FILES), tmp_path)
    return unfaked_reach(_spec(subject, body), call_graph(ctx))


def test_an_uninstaller_tested_with_only_rmtree_patched_is_unsafe(tmp_path: Path) -> None:
    body = (
        "def test_it(monkeypatch):\n"
        "    monkeypatch.setattr(subject_module.shutil, 'rmtree', lambda p: None)\n"
        "    assert u.uninstall('x') == 0\n"
    )
    how = _reach(tmp_path, "toolbox.uninstall:uninstall", body)
    assert how == (
        "toolbox.uninstall:uninstall -> toolbox.uninstall:_pip -> subprocess.run (runs a process)"
        " at line 10"
    )


def test_an_uninstaller_with_its_process_and_deletion_faked_is_safe(tmp_path: Path) -> None:
    body = (
        "def test_it(monkeypatch):\n"
        "    monkeypatch.setattr(subject_module, 'subprocess', object())\n"
        "    monkeypatch.setattr(subject_module.shutil, 'rmtree', lambda p: None)\n"
        "    u.uninstall('x')\n"
    )
    assert _reach(tmp_path, "toolbox.uninstall:uninstall", body) is None


def test_a_pure_function_is_safe_and_a_helper_that_deletes_through_an_alias_is_not(
    tmp_path: Path,
) -> None:
    assert _reach(tmp_path, "toolbox.uninstall:version_tuple",
                  "def test_it():\n    assert u.version_tuple('1.2') == (1, 2)\n") is None  # fmt: skip
    how = _reach(tmp_path, "toolbox.uninstall:forget", "def test_it():\n    u.forget('x')\n")
    assert how is not None and "os.remove (deletes or moves files)" in how


def test_a_method_reaching_rmtree_through_self_is_unsafe(tmp_path: Path) -> None:
    body = "def test_it():\n    assert u.Cleaner('x').clean(force=True)\n"
    how = _reach(tmp_path, "toolbox.uninstall:Cleaner.clean", body)
    assert how == (
        "toolbox.uninstall:Cleaner.clean -> toolbox.uninstall:Cleaner.wipe -> shutil.rmtree "
        "(deletes or moves files) at line 39"
    )


HUB = {"hubtool/__init__.py": "", "hubtool/reader.py": (
    "from datasets import load_dataset\nfrom huggingface_hub import HfApi\n"
    "from huggingface_hub.errors import RepositoryNotFoundError\n\n\n"
    "class Reader:\n    def __init__(self, repo: str) -> None:\n        self.api = HfApi()\n"
    "        self.repo = repo\n\n    def files(self) -> list[str]:\n"
    "        return self.api.list_repo_files(self.repo)\n\n\n"
    "def rows(repo: str) -> object:\n    return load_dataset(repo)\n\n\n"
    "def missing(repo: str) -> Exception:\n    return RepositoryNotFoundError(repo)\n"
)}  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "body", "reaches"),
    [
        ("hubtool.reader:Reader.files", "    r.Reader('a/b').files()\n",
         "huggingface_hub.HfApi (uses the network)"),
        ("hubtool.reader:rows", "    r.rows('a/b')\n", "datasets.load_dataset (uses the network)"),
        ("hubtool.reader:missing", "    assert 'a/b' in str(r.missing('a/b'))\n", None),
    ],
)  # fmt: skip
def test_hub_clients_count_as_the_network_and_a_hub_error_does_not(
    tmp_path: Path, subject: str, body: str, reaches: str | None
) -> None:
    # Before, tests of this repository's Hub readers tried the network for ~23 s each.
    ctx = context(write_target(tmp_path, HUB), tmp_path)
    spec = _spec(subject, f"import hubtool.reader as r\n\n\ndef test_it():\n{body}")
    how = unfaked_reach(spec, call_graph(ctx))
    assert (how is None) if reaches is None else (how is not None and reaches in how), how


def test_a_test_that_itself_runs_a_process_is_unsafe(tmp_path: Path) -> None:
    body = "import subprocess\n\n\ndef test_it():\n    subprocess.run(['true'])\n"
    how = _reach(tmp_path, "toolbox.uninstall:version_tuple", body)
    assert how == "the test itself calls subprocess.run (runs a process)"


def test_no_perspective_keeps_a_test_of_the_uninstaller_that_could_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    ctx = context(write_target(tmp_path, FILES), tmp_path)
    specs = [s for p in planning_spec().registry for s in p.run(ctx).items
             if isinstance(s, TestSpec)]  # fmt: skip
    kept, unsafe = safe_to_run(ctx, specs)
    graph = call_graph(ctx)
    assert all(unfaked_reach(s, graph) is None for s in kept)
    assert "toolbox.uninstall:uninstall" not in {s.subject for s in kept}, unsafe
    assert "toolbox.uninstall:version_tuple" in {s.subject for s in kept}
    assert all(" at line " in why for why in unsafe.values())


def _fake_worker_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site folder the tests see as the worker's own, holding an installed distribution."""
    site = write_files(tmp_path / "site", {
        "canary_dist.py": "VALUE = 1\n",
        "canary_dist-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: canary-dist\n"
                                              "Version: 1.0\n",
        "canary_dist-1.0.dist-info/RECORD": "canary_dist.py,,\n"
                                            "canary_dist-1.0.dist-info/METADATA,,\n"
                                            "canary_dist-1.0.dist-info/RECORD,,\n",
        "canary_dist-1.0.dist-info/INSTALLER": "pip\n",
    })  # fmt: skip
    real = testenv.worker_site_dirs()
    monkeypatch.setattr(testenv, "worker_site_dirs", lambda: [*real, str(site)])
    return site


def test_a_hand_written_uninstaller_test_cannot_touch_what_the_sandbox_can_protect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _fake_worker_site(tmp_path, monkeypatch)
    root = write_target(tmp_path, {**FILES, "canary/keep.txt": "x"})
    write_files(root, {"tests/test_uninstall.py": (
        "import os\nimport subprocess\nimport sys\n\n"
        "from toolbox.uninstall import _pip, remove_data\n\n\n"
        "def test_uninstall():\n"
        "    assert _pip('uninstall', '-y', 'canary-dist') == 0\n"
        "    pip = [sys.executable, '-m', 'pip', 'uninstall', '-y', 'canary-dist']\n"
        "    said = subprocess.run(pip, capture_output=True, text=True)\n"
        "    assert 'outside environment' in said.stdout + said.stderr\n"
        "    stub = subprocess.run(['pip', 'uninstall', '-y', 'canary-dist'])\n"
        "    assert stub.returncode == 1\n"
        "    os.makedirs('canary')\n"
        "    remove_data('canary')\n"
        "    remove_data(os.path.expanduser('~'))\n"
    )})  # fmt: skip
    run = run_tests([root / "tests"], source_root=root, timeout_s=300)
    assert run.summary()["passed"] == 1, run.output
    assert (site / "canary_dist.py").exists() and (root / "canary" / "keep.txt").exists()


def test_a_change_to_the_workers_site_folders_is_a_loud_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _fake_worker_site(tmp_path, monkeypatch)
    root = write_target(tmp_path, {"tests/test_hostile.py": (
        f"import os\n\n\ndef test_it():\n    os.remove({str(site / 'canary_dist.py')!r})\n"
    )})  # fmt: skip
    with pytest.raises(ToolError, match="changed the worker's own environment") as raised:
        run_tests([root / "tests"], source_root=root, timeout_s=300)
    assert f"removed {site / 'canary_dist.py'}" in str(raised.value)


def test_tests_run_with_a_temporary_cwd_and_home_in_an_environment_of_their_own(
    tmp_path: Path,
) -> None:
    report = tmp_path / "seen.json"
    root = write_target(tmp_path, {"tests/test_where.py": (
        "import json, os, shutil, sys\n\n\ndef test_where():\n"
        f"    open({str(report)!r}, 'w').write(json.dumps({{'cwd': os.getcwd(), "
        "'home': os.environ['HOME'], 'prefix': sys.prefix, 'pip': shutil.which('pip'), "
        "'path': os.environ['PATH']}))\n"
    )})  # fmt: skip
    run = run_tests([root / "tests"], source_root=root, timeout_s=300)
    assert run.summary()["passed"] == 1, run.output
    seen = json.loads(report.read_text())
    assert not Path(seen["cwd"]).is_relative_to(root) and not Path(seen["cwd"]).exists()
    assert seen["home"] != str(Path.home()) and not Path(seen["home"]).exists()
    assert seen["prefix"] != sys.prefix and seen["pip"] == f"{seen['prefix']}/bin/pip"
    assert str(Path(sys.executable).parent) not in seen["path"].split(":")


def test_the_targets_source_shadows_an_installed_library_of_the_same_name(
    tmp_path: Path,
) -> None:
    pytest.importorskip("click")  # installed in the worker's environment (gradio needs it)
    root = write_target(tmp_path, {
        "src/click/__init__.py": "MARK = 'the target'\n",
        "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
        "tests/test_mark.py": "import click\n\n\ndef test_mark():\n"
                              "    assert click.MARK == 'the target'\n",
    })  # fmt: skip
    run = run_tests([], source_root=root, timeout_s=300)
    assert run.summary() == {"passed": 1, "failed": 0, "error": 0, "skipped": 0, "total": 1}


def test_testpaths_come_from_the_file_pytest_reads_else_the_root(tmp_path: Path) -> None:
    root = write_target(tmp_path, {
        "setup.cfg": "[tool:pytest]\ntestpaths = checks\n", "checks/test_a.py": "",
        "pyproject.toml": "[tool.black]\nline-length = 100\n",
    })  # fmt: skip
    assert configured_testpaths(root) == [root / "checks"]
    (root / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert configured_testpaths(root) == [root]


def test_a_cached_environment_is_reused_and_discarded_once_a_test_changed_it(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"calc.py": ""})
    with testenv.test_environment(tmp_path / "cache", root) as first:
        pass
    with testenv.test_environment(tmp_path / "cache", root) as second:
        (second.site_packages / "installed_by_a_test.py").write_text("")
    assert first.folder == second.folder and not second.folder.exists()
    with testenv.test_environment(tmp_path / "cache", root) as third:
        assert not (third.site_packages / "installed_by_a_test.py").exists()


CALC = "def add(a: int, b: int) -> int:\n    if a < 0:\n        raise TypeError('negative')\n" \
       "    return a + b\n"  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "broken"),
    [
        ("def test_it():\n    assert add(1) == 1\n", "error", True),  # arguments do not bind
        ("def test_it():\n    assert add(undefined, 1)\n", "error", True),
        ("def test_it():\n    with pytest.raises(len):\n        add(1, 2)\n", "error", True),
        ("@pytest.fixture\ndef made():\n    raise RuntimeError('x')\n\n\n"
         "def test_it(made):\n    pass\n", "error", True),
        ("def test_it():\n    assert add(1, 1) == 3\n", "failed", False),  # a verdict
        ("def test_it():\n    add(-1, 1)\n", "failed", False),  # raised in the code under test
        ("def test_it():\n    with pytest.raises(ValueError):\n        add(1, 1)\n", "failed", False),
        # a fault injected into a fake the call never reached: "DID NOT RAISE" proves nothing
        ("def test_it():\n    from unittest import mock\n\n    fake = mock.MagicMock()\n"
         "    fake.side_effect = OSError('injected')\n    with pytest.raises(OSError):\n"
         "        add(1, 1)\n", "error", True),
        # raised in the test's own lines after the call: a fake it never set up
        ("def test_it():\n    fakes = {}\n    add(1, 1)\n    assert fakes['shutil'].called\n",
         "error", True),
    ],
)  # fmt: skip
def test_a_test_that_breaks_on_its_own_code_is_a_broken_test_never_a_possible_bug(
    tmp_path: Path, body: str, status: str, broken: bool
) -> None:
    root = write_target(tmp_path, {"calc.py": CALC})
    spec = _spec("calc:add", body, file="calc.py").model_copy(
        update={"test_code": f"import pytest\n\nfrom calc import add\n\n\n{body}"}
    )
    ran = run_generated_tests(root, [spec], 300)[0]
    assert (ran.status, is_broken(ran)) == (status, broken), ran.status_detail
    kept, dropped = without_broken([ran])
    assert (kept, list(dropped)) == (([], [ran.id]) if broken else ([ran], []))


def test_a_test_of_code_that_waits_for_a_terminal_is_broken_not_a_possible_bug(
    tmp_path: Path,
) -> None:
    root = write_target(
        tmp_path, {"ask.py": "def ask(question: str) -> str:\n    return input(question)\n"}
    )
    body = "def test_it():\n    assert ask('name? ') == 'x'\n"
    spec = _spec("ask:ask", body, file="ask.py").model_copy(
        update={"test_code": f"import pytest\n\nfrom ask import ask\n\n\n{body}"}
    )
    ran = run_generated_tests(root, [spec], 300)[0]
    assert ran.status == "error" and is_broken(ran), ran.status_detail
    assert "stdin" in ran.status_detail


@pytest.mark.parametrize(
    "serve",
    [
        "from werkzeug.serving import run_simple\n\n\ndef serve(app):\n    run_simple('0.0.0.0', 80, app)\n",
        "import uvicorn\n\n\ndef serve(app):\n    uvicorn.run(app)\n",
        "from http.server import HTTPServer\n\n\ndef serve(app):\n    HTTPServer(('', 80), app).serve_forever()\n",
    ],
)
def test_a_test_of_code_that_starts_a_server_is_unsafe(tmp_path: Path, serve: str) -> None:
    ctx = context(write_target(tmp_path, {"web/__init__.py": "", "web/run.py": serve}), tmp_path)
    spec = _spec(
        "web.run:serve", "from web.run import serve\n\n\ndef test_it():\n    serve(None)\n"
    )
    how = unfaked_reach(spec, call_graph(ctx))
    assert how is not None and "uses the network" in how, how


def test_a_test_of_code_that_needs_a_framework_context_is_broken_not_a_possible_bug(
    tmp_path: Path,
) -> None:
    code = (
        "def current():\n    raise RuntimeError('Working outside of application context.\\n\\n"
        "This typically means...')\n"
    )
    root = write_target(tmp_path, {"ctx.py": code})
    body = "def test_it():\n    assert current() is None\n"
    spec = _spec("ctx:current", body, file="ctx.py").model_copy(
        update={"test_code": f"import pytest\n\nfrom ctx import current\n\n\n{body}"}
    )
    ran = run_generated_tests(root, [spec], 300)[0]
    assert ran.status == "error" and is_broken(ran), ran.status_detail


PROMPTS = {
    "cli/__init__.py": "",
    "cli/ask.py": (
        "import getpass\n\nprompt_func = input\n\n\n"
        "def ask(question: str) -> str:\n    return prompt_func(question)\n\n\n"
        "def secret() -> str:\n    return getpass.getpass('token: ')\n\n\n"
        "def main() -> None:\n    print(ask('name? '))\n"
    ),
}


@pytest.mark.parametrize(
    ("subject", "body", "waits"),
    [
        ("cli.ask:ask", "    ask('name? ')\n", True),  # through a module-level alias of input
        ("cli.ask:secret", "    secret()\n", True),
        ("cli.ask:main", "    from click.testing import CliRunner\n\n"
         "    CliRunner().invoke(main, input='x\\n')\n", False),  # the runner answers
    ],
)  # fmt: skip
def test_a_test_of_code_that_waits_for_the_terminal_is_unsafe_unless_a_runner_answers(
    tmp_path: Path, subject: str, body: str, waits: bool
) -> None:
    ctx = context(write_target(tmp_path, PROMPTS), tmp_path)
    spec = _spec(subject, f"from cli.ask import ask, main, secret\n\n\ndef test_it():\n{body}")
    how = unfaked_reach(spec, call_graph(ctx))
    assert (how is not None and "terminal" in how) if waits else how is None, how
