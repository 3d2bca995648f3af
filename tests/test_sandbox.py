"""A hostile target runs no code in the analysers' subprocesses and no subprocess sees a token.

The target built here shadows the stdlib and every tool (``argparse.py``, ``ruff.py``, a ``.pth``
file, ...) at its root and inside its package; each shadow, if ever imported, writes a marker
file outside the target holding the environment it saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autocoder.engine import sandbox, toolkit
from autocoder.engine.sources import SourceFiles
from autocoder.engine.target import Target
from autocoder.errors import PerspectiveSkipped, ToolError, ToolTimeout
from autocoder.workers.analysis.perspectives import test_coverage
from autocoder.workers.analysis.spec import analysis_spec
from autocoder.workers.test_planning import spec as test_planning
from autocoder.workers.test_planning.perspectives.failure_modes import FailureModeAnalysis

from perspectivekit import context, write_files

SHADOWS = ("argparse", "json", "ruff", "bandit", "deptry", "detect_secrets", "radon", "grimp",
           "coverage", "pytest", "sitecustomize", "usercustomize", "typing", "pip_audit",
           "tomllib", "enum", "re")  # fmt: skip
# Each shadow and hook writes the environment it saw to a marker file named after itself.
MARKER = (
    "import os as _os\n"
    "with open({folder!r} + '/{name}-' + str(_os.getpid()), 'w', encoding='utf-8') as _f:\n"
    "    _f.write('\\n'.join(k + '=' + v for k, v in _os.environ.items()))\n"
)
CORE = (  # what Code Quality must still find: F401, B006, E711, E722
    "import os\n\n\ndef total(items=[]):\n    if items == None:\n        return 0\n    try:\n"
    "        return sum(items)\n    except:\n        return -1\n"
)
RUNNER = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
TOKENS = {
    "HF_TOKEN": "hf_" + "q7" * 17,
    "GITHUB_TOKEN": "ghp_" + "x9" * 18,
    "AUTOCODER_ADMIN_TOKEN": "admin-" + "z3" * 12,
    "AWS_SECRET_ACCESS_KEY": "aws/" + "K1" * 18,
}


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The worker's tokens, and a real HOME, in os.environ."""
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "realhome").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "realhome"))
    return TOKENS


def shadow_files(markers: Path) -> dict[str, str]:
    """A marker-writing shadow of each module, at the root and inside package ``app``, and a
    ``.pth`` file beside them."""
    files: dict[str, str] = {}
    for name in SHADOWS:
        for where in ("", "app/"):
            files[f"{where}{name}.py"] = MARKER.format(folder=str(markers), name=f"{where}{name}")
    pth = f"import os; exec({MARKER.format(folder=str(markers), name='pth')!r})\n"
    files["zz_hostile.pth"] = files["app/zz_hostile.pth"] = pth
    return files


@pytest.fixture
def hostile(tmp_path: Path, markers: Path) -> Path:
    """A target shadowing the stdlib and the tools, with real defects for each analyser."""
    return write_files(tmp_path / "target", {
        **shadow_files(markers),
        "app/__init__.py": "",
        "app/core.py": CORE,
        "app/runner.py": RUNNER,
        "app/keys.py": f'AWS_ACCESS_KEY_ID = "AKIA{"Q" * 16}"\n',
        "app/loader.py": "import leftpad_never_installed\n\nPAD = leftpad_never_installed.pad\n",
        "pyproject.toml": '[project]\nname = "app"\nversion = "1"\ndependencies = ["requests"]\n',
        "tests/test_core.py": "from app.core import total\n\n\ndef test_total():\n"
        "    assert total([1]) == 1\n",
    })  # fmt: skip


def written(markers: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(markers.iterdir())}


def test_the_hostile_fixtures_write_their_markers_when_run_the_ordinary_way(
    hostile: Path, hostile_repo: Path, markers: Path
) -> None:
    """The control: what every other test here expects never to happen does happen unguarded."""
    program = f"import json, site; site.addsitedir({str(hostile)!r})"
    subprocess.run([sys.executable, "-c", program], cwd=hostile, check=True)
    subprocess.run(["git", "ls-files"], cwd=hostile_repo, check=True, capture_output=True)
    assert {name.rsplit("-", 1)[0] for name in written(markers)} >= {"json", "pth", "git-hook"}


