"""Framework settings and templates that switch a web protection off: autoescaping, CSRF, debug
mode, cookie flags and hard-coded signing keys (templates are in :mod:`._web_templates`).

Only literal values count (``DEBUG = True``, ``autoescape=False``, ``SECRET_KEY = "..."``): a
value read from the environment or another name is the deployment's choice, not the code's.
Settings in a class named like a test configuration (``class TestingConfig``) are left alone:
switching CSRF off for the test client is what they are for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives._imports import import_aliases, resolve
from autocoder.workers.analysis.perspectives._taint import dotted, last_name
from autocoder.workers.analysis.perspectives._web_middleware import csrf_middleware_problems

TOOL = "autocoder-web"
SECRET_SETTINGS = frozenset({"SECRET_KEY", "JWT_SECRET_KEY", "JWT_SECRET", "secret_key"})
DEFAULTS_MODULES = frozenset({"global_settings.py", "default_settings.py"})
PROJECT_SETTINGS = frozenset({"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "WSGI_APPLICATION"})
FLAGS = ("secure", "httponly")


@dataclass(frozen=True)
class Hit:
    """What a setting or call switches off, before it becomes a finding."""

    rule: str
    severity: Severity
    message: str


def _setting_hit(rule: str, text: str) -> Hit:
    return Hit(rule, "medium", text)


# (setting, literal value) -> what it switches off, in a settings module or an app's config
SETTINGS_OFF: dict[tuple[str, object], Hit] = {
    ("DEBUG", True): _setting_hit(
        "AC-WEB-DEBUG", "DEBUG = True: tracebacks, settings and the debugger are shown to any "
        "client (CWE-489)"),
    ("SESSION_COOKIE_SECURE", False): _setting_hit(
        "AC-WEB-COOKIE", "SESSION_COOKIE_SECURE = False: the session cookie is also sent over "
        "plain HTTP (CWE-614)"),
    ("CSRF_COOKIE_SECURE", False): _setting_hit(
        "AC-WEB-COOKIE", "CSRF_COOKIE_SECURE = False: the CSRF cookie is also sent over plain "
        "HTTP (CWE-614)"),
    ("SESSION_COOKIE_HTTPONLY", False): _setting_hit(
        "AC-WEB-COOKIE", "SESSION_COOKIE_HTTPONLY = False: scripts can read the session cookie "
        "(CWE-1004)"),
    ("WTF_CSRF_ENABLED", False): _setting_hit(
        "AC-WEB-CSRF", "WTF_CSRF_ENABLED = False: Flask-WTF forms accept cross-site posts "
        "(CWE-352)"),
}  # fmt: skip


def _hit_for_setting(name: str, value: ast.expr, settings_module: bool) -> Hit | None:
    """The problem with ``name = value``: a literal signing key anywhere, a protection switched
    off only in a settings module or an app's config (elsewhere ``DEBUG`` is any constant)."""
    literal = value.value if isinstance(value, ast.Constant) else None
    if name in SECRET_SETTINGS and isinstance(literal, str) and literal.strip():
        why = "anyone with the source can sign sessions and tokens (CWE-798; value withheld)"
        return Hit("AC-WEB-HARDCODED-SECRET", "high", f"{name} is a literal in the code: {why}")
    if not settings_module or not isinstance(literal, bool):
        return None
    return SETTINGS_OFF.get((name, literal))


def is_settings_module(file: str, tree: ast.Module) -> bool:
    """A Django-style settings module: named so, or defining the project's apps or URLs."""
    name = file.rsplit("/", 1)[-1]
    if name in DEFAULTS_MODULES:
        return False  # the framework's own defaults, not a deployment's choice
    if name == "settings.py" or name.startswith("settings_") or name.endswith("_settings.py"):
        return True
    return "/settings/" in f"/{file}" or bool(PROJECT_SETTINGS & set(_module_names(tree)))


def _module_names(tree: ast.Module) -> dict[str, ast.Assign]:
    return {
        t.id: node for node in tree.body if isinstance(node, ast.Assign)
        for t in node.targets if isinstance(t, ast.Name)
    }  # fmt: skip


