"""The security fixer family: each bandit / web-rule finding routed to its codemod, which
rewrites only the flagged call (and the imports it needs) or refuses with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from autocoder.engine.perspective import RunOptions
from autocoder.errors import FixerError
from autocoder.workers.implementation.fixers import security
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.workitem import WorkItem, item_id

FILE = "pkg/mod.py"


def _item(rule: str, line: int, tool: str = "bandit", file: str = FILE) -> WorkItem:
    return WorkItem(
        id=item_id("finding", f"{tool}{rule}{line}"), kind="finding", source="Security Audit",
        tool=tool, rule=rule, severity="medium", file=file, line=line, message="flagged",
    )  # fmt: skip


def _target(root: Path, source: str, extra: dict[str, str] | None = None) -> Path:
    for name, text in {FILE: source, **(extra or {})}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _offered(tmp_path: Path, source: str, rule: str, line: int, **kw: str) -> list[Fix]:
    return security.fixes(_item(rule, line, **kw), _target(tmp_path / "t", source), RunOptions())


def _applied(tmp_path: Path, fix: Fix, source: str) -> str:
    scratch = _target(tmp_path / "scratch", source)
    assert fix.apply(scratch) == [FILE]
    return (scratch / FILE).read_text()


def _only_fix(tmp_path: Path, source: str, rule: str, line: int, **kw: str) -> tuple[Fix, str]:
    offered = _offered(tmp_path, source, rule, line, **kw)
    assert len(offered) == 1
    return offered[0], _applied(tmp_path, offered[0], source)


def _refused(tmp_path: Path, source: str, rule: str, line: int, **kw: str) -> str:
    with pytest.raises(FixerError) as refused:
        _offered(tmp_path, source, rule, line, **kw)
    return str(refused.value)


def test_security_family_routes_each_rule_and_offers_nothing_for_an_unknown_one(
    tmp_path: Path,
) -> None:
    assert {"B608", "B113", "B506", "B602", "B324", "B701", "B311", "B201"} <= security.RULES
    assert {"AC-WEB-SQLI", "AC-WEB-AUTOESCAPE", "AC-WEB-DEBUG"} <= security.RULES
    assert _offered(tmp_path, "import os\n", "B306", 1) == []  # mktemp: refused by design


def test_security_family_refuses_a_file_that_does_not_parse(tmp_path: Path) -> None:
    assert "does not parse" in _refused(tmp_path, "import requests\nrequests.get(\n", "B113", 2)


def test_security_fix_apply_raises_fixer_error_when_the_scratch_file_no_longer_parses(
    tmp_path: Path,
) -> None:
    fix = _offered(tmp_path, "import requests\nrequests.get(url)\n", "B113", 2)[0]
    scratch = _target(tmp_path / "scratch", "def broken(:\n")
    with pytest.raises(FixerError, match="does not parse"):
        fix.apply(scratch)


def test_requests_timeout_codemod_adds_timeout_to_a_get_call_and_nothing_else(
    tmp_path: Path,
) -> None:
    source = "import requests\n\nA = requests.get(url)  # keep\nB = requests.get(url)\n"
    fix, fixed = _only_fix(tmp_path, source, "B113", 3)
    assert (
        fixed
        == "import requests\n\nA = requests.get(url, timeout=30)  # keep\nB = requests.get(url)\n"
    )
    assert (fix.fixer, fix.safe) == ("libcst:requests-timeout", False)


def test_requests_timeout_codemod_keeps_a_one_argument_per_line_layout(tmp_path: Path) -> None:
    source = "import requests\n\nr = requests.post(\n    url,\n    data=body,\n)\n"
    _, fixed = _only_fix(tmp_path, source, "B113", 3)
    assert (
        fixed
        == "import requests\n\nr = requests.post(\n    url,\n    data=body,\n    timeout=30,\n)\n"
    )


def test_requests_timeout_codemod_refuses_a_call_passing_kwargs(tmp_path: Path) -> None:
    assert "**kwargs" in _refused(tmp_path, "import requests\nrequests.get(url, **kw)\n", "B113", 2)


def test_yaml_codemod_switches_to_safe_load_and_drops_the_freed_loader_import(
    tmp_path: Path,
) -> None:
    source = "from yaml import Loader, load\n\ndata = load(stream, Loader=Loader)\n"
    fix, fixed = _only_fix(tmp_path, source, "B506", 3)
    assert fixed == "from yaml import safe_load\n\ndata = safe_load(stream)\n"
    assert fix.fixer == "libcst:yaml-safe-load"


def test_yaml_codemod_refuses_a_loader_of_the_codes_own(tmp_path: Path) -> None:
    source = "import yaml\n\ndata = yaml.load(stream, Loader=MyLoader)\n"
    assert "not a loader known to be unsafe" in _refused(tmp_path, source, "B506", 3)


def test_subprocess_codemod_splits_a_plain_literal_command_and_drops_shell(
    tmp_path: Path,
) -> None:
    source = "import subprocess\n\nsubprocess.run(\"ls -l 'my dir'\", shell=True, check=True)\n"
    _, fixed = _only_fix(tmp_path, source, "B602", 3)
    assert fixed == 'import subprocess\n\nsubprocess.run(["ls", "-l", "my dir"], check=True)\n'


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("'ls | wc -l'", "shell syntax"),
        ("'echo $HOME'", "shell syntax"),
        ("'cd /tmp'", "builtin"),
        ("cmd", "not one str literal"),
        ("'ls \"unclosed'", "cannot be split"),
    ],
)
def test_subprocess_codemod_refuses_commands_that_need_the_shell(
    tmp_path: Path, command: str, why: str
) -> None:
    source = f"import subprocess\n\nsubprocess.run({command}, shell=True)\n"
    assert why in _refused(tmp_path, source, "B602", 3)


def test_hash_codemod_offers_usedforsecurity_first_for_a_checksum(tmp_path: Path) -> None:
    source = "import hashlib\n\netag = hashlib.md5(body).hexdigest()\n"
    offered = _offered(tmp_path, source, "B324", 3)
    assert [(f.fixer, f.safe) for f in offered] == [
        ("libcst:hash-usedforsecurity", True),
        ("libcst:hash-sha256", False),
    ]
    assert _applied(tmp_path, offered[0], source) == (
        "import hashlib\n\netag = hashlib.md5(body, usedforsecurity=False).hexdigest()\n"
    )
    assert _applied(tmp_path, offered[1], source) == (
        "import hashlib\n\netag = hashlib.sha256(body).hexdigest()\n"
    )


def test_hash_codemod_offers_only_sha256_where_the_line_names_a_password(
    tmp_path: Path,
) -> None:
    source = "import hashlib\n\nstored = hashlib.new('sha1', password).hexdigest()\n"
    fix, fixed = _only_fix(tmp_path, source, "B324", 3)
    assert fixed == "import hashlib\n\nstored = hashlib.new('sha256', password).hexdigest()\n"
    assert "KDF" in fix.rationale


def test_hash_codemod_skips_usedforsecurity_when_the_project_supports_python_3_8(
    tmp_path: Path,
) -> None:
    pyproject = '[project]\nname = "x"\nrequires-python = ">=3.8"\n'
    root = _target(
        tmp_path / "t", "import hashlib\nh = hashlib.md5(b)\n", {"pyproject.toml": pyproject}
    )
    offered = security.fixes(_item("B324", 2), root, RunOptions())
    assert [f.fixer for f in offered] == ["libcst:hash-sha256"]


def test_jinja_codemod_adds_select_autoescape_with_its_import(tmp_path: Path) -> None:
    source = "from jinja2 import Environment\n\nenv = Environment(loader=loader)\n"
    _, fixed = _only_fix(tmp_path, source, "B701", 3)
    assert fixed == (
        "from jinja2 import select_autoescape, Environment\n\n"
        "env = Environment(loader=loader, autoescape=select_autoescape())\n"
    )


def test_jinja_codemod_leaves_an_autoescape_chosen_by_the_code(tmp_path: Path) -> None:
    source = "import jinja2\n\nenv = jinja2.Environment(autoescape=flag)\n"
    assert "the code's choice" in _refused(
        tmp_path, source, "AC-WEB-AUTOESCAPE", 3, tool="autocoder-web"
    )


def test_random_codemod_draws_from_secrets_and_drops_the_unused_random_import(
    tmp_path: Path,
) -> None:
    source = "import random\n\ntoken = ''.join(random.choice(ALPHABET) for _ in range(20))\n"
    _, fixed = _only_fix(tmp_path, source, "B311", 3)
    assert fixed == (
        "import secrets\n\ntoken = ''.join(secrets.choice(ALPHABET) for _ in range(20))\n"
    )


def test_random_codemod_uses_system_random_for_randint(tmp_path: Path) -> None:
    source = "import random\n\npin = random.randint(1000, 9999)\nm = random.random()\n"
    _, fixed = _only_fix(tmp_path, source, "B311", 3)
    assert fixed == (
        "import random\nimport secrets\n\npin = secrets.SystemRandom().randint(1000, 9999)\n"
        "m = random.random()\n"
    )


def test_random_codemod_refuses_a_draw_that_guards_nothing(tmp_path: Path) -> None:
    source = "import random\n\n\ndef lorem(words):\n    return random.sample(words, 5)\n"
    assert "names a token, password" in _refused(tmp_path, source, "B311", 5)


def test_random_codemod_refuses_a_seeded_module(tmp_path: Path) -> None:
    source = "import random\nrandom.seed(7)\ntoken = random.choice(items)\n"
    assert "random.seed" in _refused(tmp_path, source, "B311", 3)


def test_flask_debug_codemod_removes_debug_true_from_app_run(tmp_path: Path) -> None:
    source = (
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        "if __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n"
    )
    _, fixed = _only_fix(tmp_path, source, "B201", 6)
    assert fixed == source.replace(", debug=True)", ")")


def test_a_finding_in_a_test_file_gets_no_security_fix(tmp_path: Path) -> None:
    """The same debug run the codemod above fixes in the app is left alone in a test."""
    source = "from flask import Flask\n\napp = Flask(__name__)\napp.run(debug=True)\n"
    item = _item("B201", 4, file="tests/test_app.py")
    root = _target(tmp_path / "t", "", {"tests/test_app.py": source})
    with pytest.raises(FixerError, match=r"tests/test_app\.py:4 is in a test file"):
        security.fixes(item, root, RunOptions())


def test_flask_debug_codemod_refuses_a_run_of_something_not_a_flask_app(tmp_path: Path) -> None:
    source = "import unittest\n\nrunner.run(debug=True)\n"
    assert "found none" in _refused(tmp_path, source, "B201", 3)


def test_hash_codemod_reads_the_function_around_the_line_to_spot_a_signature(
    tmp_path: Path,
) -> None:
    source = "import hashlib\n\n\ndef sign_cookie(value):\n    return hashlib.sha1(value)\n"
    assert [f.fixer for f in _offered(tmp_path, source, "B324", 5)] == ["libcst:hash-sha256"]


def test_codemod_wraps_a_call_its_change_pushes_past_the_line_length(tmp_path: Path) -> None:
    call = "requests.get(f'{BASE}/a/rather/long/path/to/an/endpoint', headers=HEADERS)"
    source = f"import requests\n\n\ndef fetch():\n    return {call}\n"
    _, fixed = _only_fix(tmp_path, source, "B113", 5)
    assert fixed == (
        "import requests\n\n\ndef fetch():\n    return requests.get(\n"
        "        f'{BASE}/a/rather/long/path/to/an/endpoint', headers=HEADERS, timeout=30\n"
        "    )\n"
    )


def test_codemod_puts_one_argument_per_line_under_the_projects_own_line_length(
    tmp_path: Path,
) -> None:
    source = "import requests\n\nr = requests.get(url, headers=HEADERS)\n"
    pyproject = "[tool.ruff]\nline-length = 30\n"
    root = _target(tmp_path / "t", source, {"pyproject.toml": pyproject})
    fix = security.fixes(_item("B113", 3), root, RunOptions())[0]
    scratch = _target(tmp_path / "scratch", source, {"pyproject.toml": pyproject})
    fix.apply(scratch)
    assert (scratch / FILE).read_text() == (
        "import requests\n\nr = requests.get(\n    url,\n    headers=HEADERS,\n    timeout=30,\n)\n"
    )


def test_xml_codemod_switches_the_parse_call_to_defusedxml_when_it_is_declared(
    tmp_path: Path,
) -> None:
    source = (
        "import xml.etree.ElementTree as ET\n\nroot = ET.fromstring(data)\nel = ET.Element('a')\n"
    )
    root = _target(tmp_path / "t", source, {"requirements.txt": "defusedxml>=0.7\n"})
    fix = security.fixes(_item("B314", 3), root, RunOptions())[0]
    assert _applied(tmp_path, fix, source) == (
        "import xml.etree.ElementTree as ET\nimport defusedxml.ElementTree\n\n"
        "root = defusedxml.ElementTree.fromstring(data)\nel = ET.Element('a')\n"
    )
    assert "already declares" in fix.rationale


def test_xml_codemod_refuses_when_defusedxml_is_not_a_declared_dependency(
    tmp_path: Path,
) -> None:
    source = "import xml.etree.ElementTree as ET\n\nroot = ET.fromstring(data)\n"
    assert "does not declare defusedxml" in _refused(tmp_path, source, "B314", 3)


def test_xml_codemod_refuses_arguments_defusedxml_reads_differently(tmp_path: Path) -> None:
    source = "import xml.etree.ElementTree as ET\n\nroot = ET.fromstring(data, parser)\n"
    root = _target(tmp_path / "t", source, {"requirements.txt": "defusedxml\n"})
    with pytest.raises(FixerError, match="reads them differently"):
        security.fixes(_item("B314", 3), root, RunOptions())


def test_yaml_rule_on_a_pickle_line_is_refused_not_guessed(tmp_path: Path) -> None:
    source = "import pickle\n\nobj = pickle.loads(request.data)\n"
    assert "found none" in _refused(tmp_path, source, "AC-WEB-DESERIALIZE", 3, tool="autocoder-web")
