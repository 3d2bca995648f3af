"""Which generated tests are safe to run: none whose code under test reaches a process, a
package manager, a file deletion or the network, unless the test fakes it.

Every function and method of the target is scanned for its calls (cached per file content),
each name resolved through the module's imports (``from shutil import rmtree`` makes ``rmtree``
``shutil.rmtree``, ``from .pip import run`` makes ``run`` the target's ``pkg.pip.run``). A test
reaches what its subject and the target names it calls reach, through the target's own call
graph: a subject that calls a helper that calls ``shutil.rmtree`` is unsafe. A call on an
unknown receiver (``obj.remove_all()``) is taken to reach every target method of that name. A
dangerous call is faked when the test patches (``monkeypatch.setattr``, ``mock.patch``) a name
on its way: ``"rmtree"``, the module ``"shutil"`` or the helper that calls it. An uninstaller
whose test patched ``rmtree`` but not ``subprocess`` reaches ``subprocess.run``: dropped.
Hub clients are the network too (``huggingface_hub``'s ``HfApi`` and downloads,
``datasets.load_dataset``), but not the values they define (``huggingface_hub.errors``, commit
operations, ``httpx.Response``): see :data:`OFFLINE`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from autocoder import __version__
from autocoder.engine.modules import is_test_file
from autocoder.engine.perspective import RunContext
from autocoder.engine.toolkit import cached_per_file
from autocoder.schema import TestSpec

TOOL, VERSION = "autocoder-tp-reach", f"{__version__}-3"
PROCESS, DELETE = "runs a process", "deletes or moves files"
NETWORK, PACKAGES = "uses the network", "runs a package manager"
TERMINAL = "waits for a person at the terminal"  # no generated test can answer a prompt
ROOTS = {"subprocess": PROCESS, "pexpect": PROCESS, "pty": PROCESS, "webbrowser": PROCESS,
         "runpy": PROCESS, "pip": PACKAGES, "ensurepip": PACKAGES, "socket": NETWORK,
         "requests": NETWORK, "httpx": NETWORK, "urllib3": NETWORK, "smtplib": NETWORK,
         "ftplib": NETWORK, "telnetlib": NETWORK, "poplib": NETWORK, "imaplib": NETWORK,
         "paramiko": NETWORK, "boto3": NETWORK, "huggingface_hub": NETWORK,
         "gradio_client": NETWORK, "websockets": NETWORK, "httpx2": NETWORK,
         "socketserver": NETWORK, "getpass": TERMINAL, "termios": TERMINAL, "tty": TERMINAL,
         "msvcrt": TERMINAL, "curses": TERMINAL}  # fmt: skip
# Names under a network root that build values and never connect (a Hub error, a commit op).
OFFLINE = ("huggingface_hub.errors.", "huggingface_hub.utils.", "huggingface_hub.constants.",
           "huggingface_hub.CommitOperation", "httpx.Response", "httpx.Request",
           "httpx.HTTPStatusError", "httpx.URL")  # fmt: skip
CALLS = {"os.system": PROCESS, "os.popen": PROCESS, "os.fork": PROCESS, "os.kill": PROCESS,
         "os.killpg": PROCESS, "asyncio.create_subprocess_exec": PROCESS,
         "asyncio.create_subprocess_shell": PROCESS, "os.remove": DELETE, "os.unlink": DELETE,
         "os.rmdir": DELETE, "os.removedirs": DELETE, "os.rename": DELETE, "os.renames": DELETE,
         "os.replace": DELETE, "os.truncate": DELETE, "shutil.rmtree": DELETE,
         "shutil.move": DELETE, "aiohttp.ClientSession": NETWORK, "aiohttp.request": NETWORK,
         "asyncio.open_connection": NETWORK, "datasets.load_dataset": NETWORK,
         "datasets.load_dataset_builder": NETWORK, "werkzeug.serving.run_simple": NETWORK,
         "uvicorn.run": NETWORK, "aiohttp.web.run_app": NETWORK,
         "wsgiref.simple_server.make_server": NETWORK, "input": TERMINAL}  # fmt: skip
PREFIXES = {"os.exec": PROCESS, "os.spawn": PROCESS, "os.posix_spawn": PROCESS,
            "urllib.request.": NETWORK, "http.client.": NETWORK, "http.server.": NETWORK,
            "sys.stdin.": TERMINAL,
            "xmlrpc.client.": NETWORK}  # fmt: skip
METHODS = {"unlink": DELETE, "rmdir": DELETE, "rmtree": DELETE, "urlopen": NETWORK,
           "urlretrieve": NETWORK, "sendmail": NETWORK, "check_call": PROCESS,
           "check_output": PROCESS, "Popen": PROCESS}  # fmt: skip
# Methods of builtins too common to follow into every target method of the same name.
COMMON = {"get", "items", "keys", "values", "append", "extend", "pop", "update", "join",
          "split", "strip", "format", "add", "remove", "copy", "setdefault", "startswith",
          "endswith", "replace", "lower", "upper", "encode", "decode", "insert", "index",
          "count", "sort", "discard", "clear", "close", "read", "write", "flush", "seek", "tell",
          "readline", "readlines", "fileno", "isatty"}  # fmt: skip
CONSTRUCTION = ("__init__", "__new__", "__post_init__")  # what calling a class runs
# Mocking libraries that intercept a whole HTTP client, and the client they fake.
HTTP_FAKERS = {
    "responses": "requests",
    "requests_mock": "requests",
    "respx": "httpx",
    "pytest_httpx": "httpx",
    "httpx_mock": "httpx",
    "aioresponses": "aiohttp",
}
# Test runners that stand in for the terminal: a CliRunner invocation answers prompts from its
# ``input=`` and swaps stdin, so what waits for a person reads the runner instead.
TERMINAL_FAKERS = ("CliRunner",)
TERMINAL_NAMES = {"input", "stdin", "getpass", "termios", "tty", "msvcrt", "curses"}
PATCHERS = {"setattr", "delattr", "patch", "object", "dict", "setitem", "multiple"}
PATCHING = ("monkeypatch", "mock", "patch", "mocker")  # what a patch call's name holds


def danger(call: str, methods: bool = True) -> str | None:
    """Why a resolved call is dangerous (:data:`PROCESS`...), or None. ``methods``: also by
    the method name alone (``path.unlink()``)."""
    parts = call.split(".")
    if call.startswith(OFFLINE):
        return None
    found = CALLS.get(call) or ROOTS.get(parts[0])
    found = found or next((why for p, why in PREFIXES.items() if call.startswith(p)), None)
    return found or (METHODS.get(parts[-1]) if methods else None)


def dotted(node: ast.AST) -> str:
    """``a.b.c`` of a name or attribute chain; ``?`` for a root that is not a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts, node = [node.attr, *parts], node.value
    return ".".join([node.id if isinstance(node, ast.Name) else "?", *parts])


