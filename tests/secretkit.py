"""Secrets of every kind, built at run time from a seeded generator (so no token-shaped string
is in the source and a failure is reproducible), a target module holding them, and a search of
every file of a folder for any of their spellings."""

from __future__ import annotations

import base64
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Planted:
    """One value of each kind of secret, and the Python module that holds them."""

    values: dict[str, str]
    key_lines: list[str]

    @classmethod
    def build(cls, seed: int = 9) -> Planted:
        rng = random.Random(seed)
        alnum = string.ascii_letters + string.digits
        upper = string.ascii_uppercase + string.digits
        b64 = alnum + "+/"
        header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
        payload = base64.urlsafe_b64encode(
            json.dumps({"sub": _chars(rng, alnum, 12), "admin": True}).encode()
        ).decode().rstrip("=")  # fmt: skip
        key_lines = [_chars(rng, b64, 64) for _ in range(6)]
        values = {
            "aws_access_key_id": "AKIA" + _chars(rng, upper, 16),
            "aws_secret_access_key": _chars(rng, b64, 40),
            "database_password": "Pg" + _chars(rng, alnum, 14),
            "github_token": "ghp" + "_" + _chars(rng, alnum, 36),
            "slack_token": "xoxb-"
            + _chars(rng, string.digits, 12)
            + "-"
            + _chars(rng, string.digits, 13)
            + "-"
            + _chars(rng, alnum.lower(), 24),
            "jwt": f"{header}.{payload}.{_chars(rng, alnum + '-_', 43)}",
            "api_key": _chars(rng, alnum, 40),
            "password_keyword": "Tr0ub4dor&" + _chars(rng, alnum, 8),
            "default_argument": "dflt-" + _chars(rng, alnum, 20),
            "comparison": "cmp-" + _chars(rng, alnum, 20),
        }
        return cls(values, key_lines)

    @property
    def private_key(self) -> str:
        body = "\n".join(self.key_lines)
        return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"

    def module(self) -> str:
        """Each value as a module constant, and again where test planning copies literals from:
        default arguments and comparisons of public functions."""
        v = self.values
        key = self.private_key.replace("\n", "\\n")
        return "\n".join(
            [
                '"""Configuration and checks with hard-coded credentials of every kind."""',
                "",
                "import hashlib",
                "",
                f'AWS_ACCESS_KEY_ID = "{v["aws_access_key_id"]}"',
                f'AWS_SECRET_ACCESS_KEY = "{v["aws_secret_access_key"]}"',
                f'DATABASE_URL = "postgresql://shop:{v["database_password"]}@db.internal:5432/shop"',
                f'GH = "{v["github_token"]}"',
                f'SLACK = "{v["slack_token"]}"',
                f'SESSION = "{v["jwt"]}"',
                f'API_KEY = "{v["api_key"]}"',
                f'password = "{v["password_keyword"]}"',
                f'DEPLOY = """{self.private_key}"""',
                "",
                "",
                f'def connect(host: str, token: str = "{v["default_argument"]}") -> str:',
                "    if not host:",
                '        raise ValueError("host is empty")',
                '    return f"{host}:{token}"',
                "",
                "",
                "def is_admin(token: str) -> bool:",
                f'    if token == "{v["comparison"]}":',
                "        return True",
                "    return hashlib.sha256(token.encode()).hexdigest() == API_KEY",
                "",
                "",
                f'def login(user: str, password: str = "{v["password_keyword"]}") -> bool:',
                "    if len(user) > 100:",
                '        raise ValueError("user name too long")',
                "    return password == AWS_SECRET_ACCESS_KEY",
                "",
                "",
                "def upload(",
                "    bucket: str,",
                f'    key_id: str = "{v["aws_access_key_id"]}",',
                f'    secret: str = "{v["aws_secret_access_key"]}",',
                f'    database: str = "postgresql://shop:{v["database_password"]}@db.internal/shop",',
                ") -> str:",
                "    if not bucket:",
                '        raise ValueError("bucket is empty")',
                '    return f"{bucket}:{key_id}:{secret}:{database}"',
                "",
                "",
                f'def notify(text: str, slack: str = "{v["slack_token"]}", gh: str = "{v["github_token"]}") -> int:',
                f'    if gh == "{v["github_token"]}":',
                "        return len(text)",
                "    return len(slack)",
                "",
                "",
                f'def sign(claims: dict, session: str = "{v["jwt"]}", api_key: str = "{v["api_key"]}") -> str:',
                "    if not claims:",
                '        raise KeyError("claims")',
                "    return session + api_key",
                "",
                "",
                f'def deploy(host: str, pem: str = "{key}") -> bool:',
                f'    if pem == "{key}":',
                "        return bool(host)",
                "    return False",
                "",
            ]
        )

    def forms(self) -> dict[str, bytes]:
        """Every planted value in the forms a writer could use, lower-cased (they are looked for
        in any case): raw, JSON-escaped, base64, a test-name slug, a 16-character middle part."""
        out: dict[str, bytes] = {}
        for name, value in [*self.values.items(), *(("key_line", line) for line in self.key_lines)]:
            middle = len(value) // 2
            for form, text in {
                "raw": value,
                "json": json.dumps(value)[1:-1],
                "base64": base64.b64encode(value.encode()).decode(),
                "slug": re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_"),
                "part": value[middle - 8 : middle + 8],
            }.items():
                out[f"{name} ({form})"] = text.lower().encode()
        out["private key block (json)"] = json.dumps(self.private_key)[1:-1].lower().encode()
        return out


def leaks(folder: Path, planted: Planted) -> dict[str, list[str]]:
    """Files under ``folder`` (read as bytes, every one) that hold a planted value in any case."""
    found: dict[str, list[str]] = {}
    forms = planted.forms()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            hits = [name for name, form in forms.items() if form in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found
