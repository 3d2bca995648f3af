"""Tests of request handlers through the framework's own test client, instead of a call with
``MagicMock`` requests that says nothing about the routing, the status or the body.

A handler gets a test only when its route and the app that serves it are found statically:
- aiohttp: ``@routes.get("/p")`` on a module-level ``web.RouteTableDef()``; the test serves
  those routes from a fresh ``web.Application`` with ``aiohttp.test_utils.TestClient``;
- Flask: ``@app.route("/p")`` (or ``app.get``...) on a module-level ``app = Flask(...)``, or
  inside an app factory (``create_app()``, every parameter defaulted) that builds ``app``; the
  test uses ``app.test_client()`` (``create_app().test_client()``);
- Django: ``path("p/", views.f)`` in the ``ROOT_URLCONF`` module a settings file names; the
  test uses ``django.test.Client``;
and when its code fixes the outcome (:mod:`._outcomes`): the status, plus the redirect location,
text or JSON keys. Path parameters (``{name}``, ``<int:pk>``) get a plain value.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from autocoder.engine.perspective import RunContext
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.inventory import Inventory, Subject
from autocoder.workers.test_planning.perspectives._outcomes import Outcome, outcome
from autocoder.workers.test_planning.specs import make_spec, module_alias, render, slug

METHODS = ("get", "post", "put", "patch", "delete", "head")
Handler = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class ClientTest:
    """One handler's test through its framework's client: what a spec is made of."""

    subject: Subject  # the handler, or the app factory that defines it
    handler: str
    framework: str  # aiohttp | flask | django
    method: str
    path: str
    outcome: Outcome
    test_code: str


def concrete_path(route: str) -> str:
    """``/files/{name}`` and ``/files/<name>`` -> ``/files/x``; ``<int:pk>`` -> ``1``."""
    route = re.sub(r"\{[^}]*\}", "x", route)
    route = re.sub(r"<(int|float):[^>]*>", "1", route)
    return re.sub(r"<[^>]*>", "x", route)


def _module_assignments(body: list[ast.stmt], calls: tuple[str, ...]) -> set[str]:
    """Names a block assigns a call of one of ``calls`` to (``app = Flask(__name__)``)."""
    return {
        t.id
        for node in body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func).rsplit(".", 1)[-1] in calls
        for t in node.targets if isinstance(t, ast.Name)
    }  # fmt: skip


def decorated_routes(body: list[ast.stmt], owners: set[str]) -> list[tuple[Handler, str, str]]:
    """(handler, method, route) of ``@owner.get("/p")``, ``@owner.route("/p")`` (GET, or the
    first of ``methods=[...]``) on the block's functions, for owners among ``owners``."""
    found: list[tuple[Handler, str, str]] = []
    for node in body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for d in node.decorator_list:
            func = d.func if isinstance(d, ast.Call) else None
            if not (isinstance(func, ast.Attribute) and ast.unparse(func.value) in owners):
                continue
            assert isinstance(d, ast.Call)
            route = d.args[0] if d.args else None
            if not (isinstance(route, ast.Constant) and isinstance(route.value, str)):
                continue
            method = func.attr if func.attr in METHODS else _route_method(d)
            if method is not None:
                found.append((node, method, route.value))
    return found


def _route_method(decorator: ast.Call) -> str | None:
    if not isinstance(decorator.func, ast.Attribute) or decorator.func.attr != "route":
        return None
    for keyword in decorator.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
            first = keyword.value.elts[0] if keyword.value.elts else None
            said = str(first.value).lower() if isinstance(first, ast.Constant) else ""
            return said if said in METHODS else None  # the target's text never becomes code
    return "get"


def _asserts(outcome_: Outcome, framework: str) -> list[str]:
    status = "response.status" if framework == "aiohttp" else "response.status_code"
    lines = [f"assert {status} == {outcome_.status}"]
    if outcome_.location is not None:
        lines.append(f'assert response.headers["Location"] == {outcome_.location!r}')
    aio = framework == "aiohttp"
    if outcome_.text is not None:
        text = {"aiohttp": "await response.text()", "flask": "response.get_data(as_text=True)",
                "django": "response.content.decode()"}[framework]  # fmt: skip
        lines.append(f"assert {text} == {outcome_.text!r}")
    if outcome_.json_keys:
        body = "await response.json()" if aio else "response.json()"
        body = "response.get_json()" if framework == "flask" else body
        lines.append(f"body = {body}")
        lines += [f"assert {k!r} in body" for k in outcome_.json_keys]
    return lines