def aliases(tree: ast.AST, module: str) -> dict[str, str]:
    """Local name -> what it names, from every import in ``tree`` (relative ones resolved
    against ``module``): ``sh`` -> ``shutil``, ``rmtree`` -> ``shutil.rmtree``."""
    found: dict[str, str] = {}
    package = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            for a in node.names:
                found[a.asname or a.name] = f"{origin}.{a.name}" if origin else a.name
    return found | _module_aliases(tree, found)


def _module_aliases(tree: ast.AST, imported: dict[str, str]) -> dict[str, str]:
    """``prompt_func = input`` or ``run = subprocess.run`` at module level: calling the name
    calls what it names (click's prompts call ``visible_prompt_func``)."""
    found: dict[str, str] = {}
    for node in tree.body if isinstance(tree, ast.Module) else []:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Name | ast.Attribute)
        ):
            named = resolve(dotted(node.value), imported)
            if danger(named, methods=False):
                found[node.targets[0].id] = named
    return found


def resolve(call: str, names: dict[str, str]) -> str:
    head, _, rest = call.partition(".")
    return f"{names[head]}.{rest}".rstrip(".") if head in names else call


def _called(func: ast.expr, names: dict[str, str]) -> str:
    """The resolved name a call calls; ``super.m`` for ``super().m``."""
    call = func.value if isinstance(func, ast.Attribute) else None
    if (
        isinstance(func, ast.Attribute)
        and isinstance(call, ast.Call)
        and dotted(call.func) == "super"
    ):
        return f"super.{func.attr}"
    return resolve(dotted(func), names)


