"""Web application checks that one tool's rule set misses: request data reaching a dangerous call
(SSRF, path traversal, command and SQL injection, unsafe deserialisation, template injection,
``mark_safe``), plus the framework settings and templates of :mod:`._web_config`.

Written on :mod:`ast` rather than semgrep: semgrep is not installed here and fetches its rules
over the network, while every rule below needs only one module's tree and the small taint
tracker of :mod:`._taint`. Each rule id is ``AC-WEB-...`` and each message names its CWE.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from autocoder.engine.modules import is_test_file
from autocoder.engine.sources import SourceFiles
from autocoder.schema import Finding, Severity, severity_rank
from autocoder.workers.analysis import evidence
from autocoder.workers.analysis.perspectives import _handoff_taint, _web_config, _web_templates
from autocoder.workers.analysis.perspectives._handoff_taint import Key
from autocoder.workers.analysis.perspectives._imports import import_aliases, resolve
from autocoder.workers.analysis.perspectives._taint import (
    REQUEST_NAMES,
    FunctionNode,
    Taint,
    calls,
    dotted,
    flow,
    functions,
    is_view,
    last_name,
)
from autocoder.workers.analysis.perspectives._web_redirect import only_current_location

TOOL = "autocoder-web"
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
HTTP_MODULES = frozenset({"requests", "httpx", "urllib3", "aiohttp"})
HTTP_CLIENTS = frozenset({"ClientSession", "Session", "Client", "AsyncClient", "PoolManager"})
URL_OPENERS = frozenset({"urlopen", "urllib.request.urlopen", "urllib.request.Request"})
FILE_CALLS = frozenset(
    {
        "open", "io.open", "codecs.open", "send_file", "flask.send_file", "FileResponse",
        "web.FileResponse", "os.remove", "os.unlink", "shutil.rmtree", "os.listdir",
    }
)  # fmt: skip
PATH_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "unlink"})
PATH_GUARDS = frozenset({"is_relative_to", "commonpath", "safe_join", "send_from_directory"})
SUBPROCESS = frozenset(
    {
        "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
        "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput", "os.system",
        "os.popen", "asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec",
    }
)  # fmt: skip
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "raw", "RawSQL"})
SQL_TEXT = frozenset({"text", "sqlalchemy.text", "sa.text"})
DESERIALISERS = frozenset(
    {
        "pickle.loads", "pickle.load", "cPickle.loads", "dill.loads", "marshal.loads",
        "jsonpickle.decode", "yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.full_load",
    }
)  # fmt: skip
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader"})
TEMPLATE_FROM_TEXT = frozenset({"render_template_string", "jinja2.Template", "from_string"})
REDIRECTS = frozenset(
    {
        "redirect", "HttpResponseRedirect", "HttpResponsePermanentRedirect", "HTTPFound",
        "HTTPSeeOther", "HTTPTemporaryRedirect", "HTTPMovedPermanently", "RedirectResponse",
    }
)  # fmt: skip
REDIRECT_GUARDS = frozenset({"url_has_allowed_host_and_scheme", "is_safe_url", "is_safe_redirect"})

KNOWN = FILE_CALLS | SUBPROCESS | SQL_TEXT | DESERIALISERS | TEMPLATE_FROM_TEXT | URL_OPENERS


@dataclass(frozen=True)
class _Context:
    """What a call in one function means: its HTTP client names, its module's imports."""

    clients: set[str]
    aliases: dict[str, str]


@dataclass(frozen=True)
class Sink:
    """A dangerous use of request data: rule, CWE, severity and what reaches what."""

    rule: str
    cwe: str
    severity: Severity
    what: str


SSRF = Sink("AC-WEB-SSRF", "CWE-918", "high", "request data used as the URL of an HTTP request")
PATH = Sink("AC-WEB-PATH-TRAVERSAL", "CWE-22", "high", "request data used as a file path")
COMMAND = Sink("AC-WEB-COMMAND", "CWE-78", "high", "request data in a command line")
SQL = Sink("AC-WEB-SQLI", "CWE-89", "high", "SQL text built from request data")
DESERIALISE = Sink("AC-WEB-DESERIALIZE", "CWE-502", "high", "request data deserialised unsafely")
SSTI = Sink("AC-WEB-SSTI", "CWE-1336", "high", "request data compiled as a template")
REDIRECT = Sink(
    "AC-WEB-OPEN-REDIRECT", "CWE-601", "medium",
    "request data used as a redirect target with no allowed-host check",
)  # fmt: skip
MARK_SAFE = Sink("AC-WEB-MARK-SAFE", "CWE-79", "high", "request data marked safe from escaping")
MARK_SAFE_IN_VIEW = Sink(
    "AC-WEB-MARK-SAFE", "CWE-79", "low",
    "a value that is not a literal marked safe in a view: make sure it holds no user input",
)  # fmt: skip


