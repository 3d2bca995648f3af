"""Is this expression request data? A small intra-procedural taint tracker on :mod:`ast`.

Taint starts only at real request sources (``request.args``, ``request.GET``,
``await request.json()``, ``request.match_info`` ...) and at the URL parameters of a view (a
function routed by a decorator, or one whose first parameter is the request), and flows through
assignments, loops, string building and a short list of string and path functions, in source
order within one function. A call of any other function on request data gives clean data: an ORM
lookup by a user-supplied id returns a row, not the id. Conversions such as ``int(...)`` and
``secure_filename(...)`` clean it too. No finding can come from a constant.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
REQUEST_NAMES = frozenset({"request", "req"})
# attributes of a request object that hold what the client sent (Flask, Django, aiohttp, Starlette)
USER_ATTRS = frozenset(
    {
        "args", "form", "values", "files", "json", "data", "cookies", "headers", "get_json",
        "get_data", "GET", "POST", "FILES", "COOKIES", "META", "body", "query", "query_string",
        "match_info", "rel_url", "post", "text", "read", "content", "multipart", "stream",
        "query_params", "path_params", "path", "full_path", "url", "raw_path",
    }
)  # fmt: skip
# functions that hand back (part of) the text they were given; any other function, such as
# int(), secure_filename() or an ORM lookup, gives back something new: clean
PROPAGATORS = frozenset(
    {
        "str", "bytes", "format", "join", "urljoin", "Path", "PurePath", "PosixPath", "normpath",
        "abspath", "realpath", "expanduser", "b64decode", "urlsafe_b64decode", "unquote",
        "unquote_plus", "loads", "dict", "list", "tuple", "getattr", "fspath", "build_absolute_uri",
    }
)  # fmt: skip
# methods that give clean data whatever they are called on (checks, counts, escapes)
CLEANING_METHODS = frozenset(
    {
        "isdigit", "isnumeric", "isalnum", "isalpha", "startswith", "endswith", "count",
        "index", "find", "exists", "is_file", "is_dir", "keys",
    }
)  # fmt: skip
# what a URL parameter (a string) can be asked for: an attribute of an object is not the URL
STR_METHODS = frozenset(
    {
        "strip", "lstrip", "rstrip", "lower", "upper", "title", "casefold", "replace", "split",
        "rsplit", "encode", "decode", "format", "join", "removeprefix", "removesuffix",
        "partition", "splitlines", "get", "values", "items", "pop",
    }
)  # fmt: skip
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "head", "options", "view", "api_route"}
)
TYPED_CONVERTERS = ("<int:", "<float:", "<uuid:", "{id:int}")
CLEAN_ANNOTATIONS = frozenset({"int", "float", "bool", "UUID", "uuid.UUID"})


def dotted(node: ast.expr) -> str:
    """``requests.get`` for ``requests.get``; "" when the callee is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ".".join(["?", *reversed(parts)]) if parts else ""


def last_name(node: ast.expr) -> str:
    return dotted(node).rsplit(".", 1)[-1]


