"""What a request handler answers, read from its code: the status, and the redirect location,
text or JSON keys its one ``return`` or ``raise`` determines.

Only a handler whose body (after its docstring) is that one statement is read, so the outcome
does not hang on a branch, a database or the request beyond a query parameter's default
(``request.query.get("next", "/")`` without the parameter is ``"/"``). Anything else has no
known outcome, and so no test: a client test must assert what the code decides.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

HTTP_ERRORS = {"HTTPFound": 302, "HTTPMovedPermanently": 301, "HTTPSeeOther": 303,
               "HTTPTemporaryRedirect": 307, "HTTPPermanentRedirect": 308,
               "HTTPBadRequest": 400, "HTTPUnauthorized": 401, "HTTPForbidden": 403,
               "HTTPNotFound": 404, "HTTPMethodNotAllowed": 405, "HTTPGone": 410,
               "HTTPNoContent": 204, "Http404": 404, "PermissionDenied": 403,
               "SuspiciousOperation": 400}  # fmt: skip
REDIRECTS = {301, 302, 303, 307, 308}
TEXT_RESPONSES = {"Response", "HttpResponse", "make_response"}
JSON_RESPONSES = {"json_response", "JsonResponse", "jsonify"}
REDIRECT_CALLS = {"redirect": 302, "HttpResponseRedirect": 302,
                  "HttpResponsePermanentRedirect": 301}  # fmt: skip
STATUS_RESPONSES = {"HttpResponseNotFound": 404, "HttpResponseForbidden": 403,
                    "HttpResponseBadRequest": 400, "HttpResponseNotAllowed": 405}  # fmt: skip
QUERY_READS = ("request.query.get", "request.args.get", "request.GET.get")


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str | None = None
    text: str | None = None
    json_keys: tuple[str, ...] = ()

    def describe(self) -> str:
        """``302 to '/'``, ``200 with text 'ok'``, ``200 with JSON keys ok``."""
        if self.location is not None:
            return f"{self.status} to {self.location!r}"
        if self.text is not None:
            return f"{self.status} with text {self.text!r}"
        keys = f" with JSON keys {', '.join(self.json_keys)}" if self.json_keys else ""
        return f"{self.status}{keys}"


def constant(node: ast.expr | None) -> str | None:
    """A string the handler fixes: a literal, or the default of a query parameter read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and ast.unparse(node.func) in QUERY_READS:
        return constant(node.args[1]) if len(node.args) == 2 else None
    return None


def _name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target).rsplit(".", 1)[-1]


def _keys(node: ast.expr) -> tuple[str, ...] | None:
    """The constant keys of a dict literal, of ``jsonify(a=1)``'s keywords; None for others."""
    if isinstance(node, ast.Dict) and node.keys:
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        return tuple(str(k) for k in keys) if len(keys) == len(node.keys) else None
    if isinstance(node, ast.Call) and node.keywords and not node.args:
        names = [k.arg for k in node.keywords]
        return tuple(str(n) for n in names) if all(names) else None
    return None


def _status_keyword(call: ast.Call, default: int) -> int | None:
    """The ``status=`` keyword's constant, ``default`` without one, None when not a constant."""
    for keyword in call.keywords:
        if keyword.arg in ("status", "status_code"):
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, int):
                return value.value
            return None
    return default


def raised(node: ast.expr) -> Outcome | None:
    """``raise web.HTTPFound("/")`` -> 302 to "/"; ``raise Http404`` -> 404."""
    status = HTTP_ERRORS.get(_name(node))
    if status is None:
        return None
    if status not in REDIRECTS:
        return Outcome(status)
    location = constant(node.args[0]) if isinstance(node, ast.Call) and node.args else None
    return Outcome(status, location) if location is not None else None


def returned(node: ast.expr) -> Outcome | None:
    """The outcome of a returned response, plain string, dict or ``(body, status)`` tuple."""
    if isinstance(node, ast.Tuple) and len(node.elts) == 2:
        body, status = node.elts
        plain = returned(body)
        if plain and isinstance(status, ast.Constant) and isinstance(status.value, int):
            return Outcome(status.value, plain.location, plain.text, plain.json_keys)
        return None
    if (text := constant(node)) is not None:
        return Outcome(200, text=text)
    if (keys := _keys(node)) is not None and isinstance(node, ast.Dict):
        return Outcome(200, json_keys=keys)
    return _response_call(node) if isinstance(node, ast.Call) else None


def _response_call(call: ast.Call) -> Outcome | None:
    name, first = _name(call), call.args[0] if call.args else None
    if name in REDIRECT_CALLS:
        location = constant(first)
        return Outcome(REDIRECT_CALLS[name], location) if location is not None else None
    if name in STATUS_RESPONSES:
        return Outcome(STATUS_RESPONSES[name])
    if name in JSON_RESPONSES:
        keys = _keys(first) if first is not None else _keys(call)
        status = _status_keyword(call, 200)
        return Outcome(status, json_keys=keys) if keys and status else None
    if name in TEXT_RESPONSES:
        text = next((constant(k.value) for k in call.keywords if k.arg in ("text", "body")), None)
        text = constant(first) if text is None else text
        status = _status_keyword(call, 200)
        return Outcome(status, text=text) if text is not None and status else None
    return None


def outcome(handler: ast.FunctionDef | ast.AsyncFunctionDef) -> Outcome | None:
    """The outcome of a handler whose body is one ``return``, ``raise`` or ``abort(N)``."""
    body = handler.body[1:] if ast.get_docstring(handler) is not None else handler.body
    if len(body) != 1:
        return None
    statement = body[0]
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        return raised(statement.exc)
    if isinstance(statement, ast.Return) and statement.value is not None:
        return returned(statement.value)
    call = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(call, ast.Call) and _name(call) == "abort" and call.args:
        code = call.args[0]
        if isinstance(code, ast.Constant) and isinstance(code.value, int):
            return Outcome(code.value)
    return None