def web_findings(sources: SourceFiles) -> list[Finding]:
    """Every AC-WEB finding in the target's Python files and templates, outside its tests (a
    test's own settings, cookies and views serve no client)."""
    templates = _web_templates.template_findings(sources)
    found = [f for f in templates if not is_test_file(f.file)]
    handover, defined = _handoff_taint.Handover(), defaultdict(set)
    for file in (f for f in sources.python if not is_test_file(f)):
        tree = sources.parse(file)
        if tree is not None:
            found += taint_findings(sources, file, tree)
            found += _web_config.config_findings(sources, file, tree)
            _handoff_taint.record_views(file, tree, handover)
            for key, _ in _handoff_taint.definitions(tree):
                defined[key].add(file)
    # a name defined in several places is not resolved: which one is called is unknown here
    resolved = {key for key in handover.callers if len(defined.get(key, set())) == 1}
    for file in sorted({f for key in resolved for f in defined[key]}):
        tree = sources.parse(file)
        found += handed_over_findings(sources, file, tree, handover, resolved) if tree else []
    return _worst_per_line(found)


def handed_over_findings(
    sources: SourceFiles, file: str, tree: ast.Module, handover: _handoff_taint.Handover,
    resolved: set[Key],
) -> list[Finding]:  # fmt: skip
    """Sinks reached in the functions of ``tree`` that views hand request data to."""
    found: list[Finding] = []
    aliases = import_aliases(tree)
    for key, func in _handoff_taint.definitions(tree):
        if key in resolved:
            handed = _handoff_taint.receiving_parameters(func, key, handover)
            if handed:
                origin = f" (request data handed over by {handover.callers[key]})"
                found += _function_findings(sources, file, func, aliases, frozenset(handed), origin)
    return found


def _worst_per_line(found: list[Finding]) -> list[Finding]:
    """One finding per file, line and rule: the most severe (a tainted ``mark_safe`` is also a
    non-literal one)."""
    best: dict[tuple[str, int, str], Finding] = {}
    for f in sorted(found, key=lambda f: severity_rank(f.severity)):
        best.setdefault((f.file, f.line, f.rule), f)
    return sorted(best.values(), key=lambda f: (f.file, f.line, f.rule))


def taint_findings(sources: SourceFiles, file: str, tree: ast.Module) -> list[Finding]:
    """Request data reaching a sink, one finding per sink call, in every function of ``tree``."""
    found: list[Finding] = []
    aliases = import_aliases(tree)
    for func in functions(tree):
        if is_view(func) or _mentions_a_request(func):  # else nothing in it is request data
            found += _function_findings(sources, file, func, aliases)
    return found


def _function_findings(
    sources: SourceFiles, file: str, func: FunctionNode, aliases: dict[str, str],
    handed: frozenset[str] = frozenset(), origin: str = "",
) -> list[Finding]:  # fmt: skip
    """One finding per sink call of ``func`` that request data reaches."""
    found: dict[tuple[int, str], Finding] = {}
    context, view = _Context(_http_client_names(func), aliases), is_view(func)
    checks = {last_name(c.func) for c in calls(func)}
    guarded = {PATH: bool(checks & PATH_GUARDS), REDIRECT: bool(checks & REDIRECT_GUARDS)}
    for piece, taint in flow(func, handed):
        for call in calls(piece):
            sink = _sink(call, taint, context)
            if sink is None and view and _marks_a_variable_safe(call):
                sink = MARK_SAFE_IN_VIEW
            if sink is REDIRECT and only_current_location(func, _argument(call, 0, "to")):
                continue  # back to the request's own path: no attacker picks the host
            if sink is None or guarded.get(sink, False):
                continue
            message = f"{sink.what} ({sink.cwe}): {dotted(call.func) or 'call'}(...) in "
            message += f"{func.name}() at {file}:{call.lineno}{origin}"
            found.setdefault((call.lineno, sink.rule), evidence.finding(
                sources, tool=TOOL, rule=sink.rule, severity=sink.severity, file=file,
                line=call.lineno, message=message,
            ))  # fmt: skip
    return list(found.values())