def config_findings(sources: SourceFiles, file: str, tree: ast.Module) -> list[Finding]:
    """The settings, setup calls and decorators in ``tree`` that switch a protection off."""
    settings, facts = is_settings_module(file, tree), _facts(tree)
    hits = list(_assigned_settings(tree.body, settings))
    if settings:
        problems = csrf_middleware_problems(tree, sources.lines(file))
        hits += [(line, Hit("AC-WEB-CSRF", "medium", text)) for line, text in problems]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            hits += _call_hits(node, facts)
        elif isinstance(node, ast.Assign):
            hits += _attribute_hits(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hits += [(d.lineno, EXEMPT) for d in node.decorator_list if _is_csrf_exempt(d)]
    return [
        evidence.finding(sources, tool=TOOL, rule=h.rule, severity=h.severity, file=file,
                         line=line, message=h.message)
        for line, h in hits
    ]  # fmt: skip


EXEMPT = Hit("AC-WEB-CSRF", "medium", "view exempted from CSRF protection (CWE-352)")


def _assigned_settings(body: list[ast.stmt], settings: bool) -> Iterator[tuple[int, Hit]]:
    """``NAME = value`` at module level and in configuration classes (not test ones)."""
    for node in body:
        if isinstance(node, ast.ClassDef) and "test" not in node.name.lower():
            yield from _assigned_settings(node.body, settings=True)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    hit = _hit_for_setting(target.id, node.value, settings)
                    if hit is not None:
                        yield node.lineno, hit


@dataclass(frozen=True)
class ModuleFacts:
    """What a call's meaning depends on elsewhere in its module."""

    constants: dict[str, str]  # module-level NAME = "text"
    aliases: dict[str, str]  # local name -> what it was imported as


def _facts(tree: ast.Module) -> ModuleFacts:
    constants = {
        name: node.value.value for name, node in _module_names(tree).items()
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }  # fmt: skip
    return ModuleFacts(constants, import_aliases(tree))


def _call_hits(call: ast.Call, facts: ModuleFacts) -> list[tuple[int, Hit]]:
    name, method = resolve(dotted(call.func), facts.aliases), last_name(call.func)
    keywords = {k.arg: k.value for k in call.keywords}
    line = call.lineno
    if method in {"update", "from_mapping"} and "config" in name:
        return [
            (v.lineno, h) for k, v in keywords.items() if k and (h := _hit_for_setting(k, v, True))
        ]
    hit: Hit | None = None
    if method in {"csrf_exempt"} and call.args:
        hit = EXEMPT
    elif name.endswith("aiohttp_jinja2.setup") or method in {"Environment", "Template"}:
        hit = _autoescape_hit(name, keywords)
    elif method == "set_cookie" or method.endswith("CookieStorage"):
        hit = _cookie_hit(call, method, keywords)
    elif _is_app_start(name, method) and _literal(keywords, "debug") is True:
        hit = Hit(
            "AC-WEB-DEBUG",
            "medium",
            f"{name}(debug=True): the interactive debugger runs "
            "code for any client that triggers an error (CWE-489)",
        )
    elif name in {"jwt.encode", "jwt.decode"}:
        hit = _jwt_hit(call, name, facts.constants)
    return [(line, hit)] if hit is not None else []


def _autoescape_hit(name: str, keywords: dict[str | None, ast.expr]) -> Hit | None:
    """``aiohttp_jinja2.setup(..., autoescape=False)``, ``jinja2.Environment(autoescape=False)``
    and a ``jinja2.Environment(...)`` without the argument (jinja2 then escapes nothing)."""
    jinja = name.startswith("jinja2.")  # from jinja2 import Environment: resolved to it
    if not (jinja or "aiohttp_jinja2" in name):
        return None
    value = keywords.get("autoescape")
    if isinstance(value, ast.Constant) and value.value is False:
        how = "autoescape=False"
    elif value is None and None not in keywords and jinja and name.endswith("Environment"):
        how = "no autoescape argument (jinja2 escapes nothing then)"
    else:
        return None
    return Hit(
        "AC-WEB-AUTOESCAPE",
        "medium",
        f"{name}() with {how}: every template variable is inserted as raw HTML (CWE-79)",
    )


def _cookie_hit(call: ast.Call, method: str, keywords: dict[str | None, ast.expr]) -> Hit | None:
    if None in keywords:
        return None  # flags passed through **options: unknown here
    if method.endswith("CookieStorage"):
        off = [f for f in ("httponly", "secure") if _literal(keywords, f) is False]
    elif _sets_a_value(call, keywords):
        off = [f for f in ("secure", "httponly") if f not in keywords or _is_false(keywords[f])]
    else:
        return None
    if not off:
        return None
    cwes = ", ".join(c for f, c in (("secure", "CWE-614"), ("httponly", "CWE-1004")) if f in off)
    return Hit(
        "AC-WEB-COOKIE",
        "low" if method == "set_cookie" else "medium",
        f"{method}() without {' and '.join(f'{f}=True' for f in off)} ({cwes})",
    )


def _sets_a_value(call: ast.Call, keywords: dict[str | None, ast.expr]) -> bool:
    """A cookie set with a value and literal flags: not a deletion (``max_age=0``), not flags
    passed as variables (the caller's configuration decides them)."""
    if any(not isinstance(keywords.get(f, ast.Constant(None)), ast.Constant) for f in FLAGS):
        return False
    if _literal(keywords, "max_age") == 0 or _literal(keywords, "expires") == 0:
        return False
    return len(call.args) >= 2 or "value" in keywords


def _is_app_start(name: str, method: str) -> bool:
    """``app.run(...)``, ``web.Application(...)``, ``uvicorn.run(...)``, ``run_simple(...)``:
    not a test suite's or a runner's ``run``."""
    receiver = name.rsplit(".", 1)[0] if "." in name else ""
    if method == "run":
        return "app" in receiver.rsplit(".", 1)[-1].lower() or receiver == "uvicorn"
    return method in {"Application", "run_simple", "run_app"}


def _jwt_hit(call: ast.Call, name: str, constants: dict[str, str]) -> Hit | None:
    key = next((k.value for k in call.keywords if k.arg == "key"), None)
    key = key if key is not None else (call.args[1] if len(call.args) > 1 else None)
    literal = key.value if isinstance(key, ast.Constant) else None
    if isinstance(key, ast.Name):
        literal = constants.get(key.id)
    if not isinstance(literal, str) or not literal.strip():
        return None
    return Hit(
        "AC-WEB-HARDCODED-SECRET",
        "high",
        f"{name}() with a signing key written in the "
        "code: anyone with the source can forge tokens (CWE-798; value withheld)",
    )


def _attribute_hits(node: ast.Assign) -> list[tuple[int, Hit]]:
    """``app.jinja_env.autoescape = False``, ``app.debug = True``, ``app.config["X"] = ...``."""
    hits: list[tuple[int, Hit]] = []
    for target in node.targets:
        hit = None
        if isinstance(target, ast.Subscript) and last_name(target.value) == "config":
            key = target.slice.value if isinstance(target.slice, ast.Constant) else None
            hit = _hit_for_setting(key, node.value, True) if isinstance(key, str) else None
        elif isinstance(target, ast.Attribute) and target.attr in {"debug", "secret_key"}:
            setting = "DEBUG" if target.attr == "debug" else "secret_key"
            hit = _hit_for_setting(setting, node.value, "app" in dotted(target.value))
        elif dotted(target).endswith("jinja_env.autoescape") and _is_false(node.value):
            hit = Hit(
                "AC-WEB-AUTOESCAPE",
                "medium",
                "jinja_env.autoescape = False: every "
                "template variable is inserted as raw HTML (CWE-79)",
            )
        if hit is not None:
            hits.append((node.lineno, hit))
    return hits


def _is_csrf_exempt(decorator: ast.expr) -> bool:
    """``@csrf_exempt`` (Django) or ``@csrf.exempt`` (Flask-WTF)."""
    name = dotted(decorator)
    return name.endswith("csrf_exempt") or (name.endswith(".exempt") and "csrf" in name)


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _literal(keywords: dict[str | None, ast.expr], name: str) -> object:
    value = keywords.get(name)
    return value.value if isinstance(value, ast.Constant) else None