def test_shadow_modules_and_tokens_of_a_hostile_target_never_reach_the_six_analysers(
    hostile: Path, markers: Path, tmp_path: Path, tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("PYTHONPATH", str(hostile))  # even this would not make the target importable
    results = {p.id: p.run(context(hostile, tmp_path)) for p in analysis_spec().registry}
    assert written(markers) == {}
    rules = {(f.file, f.rule) for f in results["code_quality"].findings}
    assert {("app/core.py", rule) for rule in ("F401", "B006", "E711", "E722")} <= rules
    assert ("app/runner.py", "B602") in {(f.file, f.rule) for f in results["security"].findings}
    assert "app/keys.py" in {f.file for f in results["security"].findings if f.tool != "bandit"}
    deptry_rules = {f.rule for f in results["dependencies"].findings}
    assert {"DEP001", "DEP002"} <= deptry_rules
    assert results["architecture"].metrics  # grimp read the package, in process, not imported


def test_the_fifteen_test_planning_perspectives_import_nothing_of_a_hostile_target(
    hostile: Path, markers: Path, tmp_path: Path, tokens: dict[str, str]
) -> None:
    registry = test_planning.test_planning_spec().registry
    ran = 0
    for perspective in registry:
        try:
            perspective.run(context(hostile, tmp_path))
            ran += 1
        except PerspectiveSkipped:
            pass
    assert len(registry) == 15 and ran > 0
    assert written(markers) == {}


@pytest.mark.parametrize(
    "module", ["ruff", "bandit", "deptry", "detect_secrets", "pip_audit", "coverage", "pytest"]
)
def test_each_tool_runs_its_real_module_from_a_folder_that_shadows_it(
    module: str, hostile: Path, markers: Path, tokens: dict[str, str]
) -> None:
    done = toolkit.run_tool([module, "--version"], cwd=hostile, timeout_s=120, ok_codes=(0,))
    assert written(markers) == {}
    assert any(ch.isdigit() for ch in done.stdout + done.stderr)


def test_a_tool_sees_no_token_only_what_it_is_given_and_a_home_of_its_own(
    tmp_path: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "site.settings")
    monkeypatch.setenv("SOME_API_KEY", "k" * 20)
    program = "import json, os; print(json.dumps(dict(os.environ)))"
    done = sandbox.run_isolated(
        [sys.executable, "-I", "-c", program], cwd=tmp_path, timeout_s=60,
        pass_env=("DJANGO_SETTINGS_MODULE", "GITHUB_TOKEN", "SOME_API_KEY"), env={"EXTRA": "1"},
    )  # fmt: skip
    seen: dict[str, str] = json.loads(done.stdout)
    assert not set(seen) & {*tokens, "SOME_API_KEY", "PYTHONPATH"}
    assert not any(value in done.stdout for value in tokens.values())
    assert seen["DJANGO_SETTINGS_MODULE"] == "site.settings" and seen["EXTRA"] == "1"
    home = Path(seen["HOME"])
    assert home != Path(os.environ["HOME"]) and Path(seen["TMPDIR"]).parent == home.parent
    assert not home.parent.exists()  # made for the call, removed after it


def _target_with_tests(tmp_path: Path, markers: Path) -> Path:
    """A flat target whose package, when imported by any test, writes what the test saw."""
    return write_files(tmp_path / "calc-target", {
        "calc/__init__.py": MARKER.format(folder=str(markers), name="calc"),
        "calc/ops.py": "def check(n: int) -> int:\n    if n < 0:\n        raise ValueError(n)\n"
        "    return n\n",
        "tests/test_ops.py": "from calc.ops import check\n\n\ndef test_check():\n"
        "    assert check(2) == 2\n",
    })  # fmt: skip


def _assert_no_token_and_not_the_real_home(seen: str, tokens: dict[str, str], home: str) -> None:
    env = dict(line.split("=", 1) for line in seen.splitlines() if "=" in line)
    assert not set(env) & set(tokens) and not any(v in seen for v in tokens.values())
    assert env["HOME"] != home and "PYTHONPATH" in env


def test_opted_in_target_tests_run_without_tokens_and_with_a_home_of_their_own(
    tmp_path: Path, markers: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _target_with_tests(tmp_path, markers)
    result = test_coverage.TestCoverageAnalysis().run(
        context(root, tmp_path, run_target_tests=True, tool_timeout_s=120)
    )
    assert result.metrics["line_coverage"]["pytest_exit_code"] == 0
    (coverage_run,) = written(markers).values()
    _assert_no_token_and_not_the_real_home(coverage_run, tokens, os.environ["HOME"])
    for marker in markers.iterdir():
        marker.unlink()
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "calc.no_such_settings")  # passed through
    specs = FailureModeAnalysis().run(context(root, tmp_path / "2", run_target_tests=True)).items
    assert specs and {getattr(s, "status", None) for s in specs} == {"passed"}
    (generated_run,) = written(markers).values()
    _assert_no_token_and_not_the_real_home(generated_run, tokens, os.environ["HOME"])
    assert "DJANGO_SETTINGS_MODULE=calc.no_such_settings" in generated_run.splitlines()


def _git(repo: Path, *args: str) -> None:
    """The test's own git on the hostile repo: with its hooks, monitor and filter switched off."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.x", "HOME": str(repo), "PATH": "/usr/bin:/bin",
           "GIT_CONFIG_GLOBAL": "/dev/null"}  # fmt: skip
    safe = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c",
            "filter.evil.clean=cat", "-c", "filter.evil.smudge=cat"]  # fmt: skip
    subprocess.run(["git", *safe, *args], cwd=repo, check=True, capture_output=True, env=env)


def _hook(tmp_path: Path, markers: Path) -> Path:
    """A program that, if git ever runs it, writes a marker and passes its input through."""
    hook = tmp_path / "hook.py"
    hook.write_text(f"#!{sys.executable}\nimport sys\n" + MARKER.format(folder=str(markers),
                    name="git-hook") + "sys.stdout.write(sys.stdin.read())\n")  # fmt: skip
    hook.chmod(0o755)
    return hook


@pytest.fixture
def hostile_repo(tmp_path: Path, markers: Path) -> Path:
    """A git repo whose own config names a monitor, a filter driver and hooks that write markers."""
    repo = write_files(tmp_path / "repo", {"a.py": "A = 1\n", ".gitattributes": "* filter=evil\n"})
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "one")
    hook, hooks = _hook(tmp_path, markers), repo / ".git" / "hooks"
    for name in ("post-checkout", "post-index-change", "reference-transaction", "post-merge"):
        (hooks / name).symlink_to(hook)
    for key in ("core.fsmonitor", "filter.evil.smudge", "filter.evil.clean", "core.sshCommand"):
        _git(repo, "config", key, str(hook))
    return repo


def test_git_on_a_hostile_local_checkout_runs_none_of_its_config(
    hostile_repo: Path, markers: Path, tmp_path: Path, tokens: dict[str, str]
) -> None:
    checkout = Target(str(hostile_repo), tmp_path / "clones").prepare()
    files = SourceFiles.discover(hostile_repo).files
    assert checkout.commit is not None and len(checkout.commit) == 40
    assert files == [".gitattributes", "a.py"]
    assert written(markers) == {}


def test_clone_fetch_and_reset_never_run_a_filter_of_the_workers_git_config(
    hostile_repo: Path, markers: Path, tmp_path: Path, tokens: dict[str, str]
) -> None:
    hook, hooks = _hook(tmp_path, markers), tmp_path / "global-hooks"
    hooks.mkdir()
    for name in ("post-checkout", "post-merge", "reference-transaction"):
        (hooks / name).symlink_to(hook)
    (tmp_path / "realhome" / ".gitconfig").write_text(
        f'[filter "evil"]\n\tsmudge = {hook}\n[core]\n\thooksPath = {hooks}\n'
    )
    target = Target(f"file://{hostile_repo}", tmp_path / "clones", fetch_interval_s=0)
    first = target.prepare()
    (hostile_repo / "b.py").write_text("B = 2\n")
    _git(hostile_repo, "add", "-A")
    _git(hostile_repo, "commit", "-qm", "two")
    second = target.prepare()  # fetch, then reset --hard
    assert second.commit != first.commit and (second.root / "b.py").read_text() == "B = 2\n"
    assert written(markers) == {}


def test_a_child_over_the_memory_limit_fails_with_the_setting_to_raise(tmp_path: Path) -> None:
    allocate = [sys.executable, "-I", "-c", "block = bytearray(512 * 1024 * 1024)"]
    limit = r"exceeded the memory limit of 256 MiB on .*; raise AUTOCODER_TOOL_MEMORY_MB"
    with pytest.raises(ToolError, match=limit):
        sandbox.run_isolated(allocate, cwd=tmp_path, timeout_s=60, memory_mb=256)
    enough = sandbox.run_isolated(allocate, cwd=tmp_path, timeout_s=60, memory_mb=2048)
    assert enough.returncode == 0


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie nobody reaps has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in {"Z", "X"}


def _wait_gone(pid: int) -> bool:
    for _ in range(200):  # the kill is sent before run_isolated returns; allow it to land
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


SPAWNER = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "open(sys.argv[1], 'w').write(str(child.pid))\n"
    "if sys.argv[2] == 'hang':\n    time.sleep(600)\n"
)


def test_a_timeout_kills_the_child_and_the_children_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    command = [sys.executable, "-I", "-c", SPAWNER, str(pid_file), "hang"]
    with pytest.raises(ToolTimeout, match="ran longer than 3s"):
        sandbox.run_isolated(command, cwd=tmp_path, timeout_s=3, what="spawner")
    assert _wait_gone(int(pid_file.read_text()))


def test_children_a_tool_leaves_behind_are_killed_when_it_exits(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    command = [sys.executable, "-I", "-c", SPAWNER, str(pid_file), "exit"]
    assert sandbox.run_isolated(command, cwd=tmp_path, timeout_s=60).returncode == 0
    assert _wait_gone(int(pid_file.read_text()))
