"""Secrets of the target never reach anything autocoder writes: records, specs, state, cache, tests.

The end-to-end test plants one secret of each kind (tests/secretkit.py) in a copy of the 'shop'
fixture, runs both workers through every perspective and ``tests --write``, and reads every file
they wrote as bytes.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from autocoder.cli import main
from autocoder.engine.cache import ResultCache
from autocoder.errors import StoreError
from autocoder.redaction import (
    SLUG_PLACEHOLDER,
    find_secrets,
    redact_text,
    scrub,
    scrub_values_in_place,
)
from autocoder.store.reader import LocalReader, read_shard, record_paths

from secretkit import Planted, leaks

ANALYSIS = "autocoder-analysis-results"
PLANNING = "autocoder-test-planning-results"


@pytest.fixture
def hostile_target(shop_repo: Path) -> tuple[Path, Planted]:
    """The 'shop' fixture with a module that hard-codes one secret of each kind, committed."""
    planted = Planted.build()
    (shop_repo / "shop" / "credentials.py").write_text(planted.module(), encoding="utf-8")
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e.x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e.x",
        "HOME": str(shop_repo),
        "PATH": "/usr/bin:/bin",
    }
    for args in (["add", "-A"], ["commit", "-q", "-m", "credentials"]):
        subprocess.run(["git", *args], cwd=shop_repo, env=env, check=True, capture_output=True)
    return shop_repo, planted


def test_planted_secrets_appear_in_no_file_any_worker_or_tests_write_writes(
    hostile_target: tuple[Path, Planted],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target, planted = hostile_target
    monkeypatch.setenv("AUTOCODER_NETWORK", "0")
    data, tree = tmp_path / "data", tmp_path / "generated"
    for worker, iterations in (("analysis", 6), ("test-planning", 15)):
        argv = ["once", worker, "--target", str(target), "--data-dir", str(data),
                "--iterations", str(iterations)]  # fmt: skip
        assert main(argv) == 0
    assert main(["tests", "--write", str(tree), "--data-dir", str(data)]) == 0
    capsys.readouterr()

    # the secrets were really in the target, and the workers really read that module
    assert leaks(target, planted)
    specs = "".join(p.read_text() for p in (data / PLANNING / "data" / "specs").rglob("*.jsonl"))
    assert "shop/credentials.py" in specs and "credentials.py" in "".join(
        p.read_text() for p in (data / ANALYSIS / "data" / "findings").rglob("*.jsonl")
    )
    assert (data / ".cache" / "results.sqlite3").exists()
    assert (data / PLANNING / "state" / "worker-state.json").exists()
    # ... and none of them came out, not in any spelling
    leaked = {**leaks(data, planted), **leaks(tree, planted)}
    assert not leaked, json.dumps(leaked, indent=1)
    # the placeholders keep the generated tests valid Python, and the records count them
    written = list(tree.rglob("test_*.py"))
    assert any("<redacted:" in p.read_text() for p in written)
    for path in written:
        ast.parse(path.read_text(), str(path))
    reader = LocalReader(data / PLANNING)
    records = [r for path in record_paths(reader) for r in read_shard(reader, path)]
    assert sum(r["analysis"].get("redacted", {}).get("specs", 0) for r in records) > 0


# -- one string: each kind of secret ---------------------------------------------------------
P = Planted.build(seed=3).values
KEY = Planted.build(seed=3).private_key


@pytest.mark.parametrize(
    ("source", "secret", "kind"),
    [
        (f'key_id = "{P["aws_access_key_id"]}"', P["aws_access_key_id"], "AWS Access Key"),
        (f'aws_secret_access_key = "{P["aws_secret_access_key"]}"', P["aws_secret_access_key"], None),
        (f'URL = "postgresql://app:{P["database_password"]}@db:5432/x"', P["database_password"],
         "Basic Auth Credentials"),
        (f'GH = "{P["github_token"]}"', P["github_token"], "GitHub Token"),
        (f"SLACK = '{P['slack_token']}'", P["slack_token"], "Slack Token"),
        (f"SESSION = '{P['jwt']}'", P["jwt"].split(".")[2], "JSON Web Token"),
        (f'API_KEY = "{P["api_key"]}"', P["api_key"], None),
        (f'password = "{P["password_keyword"]}"', P["password_keyword"], "Secret Keyword"),
        (f'def connect(host, token: str = "{P["default_argument"]}"):', P["default_argument"],
         "Secret Keyword"),
        (f'    if token == "{P["comparison"]}":', P["comparison"], "Secret Keyword"),
        (f'    if "{P["comparison"]}" != self.token:', P["comparison"], "Secret Keyword"),
        (f'os.getenv("DB_PASSWORD", "{P["default_argument"]}")', P["default_argument"],
         "Secret Keyword"),
        (f'DB_PASSWORD={P["password_keyword"]}\nDEBUG=1', P["password_keyword"], "Secret Keyword"),
        (json.dumps({"client_secret": P["default_argument"]}), P["default_argument"],
         "Secret Keyword"),
        (f'headers = {{"Authorization": "Bearer {P["api_key"]}"}}', P["api_key"], None),
        (f"DEPLOY = '''{KEY}'''", KEY.splitlines()[3], "Private Key"),
        (f'DEPLOY = "{KEY.replace(chr(10), chr(92) + "n")}"', KEY.splitlines()[1], "Private Key"),
        ("\n".join(KEY.splitlines()[:4]), KEY.splitlines()[3], "Private Key"),  # cut off
    ],
)  # fmt: skip
def test_each_kind_of_secret_is_replaced_by_a_placeholder_naming_its_type(
    source: str, secret: str, kind: str | None
) -> None:
    clean, found = redact_text(source)
    assert secret not in clean and found
    assert f"<redacted:{kind}>" in clean if kind else "<redacted:" in clean


def test_only_the_password_of_a_url_goes_and_the_rest_stays() -> None:
    clean, _ = redact_text(f"postgresql://app:{P['database_password']}@db.internal:5432/shop")
    assert clean == "postgresql://app:<redacted:Basic Auth Credentials>@db.internal:5432/shop"


def test_redacted_code_and_json_stay_valid_and_keep_no_part_of_any_value() -> None:
    planted = Planted.build(seed=5)
    clean, found = redact_text(planted.module())
    ast.parse(clean)
    assert len(found) >= 20
    for value in [*planted.values.values(), *planted.key_lines]:
        assert value[len(value) // 2 - 6 : len(value) // 2 + 6] not in clean
    as_json = json.dumps({"code": planted.module()})
    assert json.loads(redact_text(as_json)[0])  # still JSON


SRI = "sha384-" + base64.b64encode(hashlib.sha384(b"app.js").digest()).decode()
SHA = hashlib.sha1(b"commit").hexdigest()


@pytest.mark.parametrize(
    "source",
    [
        f'<script src="app.js" integrity="{SRI}" crossorigin="anonymous"></script>',
        f'commit = "{SHA}"',
        f'assert digest == "{hashlib.sha256(b"x").hexdigest()}"',
        f'request_id = "{uuid.UUID(int=2**122 + 12345, version=4)}"',
        'password = "changeme"',
        'api_key = "${API_KEY}"',
        'token = "<your-token>"',
        'password = ""',
        'password = "xxxxxxxx"',
        'secret = os.environ["SECRET"]',
        'API_KEY = os.getenv("API_KEY")',
        'monkeypatch.setenv("HF_TOKEN", "test-token")',
        "HF_TOKEN: ${{ secrets.HF_TOKEN }}",
        "def login(user: str, password: str) -> bool:",
        'if token.type == "NAME":',
        "items = sorted(items, key=lambda item: item.name)",
        'key = "name"',
        'sort(rows, key="created_at")',
        "for key, value in mapping.items():",
        'raise KeyError("missing key")',
        'password_help = "Enter your password here"',
        "shop.credentials:connect",
        "[('host', 'POSITIONAL_OR_KEYWORD'), ('token', 'POSITIONAL_OR_KEYWORD')]",
        'author = "Ada Lovelace"',
        "The tests of shop.orders:classify need a database (skipped: no network).",
        # names of code next to secret-like words (seen on Django: 336 specs were mangled)
        "django.contrib.auth.tokens:PasswordResetTokenGenerator.make_token",
        "django.contrib.auth.password_validation:CommonPasswordValidator.validate",
        'AUTH_USER_MODEL = "auth_tests.CustomUserWithM2M"',
        '@override_settings(AUTH_USER_MODEL="auth_tests.UUIDUser")',
        'PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]',
        "from django.contrib.auth.views import PasswordResetConfirmView",
        "(request, usable_password_field_name='usable_password')",
        'password_validators = "password_validators"',
        'TOKEN_URL = "https://example.org/oauth/token"',
    ],
)
def test_non_secrets_are_left_as_they_are(source: str) -> None:
    assert find_secrets(source) == []
    assert scrub({"text": source, "key": "value"}) == ({"text": source, "key": "value"}, 0)


# -- JSON-like data --------------------------------------------------------------------------
def test_scrub_walks_dicts_lists_tuples_and_keys_and_counts_what_it_replaced() -> None:
    gh = P["github_token"]
    data = {"a": [f"x = '{gh}'", ("y", f'password = "{P["password_keyword"]}"')], f"GH={gh}": 1}
    clean, count = scrub(data)
    assert gh not in json.dumps(clean) and P["password_keyword"] not in json.dumps(clean)
    assert count == 3 and isinstance(clean["a"][1], tuple)
    assert data["a"][0] == f"x = '{gh}'"  # a copy: the input is unchanged
    assert scrub(clean) == (clean, 0)  # placeholders are no secrets


def test_a_quoted_default_next_to_a_secret_like_parameter_name_is_redacted() -> None:
    param = {"name": "token", "annotation": "str", "default": f"'{P['default_argument']}'"}
    snapshot = {"API_KEY": "attribute", "password": "attribute", "connect": "(host, token)"}
    clean, count = scrub({"params": [param], "snapshot": snapshot})
    assert clean["params"][0]["default"] == "'<redacted:Secret Keyword>'" and count == 1
    assert clean["snapshot"] == snapshot


def test_other_spellings_of_a_found_secret_are_chased_through_the_whole_payload() -> None:
    gh, cmp = P["github_token"], P["comparison"]
    swapped = gh.swapcase()
    slug, cmp_slug = gh.lower(), cmp.lower().replace("-", "_")[:14]
    spec = {
        "rationale": f"`gh == '{gh}'` at shop/credentials.py:54; also `token == '{cmp}'`",
        "inputs": f"gh in ['{gh}', '{swapped}', '']",
        "test_code": f"def test_notify_gh_eq_{slug}():\n    for gh in ('{gh}', '{swapped}'):\n"
        f"        assert notify('x', gh=gh)\n\n\ndef test_is_admin_token_eq_{cmp_slug}():"
        "\n    pass\n",
    }
    clean, _ = scrub([spec, {"state": [gh[:20], cmp.upper()]}])
    text = json.dumps(clean).lower()
    assert gh.lower()[4:] not in text and cmp.lower()[4:14] not in text
    assert f"def test_notify_gh_eq_{SLUG_PLACEHOLDER}()" in clean[0]["test_code"]
    ast.parse(clean[0]["test_code"])


def test_a_short_plain_keyword_value_is_not_chased_into_ordinary_code() -> None:
    clean, _ = scrub({"a": 'if token == "returns":', "b": "return returns"})
    assert clean["b"] == "return returns"


def test_scrub_values_in_place_changes_what_the_caller_still_holds() -> None:
    facts = {"params": [{"name": "password", "default": f"'{P['password_keyword']}'"}]}
    items = {"k": facts}
    assert scrub_values_in_place(items) == 1
    assert facts["params"][0]["default"] == "'<redacted:Secret Keyword>'"


# -- the result cache ----------------------------------------------------------------------------
def test_the_cache_stores_scrubbed_values_and_a_miss_sees_what_a_hit_will(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    cache = ResultCache(path)
    fresh = {"defaults": [f"'{P['aws_access_key_id']}'"], "source": f'GH = "{P["github_token"]}"'}
    cache.put("tool", "1", "k", fresh)
    assert cache.get("tool", "1", "k") == fresh  # scrubbed in place: the caller holds the same
    assert P["github_token"] not in json.dumps(fresh)
    cache.close()
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert P["github_token"].encode() not in files and P["aws_access_key_id"].encode() not in files


def test_a_cache_written_before_scrubbing_is_emptied_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE results (tool TEXT, version TEXT, key TEXT, value TEXT, "
                "PRIMARY KEY (tool, version, key))")  # fmt: skip
    old.execute("INSERT INTO results VALUES ('t', '1', 'k', ?)", (json.dumps(P["api_key"]),))
    old.commit()
    old.close()
    assert P["api_key"].encode() in path.read_bytes()
    cache = ResultCache(path)
    assert cache.get("t", "1", "k") is None
    cache.close()
    assert P["api_key"].encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_an_unwritable_cache_folder_is_a_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(StoreError, match="AUTOCODER_CACHE_DIR") as caught:
        ResultCache(blocker / "results.sqlite3")
    assert str(blocker) in str(caught.value)


def test_an_empty_needle_is_held_by_every_string_and_ends() -> None:
    # Found by a generated Hypothesis test of this repository: find("") matched at the end
    # of the joined text forever.
    from autocoder.redaction.batch import Batch

    assert Batch(["a", "", "bc"]).holding("") == [0, 1, 2]
    assert Batch([]).holding("") == []
    assert Batch(["xab", "ab"]).holding("ab") == [0, 1]