def _calls(node: ast.AST, names: dict[str, str]) -> list[list[Any]]:
    seen = {(_called(n.func, names), n.lineno) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return [[c, line] for c, line in sorted(seen)]


def scan(tree: ast.Module, module: str) -> dict[str, Any]:
    """Each top-level function's and method's resolved calls with their lines, and each class's
    resolved bases."""
    names = aliases(tree, module)
    functions: dict[str, list[list[Any]]] = {}
    classes: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = _calls(node, names)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = [resolve(dotted(b), names) for b in node.bases]
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    functions[f"{node.name}.{item.name}"] = _calls(item, names)
    return {"functions": functions, "classes": classes}


@dataclass
class CallGraph:
    """The target's functions and methods by id (``module:qualname``), with their calls."""

    calls: dict[str, list[list[Any]]] = field(default_factory=dict)
    classes: dict[str, list[str]] = field(default_factory=dict)  # id -> resolved bases
    modules: set[str] = field(default_factory=set)
    methods: dict[str, set[str]] = field(default_factory=dict)  # method name -> ids

    def add(self, module: str, facts: dict[str, Any]) -> None:
        self.modules.add(module)
        self.classes |= {f"{module}:{c}": b for c, b in facts.get("classes", {}).items()}
        for qualname, calls in facts.get("functions", {}).items():
            self.calls[f"{module}:{qualname}"] = calls
            if "." in qualname:
                self.methods.setdefault(qualname.rsplit(".", 1)[1], set()).add(
                    f"{module}:{qualname}"
                )

    def targets(self, caller: str, call: str) -> list[str]:
        """The target's functions a call in ``caller`` (``module:qualname``) may run."""
        module, _, qualname = caller.partition(":")
        parts = call.split(".")
        if len(parts) == 1:
            found = [f"{module}:{call}"]
        elif parts[0] == "super" and "." in qualname:
            found = self._inherited(f"{module}:{qualname.split('.')[0]}", parts[1])
        elif parts[0] in ("self", "cls") and len(parts) == 2 and "." in qualname:
            own = f"{module}:{qualname.split('.')[0]}.{parts[1]}"
            found = [own] if own in self.calls else sorted(self.methods.get(parts[1], ()))
        elif hit := next((k for k in range(len(parts) - 1, 0, -1)
                          if ".".join(parts[:k]) in self.modules), None):  # fmt: skip
            found = [f"{'.'.join(parts[:hit])}:{'.'.join(parts[hit:])}"]
        elif parts[-1] in COMMON or parts[-1].startswith("__"):
            found = []  # a builtin's method, most likely; a dunder is reached through super()
        else:
            found = sorted(self.methods.get(parts[-1], ()))
        runs = [r for c in found if c in self.classes for r in self.construction(c)]
        return [f for f in [*found, *runs] if f in self.calls]

    def construction(self, cls: str) -> list[str]:
        """What calling the class runs: its own or its nearest base's ``__init__`` and co."""
        found: list[str] = []
        for method in CONSTRUCTION:
            own = f"{cls}.{method}"
            found += [own] if own in self.calls else self._inherited(cls, method)
        return found

    def _inherited(self, cls: str, method: str, depth: int = 0) -> list[str]:
        """``method`` as the bases of ``cls`` (the target's own) define it, nearest first."""
        found: list[str] = []
        for base in self.classes.get(cls, []) if depth < 8 else []:
            module = cls.partition(":")[0]
            ids = [c for c in self.class_ids(module, base) if c in self.classes]
            for base_id in ids:
                own = f"{base_id}.{method}"
                found += [own] if own in self.calls else self._inherited(base_id, method, depth + 1)
        return found

    def class_ids(self, module: str, name: str) -> list[str]:
        """The ids a class name used in ``module`` may stand for."""
        parts = name.split(".")
        hit = next((k for k in range(len(parts) - 1, 0, -1)
                    if ".".join(parts[:k]) in self.modules), None)  # fmt: skip
        if hit is not None:
            return [f"{'.'.join(parts[:hit])}:{'.'.join(parts[hit:])}"]
        return [f"{module}:{name}"]


def call_graph(ctx: RunContext) -> CallGraph:
    """The call graph of the target's code files (tests excluded), scans cached per file."""
    files = [f for f in ctx.sources.python if not is_test_file(f)]
    per_file = cached_per_file(
        ctx.cache, TOOL, VERSION, ctx.sources, files,
        lambda miss: {f: scan(t, ctx.sources.module(f)) if (t := ctx.sources.parse(f)) else {}
                      for f in miss},
        default={},
    )  # fmt: skip
    graph = CallGraph()
    for file in files:
        graph.add(ctx.sources.module(file), per_file[file])
    return graph


def faked_names(tree: ast.Module) -> set[str]:
    """The names a test patches (the last part of each string a patch call is given); where
    one is given a variable, every dotted-name string of the test, to be safe the other way."""
    found: set[str] = set()
    patches = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
               and dotted(n.func).split(".")[-1] in PATCHERS
               and any(w in dotted(n.func) for w in PATCHING)]  # fmt: skip
    for call in patches:
        arguments = [*call.args, *(k.value for k in call.keywords)]
        texts = [a.value for a in arguments if isinstance(a, ast.Constant)]
        found |= {t.rsplit(".", 1)[-1] for t in texts if isinstance(t, str)}
        if any(isinstance(a, ast.Name) for a in call.args[1:2]):
            found |= {n.value.rsplit(".", 1)[-1] for n in ast.walk(tree)
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)
                      and n.value.replace(".", "").replace("_", "").isalnum()}  # fmt: skip
    return found | _faked_clients(tree)


