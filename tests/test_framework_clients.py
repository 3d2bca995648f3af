"""Request handlers are tested through their framework's own client (aiohttp's TestClient,
Flask's ``test_client()``, Django's ``Client``), asserting the status and what the handler's code
fixes of the body, and only when the route and the app are found statically."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autocoder.workers.test_planning.behaviour import structural_problem
from autocoder.workers.test_planning.inventory import build_inventory
from autocoder.workers.test_planning.perspectives._clients import (
    ClientTest,
    client_specs,
    client_tests,
    concrete_path,
)
from autocoder.workers.test_planning.perspectives._outcomes import Outcome, outcome

from perspectivekit import context, write_target

AIO = '''from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/home")
async def home(request):
    raise web.HTTPFound("/")


@routes.get("/back")
async def back(request):
    raise web.HTTPFound(request.query.get("return_to", "/"))


@routes.get("/about/{lang}")
async def about(request):
    """A fixed page."""
    return web.Response(text="about us")


@routes.post("/ping")
async def ping(request):
    return web.json_response({"ok": True, "pong": 1})


@routes.get("/missing")
async def missing(request):
    raise web.HTTPNotFound()


@routes.get("/users")
async def users(request):
    pool = request.app["db"]
    return web.json_response({"users": await pool.fetch("SELECT name FROM users")})


@routes.get("/maybe")
async def maybe(request):
    if request.query.get("x"):
        raise web.HTTPNotFound()
    return web.Response(text="here")


other = web.RouteTableDef()


async def unrouted(request):
    return web.Response(text="never served by a route the code declares")
'''

FLASK = """from flask import Flask, abort, jsonify, redirect

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "hello"


@app.route("/item/<int:pk>", methods=["GET"])
def item(pk):
    abort(404)


@app.get("/go")
def go():
    return redirect("/hello")


@app.route("/api", methods=["POST"])
def api():
    return jsonify({"status": "ok"})


@app.route("/created")
def created():
    return "made", 201
"""

DJANGO = {
    "site/__init__.py": "",
    "site/settings.py": 'ROOT_URLCONF = "site.urls"\nSECRET_KEY = "x"\n',
    "site/urls.py": "from django.urls import path\n\nfrom . import views\nfrom .views import gone\n\n"
    'urlpatterns = [\n    path("p/<slug:name>/", views.page),\n    path("gone/", gone),\n'
    '    path("data/", views.data),\n]\n',
    "site/views.py": "from django.http import Http404, HttpResponse\n\n\n"
    'def page(request, name):\n    return HttpResponse("a page")\n\n\n'
    "def gone(request):\n    raise Http404()\n\n\n"
    "def data(request):\n    return HttpResponse(open('/etc/hostname').read())\n",
}


def _tests(tmp_path: Path, files: dict[str, str]) -> dict[str, ClientTest]:
    root = write_target(tmp_path, files)
    ctx = context(root, tmp_path)
    return {t.subject.qualname: t for t in client_tests(ctx, build_inventory(ctx))}


def _handler(code: str) -> ast.AsyncFunctionDef | ast.FunctionDef:
    node = ast.parse(code).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    return node


def _pytest(tests: Path, *roots: Path) -> subprocess.CompletedProcess[str]:
    """pytest on the generated tests in a subprocess, with the target first on the path."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    command += ["-o", f"pythonpath={' '.join(str(r) for r in roots)}", str(tests)]
    where = tests if tests.is_dir() else tests.parent
    return subprocess.run(
        command, cwd=where, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('raise web.HTTPFound("/")', Outcome(302, location="/")),
        ('raise web.HTTPSeeOther(request.query.get("next", "/a"))', Outcome(303, location="/a")),
        ("raise Http404", Outcome(404)),
        ('return web.Response(text="x", status=202)', Outcome(202, text="x")),
        ('return JsonResponse({"a": 1, "b": 2})', Outcome(200, json_keys=("a", "b"))),
        ("return jsonify(ok=True)", Outcome(200, json_keys=("ok",))),
        ('return {"ok": 1}', Outcome(200, json_keys=("ok",))),
        ('return "made", 201', Outcome(201, text="made")),
        ('return redirect("/login")', Outcome(302, location="/login")),
        ("abort(403)", Outcome(403)),
    ],
)
def test_a_handler_s_one_statement_fixes_its_outcome(body: str, expected: Outcome) -> None:
    assert outcome(_handler(f"def h(request):\n    {body}\n")) == expected