def _name(handler: str, method: str, outcome_: Outcome) -> str:
    return f"test_{slug(handler)}_{method}_answers_{outcome_.status}"


def _request(framework: str, method: str, path: str) -> str:
    redirects = {"aiohttp": ", allow_redirects=False", "flask": "", "django": ""}[framework]
    client = "await client" if framework == "aiohttp" else "client"
    return f"response = {client}.{method}({path!r}{redirects})"


def render_test(subject: Subject, test: ClientTest, app: str) -> str:
    """The whole test module. ``app`` is what serves the routes: a module-level name, a factory
    call (``create_app()``), or Django's settings module."""
    framework, method, path, outcome_ = test.framework, test.method, test.path, test.outcome
    if method not in METHODS:
        raise ValueError(f"not an HTTP method a test client has: {method!r}")
    checks = _asserts(outcome_, framework)
    name = _name(test.handler, method, outcome_)
    request = _request(framework, method, path)
    imports = ["import pytest", "", module_alias(subject, "subject_module")]
    if framework == "aiohttp":
        client = "from aiohttp.test_utils import TestClient, TestServer"
        imports = ["import asyncio", "", "import pytest", "", 'pytest.importorskip("aiohttp")',
                   "from aiohttp import web", client, *imports[2:]]  # fmt: skip
        inner = "\n".join(f"            {line}" for line in [request, *checks])
        body = (f"def {name}():\n    async def scenario():\n        app = web.Application()\n"
                f"        app.add_routes(subject_module.{app})\n"
                "        async with TestClient(TestServer(app)) as client:\n"
                f"{inner}\n\n    asyncio.run(scenario())\n")  # fmt: skip
    elif framework == "flask":
        imports.insert(1, 'pytest.importorskip("flask")')
        lines = [f"client = subject_module.{app}.test_client()", request, *checks]
        body = f"def {name}():\n" + "".join(f"    {line}\n" for line in lines)
    else:
        imports = ["import os", "", "import pytest", "", 'django = pytest.importorskip("django")',
                   f"os.environ.setdefault('DJANGO_SETTINGS_MODULE', {app!r})", "django.setup()",
                   "from django.test import Client, override_settings", *imports[2:]]  # fmt: skip
        lines = ["client = Client()", request, *checks]
        body = (f'@override_settings(ALLOWED_HOSTS=["testserver"])\ndef {name}():\n'
                + "".join(f"    {line}\n" for line in lines))  # fmt: skip
    return render(imports, body)


FACTORIES = ("create_app", "make_app")


def _apps(tree: ast.Module) -> list[tuple[str, str, list[ast.stmt], str]]:
    """(framework, owner name, block holding its routes, what serves them in a test): the
    module's own route tables and apps, and Flask apps built inside an app factory."""
    found = [(framework, owner, tree.body, owner)
             for framework, calls in (("aiohttp", ("RouteTableDef",)), ("flask", ("Flask",)))
             for owner in sorted(_module_assignments(tree.body, calls))]  # fmt: skip
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in FACTORIES:
            continue
        if len(node.args.defaults) < len(node.args.posonlyargs) + len(node.args.args):
            continue  # a required parameter: no test can call the factory as written
        owners = _module_assignments(node.body, ("Flask",))
        found += [("flask", owner, node.body, f"{node.name}()") for owner in sorted(owners)]
    return found


def _decorated_tests(ctx: RunContext, inventory: Inventory) -> list[ClientTest]:
    tests: list[ClientTest] = []
    for module, file in sorted(inventory.modules.items()):
        tree = ctx.sources.parse(file)
        for framework, owner, body, app in _apps(tree) if tree is not None else []:
            for handler, method, route in decorated_routes(body, {owner}):
                factory = app.removesuffix("()") if app.endswith("()") else None
                subject = inventory.by_id.get(f"{module}:{factory or handler.name}")
                found = outcome(handler)
                if found is None or subject is None:
                    continue
                test = ClientTest(subject, handler.name, framework, method, concrete_path(route),
                                  found, "")  # fmt: skip
                tests.append(replace(test, test_code=render_test(subject, test, app)))
    return tests