def _faked_clients(tree: ast.Module) -> set[str]:
    """The HTTP clients a test fakes whole with a mocking library it imports or activates
    (``responses`` intercepts every ``requests`` call, ``respx`` every ``httpx`` call...)."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {a.name.split(".")[0] for n in ast.walk(tree)
             if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}  # fmt: skip
    used |= {n.module.split(".")[0] for n in ast.walk(tree)
             if isinstance(n, ast.ImportFrom) and n.module}  # fmt: skip
    used |= {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in HTTP_FAKERS
    }  # importorskip("x")
    clients = {client for faker, client in HTTP_FAKERS.items() if faker in used}
    return clients | (TERMINAL_NAMES if used & set(TERMINAL_FAKERS) else set())


def unfaked_reach(spec: TestSpec, graph: CallGraph) -> str | None:
    """How the spec's test reaches a dangerous call it does not fake (``pkg.mod:f ->
    pkg.mod:_pip -> subprocess.run (runs a process) at pkg/mod.py:12``), or None."""
    try:
        tree = ast.parse(spec.test_code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # never runs: finish() drops code that does not compile
    fakes = faked_names(tree)
    own = [c for c in _calls(tree, aliases(tree, "")) if not _is_faked(c[0], fakes)]
    for call, _ in own:
        if (why := danger(call, methods=False)) and not (why == PROCESS and _asks_help(tree)):
            return f"the test itself calls {call} ({why})"
    roots = {spec.subject, *(t for c, _ in own for t in graph.targets(":", c))}
    return next(_dangers(graph, sorted(roots), fakes), None)


def _asks_help(tree: ast.Module) -> bool:
    """An end-to-end test that starts this Python on the target's command with ``--help`` only:
    the process is the sandboxed interpreter, and ``--help`` exits before any action."""
    texts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    runs_python = any(dotted(n) == "sys.executable" for n in ast.walk(tree))
    return runs_python and "--help" in texts and not texts & {"install", "uninstall", "-m"}


def _is_faked(call: str, fakes: set[str]) -> bool:
    return any(part in fakes for part in call.split("."))


def _dangers(graph: CallGraph, roots: list[str], fakes: set[str]) -> Iterator[str]:
    """Breadth first from ``roots`` through the target's calls not faked: each dangerous call
    found, with the path to it."""
    runs = [r for root in roots if root in graph.classes for r in graph.construction(root)]
    came_from: dict[str, str | None] = {r: None for r in [*roots, *runs] if r in graph.calls}
    queue = list(came_from)
    while queue:
        node = queue.pop(0)
        for call, line in graph.calls[node]:
            if _is_faked(call, fakes):
                continue
            if why := danger(call):
                path = [node]
                while (back := came_from[path[0]]) is not None:
                    path.insert(0, back)
                yield f"{' -> '.join(path)} -> {call} ({why}) at line {line}"
                return
            for target in graph.targets(node, call):
                if target not in came_from:
                    came_from[target] = node
                    queue.append(target)


def safe_to_run(ctx: RunContext, specs: list[TestSpec]) -> tuple[list[TestSpec], dict[str, str]]:
    """The specs whose tests reach nothing dangerous unfaked, and spec id -> how the others do
    (never kept: written or run, such a test could uninstall, delete or call out)."""
    graph = call_graph(ctx)
    kept: list[TestSpec] = []
    unsafe: dict[str, str] = {}
    for spec in specs:
        if (how := unfaked_reach(spec, graph)) is None:
            kept.append(spec)
        else:
            unsafe[spec.id] = f"{spec.subject}: {how}"
    return kept, unsafe