@pytest.mark.parametrize(
    "body",
    [
        'if request.query:\n        raise Http404\n    return HttpResponse("x")',
        "return HttpResponse(request.GET['q'])",
        "raise web.HTTPFound(request.query['next'])",
        "return web.json_response(await db.fetch())",
        "return render(request, 'page.html')",
        "return web.Response(text='x', status=code)",
    ],
)
def test_a_handler_whose_outcome_hangs_on_more_than_its_code_has_none(body: str) -> None:
    assert outcome(_handler(f"async def h(request):\n    {body}\n")) is None


def test_path_parameters_get_plain_values() -> None:
    assert concrete_path("/a/{name}/<int:pk>/<slug:s>/<x>") == "/a/x/1/x/x"


def test_aiohttp_handlers_with_a_fixed_outcome_get_a_client_test_and_others_none(
    tmp_path: Path,
) -> None:
    tests = _tests(tmp_path, {"web/__init__.py": "", "web/aio.py": AIO})
    assert {name: (t.method, t.path, t.outcome.describe()) for name, t in tests.items()} == {
        "home": ("get", "/home", "302 to '/'"),
        "back": ("get", "/back", "302 to '/'"),
        "about": ("get", "/about/x", "200 with text 'about us'"),
        "ping": ("post", "/ping", "200 with JSON keys ok, pong"),
        "missing": ("get", "/missing", "404"),
    }  # users reads a database, maybe branches, unrouted has no route
    for test in tests.values():
        compile(test.test_code, f"{test.subject.qualname}.py", "exec")
        assert "MagicMock" not in test.test_code


@pytest.mark.skipif(importlib.util.find_spec("aiohttp") is None, reason="aiohttp not installed")
def test_generated_aiohttp_client_tests_pass_against_the_unmodified_handlers(
    tmp_path: Path,
) -> None:
    root = write_target(tmp_path, {"web/__init__.py": "", "web/aio.py": AIO})
    ctx = context(root, tmp_path)
    specs = client_specs(ctx, build_inventory(ctx), "Integration Points", "integration_points")
    folder = tmp_path / "generated"
    folder.mkdir()
    for spec in specs:
        assert structural_problem(spec.test_code) is None
        (folder / f"test_{spec.id}.py").write_text(spec.test_code)
    run = _pytest(folder, tmp_path / "target")
    assert run.returncode == 0 and "5 passed" in run.stdout, run.stdout + run.stderr


def test_a_changed_handler_fails_its_generated_aiohttp_test(tmp_path: Path) -> None:
    """The test asserts behaviour: the same test against a handler that answers otherwise fails."""
    if importlib.util.find_spec("aiohttp") is None:
        pytest.skip("aiohttp not installed")
    test = _tests(tmp_path, {"web/__init__.py": "", "web/aio.py": AIO})["home"]
    (tmp_path / "target" / "web" / "aio.py").write_text(
        AIO.replace('HTTPFound("/")', 'HTTPFound("/x")')
    )
    (tmp_path / "test_home.py").write_text(test.test_code)
    run = _pytest(tmp_path / "test_home.py", tmp_path / "target")
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout + run.stderr


def test_flask_routes_on_the_module_app_get_test_client_tests(tmp_path: Path) -> None:
    tests = _tests(tmp_path, {"shop/__init__.py": "", "shop/app.py": FLASK})
    assert {name: (t.method, t.path, t.outcome.describe()) for name, t in tests.items()} == {
        "hello": ("get", "/hello", "200 with text 'hello'"),
        "item": ("get", "/item/1", "404"),
        "go": ("get", "/go", "302 to '/hello'"),
        "api": ("post", "/api", "200 with JSON keys status"),
        "created": ("get", "/created", "201 with text 'made'"),
    }
    code = tests["hello"].test_code
    compile(code, "test_hello.py", "exec")
    assert "subject_module.app.test_client()" in code
    assert "assert response.get_data(as_text=True) == 'hello'" in code