@dataclass
class Taint:
    """The request objects and the names that hold request data at one point of a function."""

    requests: set[str] = field(default_factory=lambda: set(REQUEST_NAMES))
    names: set[str] = field(default_factory=set)
    url_params: set[str] = field(default_factory=set)  # of names: those still the URL's text

    def is_request(self, node: ast.expr) -> bool:
        """A request object itself: ``request``, ``self.request``."""
        if isinstance(node, ast.Name):
            return node.id in self.requests
        return isinstance(node, ast.Attribute) and node.attr == "request"

    def tainted(self, node: ast.expr | None) -> bool:  # noqa: PLR0911 - one case per node type
        """Whether ``node`` evaluates to (text built from) request data."""
        if node is None or isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Name):
            return node.id in self.names
        if isinstance(node, ast.Attribute):
            if self.is_request(node.value):
                return node.attr in USER_ATTRS
            if self._is_url_param(node.value):
                return False  # f.title of a view's parameter f: a row passed in, not the URL
            return node.attr not in CLEANING_METHODS and self.tainted(node.value)
        if isinstance(node, ast.Call):
            return self._call_tainted(node)
        if isinstance(node, ast.Subscript | ast.Await | ast.Starred | ast.FormattedValue):
            return self.tainted(node.value)
        if isinstance(node, ast.IfExp):
            return self.tainted(node.body) or self.tainted(node.orelse)
        return any(self.tainted(child) for child in _operands(node))

    def _is_url_param(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.url_params

    def _call_tainted(self, node: ast.Call) -> bool:
        name = last_name(node.func)
        if isinstance(node.func, ast.Attribute) and self._is_url_param(node.func.value):
            return node.func.attr in STR_METHODS  # slug.lower(), kwargs.get("pk")
        if isinstance(node.func, ast.Attribute) and self.tainted(node.func):
            return True  # a method of request data: request.args.get("x"), name.strip()
        if name not in PROPAGATORS:
            return False  # any other function makes something new of its arguments
        return any(self.tainted(a) for a in [*node.args, *(k.value for k in node.keywords)])

    def assign(self, target: ast.expr, tainted: bool) -> None:
        """Record that ``target`` now holds request data (or no longer does)."""
        if isinstance(target, ast.Name):
            (self.names.add if tainted else self.names.discard)(target.id)
            self.url_params.discard(target.id)
            self.requests.discard(target.id)  # req = Request(url): a local object, not the client's
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.assign(element, tainted)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, tainted)


def _operands(node: ast.expr) -> list[ast.expr]:
    """The sub-expressions whose data ends up in ``node``'s value (not those of comparisons)."""
    if isinstance(node, ast.Compare | ast.Lambda | ast.UnaryOp):
        return []
    if isinstance(node, ast.Dict):
        return [v for v in node.values if v is not None]
    return [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]


def view_parameters(func: FunctionNode) -> tuple[set[str], set[str]]:
    """The parameters of ``func`` that are request objects, and those the URL fills in.

    A routed function (``@app.route``, ``@routes.get``) takes its URL parameters by name, except
    those a typed converter (``<int:id>``) or annotation makes numbers. A function whose first
    parameter (after ``self``) is ``request`` is a Django-style view: the parameters after it
    without a default come from the URL.
    """
    params = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
    requests = {p.arg for p in params if _is_request_annotation(p.annotation)}
    routed = [d for d in func.decorator_list if _is_route(d)]
    if routed:
        typed = _typed_route_params(routed)
        from_url = {
            p.arg for p in params
            if p.arg not in typed and p.arg not in requests and p.arg not in REQUEST_NAMES
            and not _clean_annotation(p.annotation) and p.arg not in {"self", "cls"}
        }  # fmt: skip
        return requests, from_url
    positional = [p for p in [*func.args.posonlyargs, *func.args.args] if p.arg not in {"self"}]
    if not positional or positional[0].arg not in REQUEST_NAMES:
        return requests, set()
    without_default = positional[: len(positional) - len(func.args.defaults)]
    from_url = {p.arg for p in without_default[1:] if not _clean_annotation(p.annotation)}
    if func.args.kwarg is not None:
        from_url.add(func.args.kwarg.arg)
    return requests, from_url


def is_view(func: FunctionNode) -> bool:
    """Routed, or taking the request as its first parameter (after ``self``) or by annotation."""
    params = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
    positional = [p.arg for p in [*func.args.posonlyargs, *func.args.args] if p.arg != "self"]
    return (
        any(_is_route(d) for d in func.decorator_list)
        or (bool(positional) and positional[0] in REQUEST_NAMES)
        or any(_is_request_annotation(p.annotation) for p in params)
    )


def _is_route(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and last_name(decorator.func) in ROUTE_DECORATORS
        and (bool(decorator.args) and isinstance(decorator.args[0], ast.Constant))
    )


