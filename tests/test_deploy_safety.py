"""``autocoder deploy`` where a careless run would cost the user: a token shown once and lost,
Spaces with two admin tokens, a silent hour-long wait, a private target made public, stray files
uploaded. Same Hub test server and fake secrets as ``test_deploy.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_deploy import TARGET, admin_token_of, deploy, space_id, tokens

import autocoder.deploy.bundle as bundle
import autocoder.deploy.hub as deploy_hub

from hubserver import HubServer

__all__ = ["tokens"]  # the fixture, used by name
ADMIN = "AUTOCODER_ADMIN_TOKEN"


def test_a_generated_admin_token_is_shown_even_when_a_later_step_fails(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    hub.fail_next(deploy_hub.ATTEMPTS, status=429, retry_after=0, path_contains="/commit/")
    status, out, _err = deploy(capsys, "--only", "analysis", "--target", TARGET)
    assert status == 2  # the commit failed, after the Space was created with its secrets
    assert admin_token_of(out) == hub.space_secrets(space_id("analysis"))[ADMIN]


def test_a_new_space_does_not_get_a_second_admin_token_beside_a_kept_one(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    status, out, _err = deploy(capsys, "--only", "analysis", "--target", TARGET)
    assert status == 0
    first = admin_token_of(out)
    status, _out, err = deploy(capsys, "--only", "analysis,test-planning", "--target", TARGET)
    assert status == 2 and f"export {ADMIN}=" in err and "--reset-secrets" in err
    assert ("space", space_id("test-planning")) not in hub.repos  # refused before any write
    monkeypatch.setenv(ADMIN, first)
    assert deploy(capsys, "--only", "analysis,test-planning", "--target", TARGET)[0] == 0
    assert hub.space_secrets(space_id("test-planning"))[ADMIN] == first


def test_a_hub_asking_for_a_long_wait_is_one_clear_error_not_a_silent_sleep(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    hub.fail_next(1, status=429, retry_after=3600, path_contains="/commit/")
    status, _out, err = deploy(capsys, "--only", "analysis", "--target", TARGET)
    assert status == 2 and "wait 3600 s" in err and "again" in err
    assert len([r for r in hub.requests if "/commit/" in r.path]) == 1  # not retried


def test_a_private_target_is_never_deployed_public(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = deploy(capsys, "--public", "--target", TARGET)  # GITHUB_TOKEN is set
    assert status == 2 and "--public" in err and "GITHUB_TOKEN" in err
    assert not hub.repos


def test_a_model_url_with_credentials_never_becomes_a_public_variable(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    key = tokens["AUTOCODER_LLM_API_KEY"]
    monkeypatch.setenv("AUTOCODER_LLM_BASE_URL", f"https://me:{key}@models.example/v1")
    status, out, err = deploy(capsys, "--target", TARGET)
    assert status == 2 and "AUTOCODER_LLM_BASE_URL" in err and "AUTOCODER_LLM_API_KEY" in err
    assert key not in out + err and not hub.repos


def test_a_dashboard_only_deploy_ignores_a_local_target_it_never_uses(
    hub: HubServer, tokens: dict[str, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("AUTOCODER_TARGET", ".")
    status, _out, err = deploy(capsys, "--only", "dashboard")
    assert status == 0, err
    assert ("space", space_id("dashboard")) in hub.repos


def test_only_python_sources_of_the_library_are_uploaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "autocoder"
    shutil.copytree(bundle.library_root(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".env").write_text("HF_TOKEN=left-here-by-mistake\n")
    (copy / "store" / "notes.txt").write_text("scratch\n")
    (copy / "engine" / ".worker.py.swp").write_bytes(b"\0swap")
    monkeypatch.setattr(bundle, "library_root", lambda: copy)
    uploaded = bundle.library_files()
    assert "autocoder/store/hub.py" in uploaded
    assert all(path.endswith(".py") for path in uploaded), sorted(uploaded)