def test_flask_routes_without_a_module_level_app_get_no_test(tmp_path: Path) -> None:
    factory = "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n\n\n"
    factory += FLASK.split("app = Flask(__name__)\n", 1)[1]
    assert _tests(tmp_path, {"shop/__init__.py": "", "shop/app.py": factory}) == {}


def test_django_views_routed_from_root_urlconf_get_client_tests(tmp_path: Path) -> None:
    tests = _tests(tmp_path, DJANGO)
    assert {name: (t.path, t.outcome.describe()) for name, t in tests.items()} == {
        "page": ("/p/x/", "200 with text 'a page'"),
        "gone": ("/gone/", "404"),
    }  # data reads a file: its outcome is not the code's alone
    code = tests["gone"].test_code
    compile(code, "test_gone.py", "exec")
    assert "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')" in code
    assert "response = client.get('/gone/')" in code


def test_django_urls_that_no_settings_name_give_no_test(tmp_path: Path) -> None:
    files = {**DJANGO, "site/settings.py": 'SECRET_KEY = "x"\n'}
    assert _tests(tmp_path, files) == {}


FACTORY = """from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    return app
"""


def test_a_flask_app_factory_s_routes_are_tested_through_the_app_it_builds(
    tmp_path: Path,
) -> None:
    tests = _tests(tmp_path, {"flaskr/__init__.py": FACTORY})
    assert list(tests) == ["create_app"]
    test = tests["create_app"]
    assert (test.handler, test.path, test.outcome.describe()) == (
        "hello", "/hello", "200 with text 'Hello, World!'",
    )  # fmt: skip
    assert "client = subject_module.create_app().test_client()" in test.test_code


def test_a_factory_with_a_required_parameter_gives_no_test(tmp_path: Path) -> None:
    required = FACTORY.replace("test_config=None", "test_config")
    assert _tests(tmp_path, {"flaskr/__init__.py": required}) == {}


FLASK_SRC = Path("/tmp/real/flask-3.1.0")
FLASK_DEPS = Path(__file__).resolve().parents[1] / "bench/results/quality-deps/flask-3.1.0"


@pytest.mark.skipif(
    not (FLASK_SRC.is_dir() and FLASK_DEPS.is_dir()),
    reason="Flask 3.1.0 sources and their dependencies (bench/README.md) not here",
)
def test_the_generated_test_of_flask_s_tutorial_passes_against_it(tmp_path: Path) -> None:
    """The real tutorial app (copied, as its factory makes an instance folder beside it)."""
    target = tmp_path / "target"
    shutil.copytree(FLASK_SRC / "examples/tutorial", target)
    ctx = context(target, tmp_path)
    tests = client_tests(ctx, build_inventory(ctx))
    assert [(t.subject.id, t.path) for t in tests] == [("flaskr:create_app", "/hello")]
    (tmp_path / "test_hello.py").write_text(tests[0].test_code)
    run = _pytest(tmp_path / "test_hello.py", target, FLASK_SRC / "src", FLASK_DEPS)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr


def test_vulnweb_s_constant_redirects_get_aiohttp_client_tests(tmp_path: Path) -> None:
    vulnweb = Path(__file__).resolve().parent / "fixtures/vulnweb"
    ctx = context(vulnweb, tmp_path)
    tests = {t.subject.id: t.outcome.describe() for t in client_tests(ctx, build_inventory(ctx))}
    assert tests["vulnweb.aio:home"] == tests["vulnweb.aio:back"] == "302 to '/'"
    assert "vulnweb.aio:proxy" not in tests  # it fetches a URL: no fixed outcome


def test_a_route_method_that_is_not_an_http_verb_never_becomes_code(tmp_path: Path) -> None:
    hostile = "GET(); import os; os.system('echo PWNED'); client.get"
    app = (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        f"@app.route('/x', methods=[{hostile!r}])\ndef x():\n    return 'x'\n\n\n"
        "@app.route('/y', methods=['POST'])\ndef y():\n    return 'y'\n"
    )
    tests = _tests(tmp_path, {"shop/__init__.py": "", "shop/app.py": app})
    assert set(tests) == {"y"} and tests["y"].method == "post"
    assert all("os.system" not in t.test_code for t in tests.values())