def _mentions_a_request(func: FunctionNode) -> bool:
    """Whether ``func`` names ``request``/``req`` or ``.request``: the only way request data
    enters a function that is not a view."""
    return any(
        (isinstance(n, ast.Name) and n.id in REQUEST_NAMES)
        or (isinstance(n, ast.Attribute) and n.attr == "request")
        for n in ast.walk(func)
    )


def _http_client_names(func: FunctionNode) -> set[str]:
    """Names bound in ``func`` to an HTTP client (``async with ClientSession() as session``)."""
    names: set[str] = set()
    for node in ast.walk(func):
        pairs: Iterator[tuple[ast.expr | None, ast.expr]] = iter(())
        if isinstance(node, ast.With | ast.AsyncWith):
            pairs = ((i.optional_vars, i.context_expr) for i in node.items)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            pairs = iter([(node.targets[0], node.value)])
        for target, value in pairs:
            is_client = isinstance(value, ast.Call) and last_name(value.func) in HTTP_CLIENTS
            if isinstance(target, ast.Name) and is_client:
                names.add(target.id)
    return names


def _sink(call: ast.Call, taint: Taint, context: _Context) -> Sink | None:  # noqa: PLR0911
    """The sink ``call`` is when request data reaches its dangerous argument, else None."""
    name, method = resolve(dotted(call.func), context.aliases, KNOWN), last_name(call.func)
    clients = context.clients
    first = _argument(call, 0, "url")
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if _is_http_call(name, method, receiver, clients):
        url = _argument(call, 1, "url") if method == "request" else first
        return SSRF if taint.tainted(url) else None
    if _is_file_call(call, name, method, taint):
        return PATH
    if name in SUBPROCESS:
        args = call.args if name.endswith("_exec") else call.args[:1]
        command = [*args, *(k.value for k in call.keywords if k.arg == "args")]
        return COMMAND if any(taint.tainted(a) for a in command) else None
    if method in SQL_CALLS or name in SQL_TEXT:
        return SQL if taint.tainted(_argument(call, 0, "sql")) else None
    if name in DESERIALISERS and not _safe_yaml(call):
        return DESERIALISE if taint.tainted(first) else None
    if name in TEMPLATE_FROM_TEXT or method == "from_string":
        return SSTI if taint.tainted(_argument(call, 0, "source")) else None
    if method in {"mark_safe", "Markup"}:
        return MARK_SAFE if taint.tainted(first) else None
    if method in REDIRECTS:
        target = _argument(call, 0, "location") or _argument(call, 0, "to")
        return REDIRECT if taint.tainted(target or _argument(call, 0, "url")) else None
    return None


def _is_http_call(name: str, method: str, receiver: ast.expr | None, clients: set[str]) -> bool:
    if name in URL_OPENERS:
        return True
    if method not in HTTP_METHODS or receiver is None:
        return False
    if isinstance(receiver, ast.Name) and receiver.id in clients:
        return True
    return name.split(".", 1)[0] in HTTP_MODULES and name.count(".") == 1


def _is_file_call(call: ast.Call, name: str, method: str, taint: Taint) -> bool:
    """A file opened, sent or removed by a path from request data; ``Path(x).read_text()``; an
    upload saved under a name from request data (``file.save(dir + file.filename)``)."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if name in FILE_CALLS:
        return taint.tainted(_argument(call, 0, "file"))
    if method in PATH_METHODS:
        return taint.tainted(receiver)
    return method == "save" and taint.tainted(receiver) and taint.tainted(_argument(call, 0, "dst"))


def _marks_a_variable_safe(call: ast.Call) -> bool:
    """``mark_safe(text)``: a value that is not a literal (Django's ``mark_safe`` only: the
    framework's own helpers such as ``format_html`` escape their arguments)."""
    if last_name(call.func) != "mark_safe" or not call.args:
        return False
    value = call.args[0]
    if isinstance(value, ast.JoinedStr):
        return not all(isinstance(v, ast.Constant) for v in value.values)
    return not isinstance(value, ast.Constant)


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[position] if len(call.args) > position else None


def _safe_yaml(call: ast.Call) -> bool:
    """``yaml.load(text, Loader=yaml.SafeLoader)``: a loader that builds no objects."""
    loader = _argument(call, 1, "Loader")
    return loader is not None and last_name(loader) in SAFE_YAML_LOADERS
