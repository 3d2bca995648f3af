"""The AC-WEB rules on a planted-vulnerability web app (tests/fixtures/vulnweb) and on small
targets: every planted line found under its rule, nothing on a safe look-alike or elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding
from autocoder.workers.analysis.perspectives._web_rules import web_findings

from perspectivekit import write_target

VULNWEB = Path(__file__).parent / "fixtures" / "vulnweb"
MARK = re.compile(r"\b(planted|safe): (AC-WEB-[A-Z-]+)")
RULES = {
    "AC-WEB-AUTOESCAPE", "AC-WEB-COMMAND", "AC-WEB-COOKIE", "AC-WEB-CSRF", "AC-WEB-DEBUG",
    "AC-WEB-DESERIALIZE", "AC-WEB-HARDCODED-SECRET", "AC-WEB-MARK-SAFE", "AC-WEB-OPEN-REDIRECT",
    "AC-WEB-PATH-TRAVERSAL",
    "AC-WEB-SAFE-FILTER", "AC-WEB-SQLI", "AC-WEB-SSRF", "AC-WEB-SSTI",
}  # fmt: skip


def marks(kind: str) -> set[tuple[str, int, str]]:
    """(file, line, rule) of every ``planted:`` or ``safe:`` mark in the fixture."""
    found = set()
    for path in sorted(VULNWEB.rglob("*")):
        if path.is_file():
            for number, text in enumerate(path.read_text().splitlines(), start=1):
                for m in MARK.finditer(text):
                    if m.group(1) == kind:
                        found.add((path.relative_to(VULNWEB).as_posix(), number, m.group(2)))
    return found


@pytest.fixture(scope="module")
def vulnweb() -> list[Finding]:
    return web_findings(SourceFiles.discover(VULNWEB))


def test_every_rule_has_planted_and_safe_lines_in_the_fixture() -> None:
    assert {rule for *_, rule in marks("planted")} == RULES
    assert {rule for *_, rule in marks("safe")} == RULES


def test_every_planted_vulnerability_is_found_with_its_rule(vulnweb: list[Finding]) -> None:
    found = {(f.file, f.line, f.rule) for f in vulnweb}
    assert sorted(marks("planted") - found) == []


def test_no_finding_on_a_safe_look_alike(vulnweb: list[Finding]) -> None:
    safe_lines = {(file, line) for file, line, _ in marks("safe")}
    assert [f for f in vulnweb if (f.file, f.line) in safe_lines] == []


def test_every_finding_is_a_planted_one(vulnweb: list[Finding]) -> None:
    assert sorted((f.file, f.line, f.rule) for f in vulnweb) == sorted(marks("planted"))


def test_messages_name_the_cwe_and_withhold_secret_values(vulnweb: list[Finding]) -> None:
    assert all(re.search(r"CWE-\d+", f.message) for f in vulnweb)
    secrets = [f for f in vulnweb if f.rule == "AC-WEB-HARDCODED-SECRET"]
    assert secrets and not any("s3cr3t" in f.message or "insecure" in f.message for f in secrets)
    assert {f.tool for f in vulnweb} == {"autocoder-web"}


def test_injection_rules_are_high_and_settings_medium(vulnweb: list[Finding]) -> None:
    severity = {f.rule: f.severity for f in vulnweb if f.rule in {"AC-WEB-SQLI", "AC-WEB-DEBUG"}}
    assert severity == {"AC-WEB-SQLI": "high", "AC-WEB-DEBUG": "medium"}


def rules_in(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int]]:
    root = write_target(tmp_path, files)
    return [(f.rule, f.line) for f in web_findings(SourceFiles.discover(root))]


VIEW = "from flask import request\nimport requests\n\n@app.route('/x')\ndef view():\n"


def test_request_data_keeps_its_taint_through_assignments(tmp_path: Path) -> None:
    body = "    a = request.args['u']\n    b = a.strip()\n    c = f'http://{b}'\n"
    assert rules_in(tmp_path, {"v.py": VIEW + body + "    requests.get(c)\n"}) == [
        ("AC-WEB-SSRF", 9)
    ]


def test_a_name_reassigned_to_a_constant_is_clean_again(tmp_path: Path) -> None:
    body = "    url = request.args['u']\n    url = 'https://example.com'\n    requests.get(url)\n"
    assert rules_in(tmp_path, {"v.py": VIEW + body}) == []


def test_taint_does_not_leak_into_another_function(tmp_path: Path) -> None:
    body = "    url = request.args['u']\n\ndef other(url):\n    requests.get(url)\n"
    assert rules_in(tmp_path, {"v.py": VIEW + body}) == []


def test_django_view_parameters_with_defaults_are_not_url_parameters(tmp_path: Path) -> None:
    code = (
        "def change(self, request, object_id, extra=None):\n    open(object_id)\n    open(extra)\n"
    )
    assert rules_in(tmp_path, {"admin.py": code}) == [("AC-WEB-PATH-TRAVERSAL", 2)]


def test_a_path_checked_against_its_folder_is_not_reported(tmp_path: Path) -> None:
    body = "    p = base / request.args['f']\n    if p.resolve().is_relative_to(base):\n"
    code = VIEW + body + "        return open(p).read()\n"
    assert rules_in(tmp_path, {"v.py": code}) == []
    assert rules_in(tmp_path, {"v.py": code.replace(".is_relative_to(base)", "")}) == [
        ("AC-WEB-PATH-TRAVERSAL", 8)
    ]


def test_framework_defaults_module_is_not_a_deployment_setting(tmp_path: Path) -> None:
    code = "DEBUG = True\nSESSION_COOKIE_SECURE = False\n"
    assert rules_in(tmp_path, {"conf/global_settings.py": code}) == []
    assert rules_in(tmp_path, {"conf/settings.py": code}) == [
        ("AC-WEB-DEBUG", 1), ("AC-WEB-COOKIE", 2)
    ]  # fmt: skip


def test_debug_true_outside_settings_is_an_ordinary_constant(tmp_path: Path) -> None:
    assert rules_in(tmp_path, {"pkg/flags.py": "DEBUG = True\n"}) == []


def test_cookie_flags_passed_through_options_are_not_judged(tmp_path: Path) -> None:
    code = "def save(response, **opts):\n    response.set_cookie('sid', 'v', **opts)\n"
    assert rules_in(tmp_path, {"s.py": code}) == []
    code = "def save(response):\n    response.set_cookie('sid', 'v', secure=True)\n"
    assert rules_in(tmp_path, {"s.py": code}) == [("AC-WEB-COOKIE", 2)]


def test_environment_from_another_library_is_not_jinja2(tmp_path: Path) -> None:
    code = "from other import Environment\nEnvironment(loader=None)\n"
    assert rules_in(tmp_path, {"e.py": code}) == []
    assert rules_in(tmp_path, {"e.py": code.replace("other", "jinja2")}) == [
        ("AC-WEB-AUTOESCAPE", 2)
    ]


def test_empty_secret_key_is_not_a_hard_coded_secret(tmp_path: Path) -> None:
    assert rules_in(tmp_path, {"settings.py": 'SECRET_KEY = ""\n'}) == []
    assert rules_in(tmp_path, {"settings.py": 'SECRET_KEY = "k-1"\n'}) == [
        ("AC-WEB-HARDCODED-SECRET", 1)
    ]


def test_safe_filter_is_reported_in_templates_only(tmp_path: Path) -> None:
    files = {"t/page.j2": "<p>{{ body | safe }}</p>\n", "notes.txt": "{{ body|safe }}\n"}
    assert rules_in(tmp_path, files) == [("AC-WEB-SAFE-FILTER", 1)]


def test_attributes_of_a_view_parameter_are_not_the_url(tmp_path: Path) -> None:
    code = "def render(request, page):\n    mark_safe(page.title)\n    mark_safe(page.lower())\n"
    assert rules_in(tmp_path, {"views.py": code}) == [
        ("AC-WEB-MARK-SAFE", 2), ("AC-WEB-MARK-SAFE", 3)
    ]  # fmt: skip
    severities = [
        f.severity
        for f in web_findings(SourceFiles.discover(write_target(tmp_path, {"views.py": code})))
    ]
    assert severities == ["low", "high"]


def test_a_local_variable_named_req_is_not_the_clients_request(tmp_path: Path) -> None:
    code = "import requests\n\ndef fetch(url):\n    req = Request(url)\n    requests.get(req.url)\n"
    assert rules_in(tmp_path, {"client.py": code}) == []
    flask = "from flask import request\nimport requests\n\ndef fetch():\n    requests.get(request.url)\n"
    assert rules_in(tmp_path, {"client.py": flask}) == [("AC-WEB-SSRF", 5)]


def test_a_setting_passed_to_config_update_is_reported_on_its_own_line(tmp_path: Path) -> None:
    code = "app.config.from_mapping(\n    DEBUG=False,\n    SECRET_KEY='dev',\n)\n"
    assert rules_in(tmp_path, {"app.py": code}) == [("AC-WEB-HARDCODED-SECRET", 3)]


DAO = """class Student:
    @staticmethod
    async def create(conn, name):
        q = "INSERT INTO students (name) VALUES ('%(name)s')" % {"name": name}
        async with conn.cursor() as cur:
            await cur.execute(q)

    async def rename(self, conn, name):
        await conn.execute("UPDATE students SET name = %s", (name,))