def _typed_route_params(routes: list[ast.expr]) -> set[str]:
    """Parameter names a route string converts to a number: ``/item/<int:item_id>``."""
    names: set[str] = set()
    for route in routes:
        assert isinstance(route, ast.Call)
        text = route.args[0].value if isinstance(route.args[0], ast.Constant) else ""
        for converter in TYPED_CONVERTERS:
            for piece in str(text).split(converter)[1:]:
                names.add(piece.split(">", 1)[0].split("}", 1)[0])
    return names


def _is_request_annotation(annotation: ast.expr | None) -> bool:
    return annotation is not None and last_name(annotation) in {"Request", "HttpRequest"}


def _clean_annotation(annotation: ast.expr | None) -> bool:
    return annotation is not None and dotted(annotation) in CLEAN_ANNOTATIONS


def flow(
    func: FunctionNode, handed: frozenset[str] = frozenset()
) -> Iterator[tuple[ast.AST, Taint]]:
    """Each piece of ``func`` to check (a simple statement, or the header of a compound one) with
    the taint in effect where it runs, in source order; nested functions are left to their own
    turn. Branches are merged by union: data tainted on one path stays tainted after. ``handed``
    are parameters a view fills with request data (see :mod:`._handoff_taint`)."""
    requests, from_url = view_parameters(func)
    taint = Taint(set(REQUEST_NAMES) | requests, from_url | handed, from_url - handed)
    yield from _block(func.body, taint)


def _block(body: list[ast.stmt], taint: Taint) -> Iterator[tuple[ast.AST, Taint]]:
    for stmt in body:
        yield from _statement(stmt, taint)


def _statement(stmt: ast.stmt, taint: Taint) -> Iterator[tuple[ast.AST, Taint]]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return
    if isinstance(stmt, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
        yield from _binding_block(stmt, taint)
    elif isinstance(stmt, ast.If | ast.While):
        yield stmt.test, taint
        yield from _block([*stmt.body, *stmt.orelse], taint)
    elif isinstance(stmt, ast.Try | ast.TryStar):
        yield from _block([*stmt.body, *stmt.orelse, *stmt.finalbody], taint)
        for handler in stmt.handlers:
            yield from _block(handler.body, taint)
    elif isinstance(stmt, ast.Match):
        yield stmt.subject, taint
        for case in stmt.cases:
            yield from _block(case.body, taint)
    else:
        yield stmt, taint
        _update(stmt, taint)


def _binding_block(
    stmt: ast.For | ast.AsyncFor | ast.With | ast.AsyncWith, taint: Taint
) -> Iterator[tuple[ast.AST, Taint]]:
    """A loop or ``with`` block: its header binds names (tainted when what they come from is)."""
    if isinstance(stmt, ast.For | ast.AsyncFor):
        yield stmt.iter, taint
        taint.assign(stmt.target, taint.tainted(stmt.iter))
        yield from _block([*stmt.body, *stmt.orelse], taint)
        return
    for item in stmt.items:
        yield item.context_expr, taint
        if item.optional_vars is not None:
            taint.assign(item.optional_vars, taint.tainted(item.context_expr))
    yield from _block(stmt.body, taint)


def _update(stmt: ast.stmt, taint: Taint) -> None:
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            taint.assign(target, taint.tainted(stmt.value))
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        taint.assign(stmt.target, taint.tainted(stmt.value))
    elif isinstance(stmt, ast.AugAssign) and taint.tainted(stmt.value):
        taint.assign(stmt.target, True)


def calls(node: ast.AST) -> Iterator[ast.Call]:
    """The calls in ``node``, without those inside a nested function or lambda."""
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, ast.Call):
            yield current
        todo.extend(
            c for c in ast.iter_child_nodes(current)
            if not isinstance(c, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        )  # fmt: skip


def functions(tree: ast.Module) -> Iterator[FunctionNode]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