def _setting(tree: ast.Module, name: str) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = node.value
            return value.value if isinstance(value, ast.Constant) else None  # type: ignore[return-value]
    return None


def _imported_names(tree: ast.Module, package: str) -> dict[str, str]:
    """Name -> dotted module or ``module:function`` it stands for, relative imports resolved
    against ``package`` (``from . import views``, ``from .views import page``)."""
    names: dict[str, str] = {}
    for node in (n for n in tree.body if isinstance(n, ast.ImportFrom)):
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
        module = ".".join(p for p in (base, node.module or "") if p)
        for alias in node.names:
            local = alias.asname or alias.name
            names[local] = (
                f"{module}.{alias.name}" if node.module is None else f"{module}:{alias.name}"
            )
    return names


def _views(tree: ast.Module, package: str) -> list[tuple[str, str]]:
    """(route, ``module:function``) of each ``path("p/", view)`` in ``urlpatterns``."""
    imported = _imported_names(tree, package)
    found: list[tuple[str, str]] = []
    for node in tree.body:
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        value = getattr(node, "value", None)
        if "urlpatterns" not in targets or not isinstance(value, ast.List):
            continue
        for call in (e for e in value.elts if isinstance(e, ast.Call) and len(e.args) >= 2):
            route, view = call.args[0], call.args[1]
            if ast.unparse(call.func) != "path" or not isinstance(route, ast.Constant):
                continue
            if isinstance(view, ast.Attribute) and isinstance(view.value, ast.Name):
                module = imported.get(view.value.id, "").replace(":", ".")
                found += [(str(route.value), f"{module}:{view.attr}")] if module else []
            elif isinstance(view, ast.Name) and ":" in imported.get(view.id, ""):
                found.append((str(route.value), imported[view.id]))
    return found


def _django_tests(ctx: RunContext, inventory: Inventory) -> list[ClientTest]:
    tests: list[ClientTest] = []
    for settings, file in sorted(inventory.modules.items()):
        tree = ctx.sources.parse(file)
        urlconf = _setting(tree, "ROOT_URLCONF") if tree is not None else None
        urls = (
            ctx.sources.parse(inventory.modules[urlconf]) if urlconf in inventory.modules else None
        )
        for route, view in _views(urls, urlconf.rpartition(".")[0]) if urls and urlconf else []:
            subject = inventory.by_id.get(view)
            views = ctx.sources.parse(subject.file) if subject is not None else None
            handler = next((n for n in (views.body if views else []) if isinstance(n, Handler)
                            and n.name == view.partition(":")[2]), None)  # fmt: skip
            found = outcome(handler) if handler is not None else None
            if subject is not None and found is not None and handler is not None:
                path = concrete_path("/" + route)
                test = ClientTest(subject, handler.name, "django", "get", path, found, "")
                tests.append(replace(test, test_code=render_test(subject, test, settings)))
    return tests


def client_tests(ctx: RunContext, inventory: Inventory) -> list[ClientTest]:
    """Every handler test through a framework client that the target's code makes possible."""
    return [*_decorated_tests(ctx, inventory), *_django_tests(ctx, inventory)]


def client_specs(
    ctx: RunContext, inventory: Inventory, perspective: str, perspective_id: str
) -> list[TestSpec]:
    """One integration spec per :func:`client_tests` test, for the perspective that owns
    request handlers; their subjects should then get no ``MagicMock``-request test."""
    return [
        make_spec(
            perspective=perspective,
            perspective_id=perspective_id,
            subject=t.subject,
            kind="integration",
            key=f"client:{t.framework}:{t.method}:{t.path}",
            rationale=f"{t.handler} serves {t.method.upper()} {t.path} ({t.framework}); its "
            f"code fixes the answer, so the framework's own client can check it.",
            inputs=f"{t.method.upper()} {t.path} through the {t.framework} test client",
            expected=t.outcome.describe(),
            test_code=t.test_code,
            inventory=inventory,
        )
        for t in client_tests(ctx, inventory)
    ]