"""
HANDLER = """from dao import Student

async def students(request):
    data = await request.post()
    await Student.create(request.app["db"], data["name"])
    await Student(1).rename(None, data["name"])
"""


def test_request_data_handed_to_a_data_layer_reaches_its_sql(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"dao.py": DAO, "views.py": HANDLER})
    [sqli] = web_findings(SourceFiles.discover(root))
    assert (sqli.rule, sqli.file, sqli.line) == ("AC-WEB-SQLI", "dao.py", 6)
    assert "handed over by students() in views.py" in sqli.message


def test_a_callee_defined_twice_is_not_resolved(tmp_path: Path) -> None:
    files = {"dao.py": DAO, "views.py": HANDLER, "other.py": DAO.replace("'%(name)s'", "?")}
    assert rules_in(tmp_path, files) == []


def test_a_sink_imported_under_its_own_name_is_recognised(tmp_path: Path) -> None:
    code = VIEW + "    run(['ls', request.args['d']])\n"
    assert rules_in(tmp_path, {"v.py": "from subprocess import run\n" + code}) == [
        ("AC-WEB-COMMAND", 7)
    ]
    assert rules_in(tmp_path, {"v.py": "from tasks import run\n" + code}) == []


SETTINGS = 'MIDDLEWARE = [\n    "django.middleware.security.SecurityMiddleware",\n{}]\n'
CSRF_LINE = '    "django.middleware.csrf.CsrfViewMiddleware",\n'


def test_commented_out_csrf_middleware_is_reported_on_the_comment(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"settings.py": SETTINGS.format("    #" + CSRF_LINE[3:])})
    [finding] = web_findings(SourceFiles.discover(root))
    assert (finding.rule, finding.line) == ("AC-WEB-CSRF", 3)
    assert finding.message.startswith("CSRF middleware disabled")


def test_csrf_middleware_in_place_is_not_reported_even_beside_a_comment(tmp_path: Path) -> None:
    lines = "    # " + CSRF_LINE[4:] + CSRF_LINE
    assert rules_in(tmp_path, {"settings.py": SETTINGS.format(lines)}) == []
    assert rules_in(tmp_path, {"settings.py": SETTINGS.format(CSRF_LINE)}) == []


def test_missing_csrf_middleware_without_a_comment_is_reported_at_the_list(tmp_path: Path) -> None:
    assert rules_in(tmp_path, {"settings.py": SETTINGS.format("")}) == [("AC-WEB-CSRF", 1)]


REDIRECT_VIEW = """from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def done(request):
    target = request.GET.get("next", "/")
{check}    return redirect(target)
"""
CHECK = "    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):\n        target = '/'\n"


def test_request_data_as_a_redirect_target_is_an_open_redirect(tmp_path: Path) -> None:
    root = write_target(tmp_path, {"views.py": REDIRECT_VIEW.format(check="")})
    [finding] = web_findings(SourceFiles.discover(root))
    assert (finding.rule, finding.line, finding.severity) == ("AC-WEB-OPEN-REDIRECT", 7, "medium")
    assert "CWE-601" in finding.message


def test_a_redirect_checked_against_the_allowed_hosts_is_not_reported(tmp_path: Path) -> None:
    assert rules_in(tmp_path, {"views.py": REDIRECT_VIEW.format(check=CHECK)}) == []


def test_a_redirect_back_to_the_requests_own_path_is_not_an_open_redirect(tmp_path: Path) -> None:
    code = (
        "from django.http import HttpResponseRedirect\n\n\ndef back(request, token):\n"
        "    url = request.path.replace(token, 'set')\n"
        "    return HttpResponseRedirect(url + '?e=1')\n"
    )
    assert rules_in(tmp_path, {"views.py": code}) == []
    mixed = code.replace("url + '?e=1'", "url + request.GET['next']")
    assert rules_in(tmp_path, {"views.py": mixed}) == [("AC-WEB-OPEN-REDIRECT", 6)]


def test_an_absolute_uri_built_from_request_data_is_an_open_redirect(tmp_path: Path) -> None:
    code = (
        "from django.http import HttpResponseRedirect\n\n\ndef go(request):\n"
        "    nxt = request.GET['next']\n"
        "    return HttpResponseRedirect(request.build_absolute_uri(nxt))\n"
    )
    assert rules_in(tmp_path, {"views.py": code}) == [("AC-WEB-OPEN-REDIRECT", 6)]
    own = code.replace("request.build_absolute_uri(nxt)", "request.build_absolute_uri()")
    assert rules_in(tmp_path, {"views.py": own}) == []
