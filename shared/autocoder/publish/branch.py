"""A verified patch as a branch ``autocoder/<item-id>`` on the target's remote.

The branch is made in a scratch repository of its own (never the user's checkout): the base
commit is fetched from the remote, the patch's diff is applied with ``git apply --index`` (the
diff is what was verified; its files' new texts are not written instead, so nothing unverified
is ever pushed) and committed by a fixed author with the trailer ``Autocoder-Patch: <id>``.

autocoder pushes only to branches it made: the name must be under ``autocoder/``, must not be
the remote's default branch (read with ``git ls-remote --symref``), and an existing branch of
that name must have a tip autocoder committed (its author and trailer). Re-publishing the same
patch finds its own commit at the tip and pushes nothing. git runs in the sandbox; a token
travels only as an ``http.extraHeader`` in the environment, and every message is redacted.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from autocoder.engine import sandbox
from autocoder.engine.git import git
from autocoder.engine.target import auth_header, is_url, public_url
from autocoder.errors import PublishError, PublishRefused, TargetError, redact
from autocoder.publish.body import Publishable

BRANCH_PREFIX = "autocoder/"
AUTHOR_NAME = "autocoder"
AUTHOR_EMAIL = "autocoder@users.noreply.github.com"
TRAILER = "Autocoder-Patch"
GIT_TIMEOUT_S = 300.0
MAX_GIT_SAYS = 400  # characters of git's message kept in a PublishError
_ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TRAILER_LINE = re.compile(rf"^{TRAILER}: (\S+)\s*$", re.MULTILINE)
_NETWORK_COMMANDS = {"ls-remote", "fetch", "push"}


@dataclass(frozen=True)
class Remote:
    """Where the branch is pushed: a URL or a path, and the header that authenticates it."""

    url: str
    header: str | None = None  # "Authorization: ..." sent by git over https; never printed
    tokens: tuple[str, ...] = ()  # redacted from every message, whether sent or not

    @classmethod
    def of(cls, url: str, github_token: str | None = None, hf_token: str | None = None) -> Remote:
        """The remote at ``url`` with the header of the token its host takes, if any."""
        header = auth_header(url, github_token, hf_token) if is_url(url) else None
        return cls(url, header, tuple(t for t in (github_token, hf_token) if t))

    @property
    def display(self) -> str:
        return public_url(self.url) if is_url(self.url) else self.url

    def secrets(self) -> list[str | None]:
        password = urlsplit(self.url).password if is_url(self.url) else None
        token = self.header.split()[-1] if self.header else None
        return [self.header, token, password, *self.tokens]

    def __repr__(self) -> str:
        return f"Remote({self.display})"


@dataclass(frozen=True)
class PushedBranch:
    """The branch on the remote: its name, tip commit, the default branch it was made against,
    and whether this call pushed (False: the tip already was this patch's commit)."""

    branch: str
    commit: str
    default_branch: str
    pushed: bool


def branch_for(item_id: str) -> str:
    """``autocoder/<item-id>``; an id that would not make a plain branch name is refused."""
    if not _ITEM_ID.match(item_id) or ".." in item_id or item_id.endswith((".lock", ".")):
        raise PublishRefused(
            f"not published: item id {item_id!r} does not make a branch name "
            f"{BRANCH_PREFIX}<item-id>; use letters, digits, '.', '_' and '-'"
        )
    return BRANCH_PREFIX + item_id


def push_branch(
    patch: Publishable,
    remote: Remote,
    *,
    work_dir: Path,
    branch: str | None = None,
    timeout_s: float = GIT_TIMEOUT_S,
) -> PushedBranch:
    """Push ``patch`` as ``branch`` (default ``autocoder/<item-id>``) to ``remote``.

    Raises PublishRefused for a branch autocoder may not push to and PublishError when git
    fails. ``work_dir`` holds the scratch repository while it lives (the worker's cache)."""
    name = branch if branch is not None else branch_for(patch.item_id)
    if patch.base_commit is None:
        raise PublishRefused(
            f"not published: patch {patch.patch_id} has no base commit (the target is not a "
            "git repository), so there is no commit to make the branch from"
        )
    runner = _Git(remote, timeout_s)
    default = runner.default_branch()
    if name in (default, f"refs/heads/{default}"):
        raise PublishRefused(
            f"not published: {name!r} is the default branch of {remote.display}; autocoder "
            f"pushes only to branches under {BRANCH_PREFIX} that it made"
        )
    _ensure_own_name(name)
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autocoder-publish-", dir=work_dir) as scratch:
        repo = Path(scratch) / "repo"
        runner.run(["init", "-q", str(repo)], cwd=None)
        old_tip = runner.remote_tip(name)
        if old_tip is not None:
            owner = runner.tip_patch(name, old_tip, repo)
            if owner == patch.patch_id:
                return PushedBranch(name, old_tip, default, pushed=False)
        commit = _commit_patch(runner, patch, repo, Path(scratch) / "patch.diff")
        lease = f"--force-with-lease=refs/heads/{name}:{old_tip or ''}"
        runner.run(["push", "-q", lease, remote.url, f"HEAD:refs/heads/{name}"], cwd=repo)
    return PushedBranch(name, commit, default, pushed=True)


def _ensure_own_name(name: str) -> None:
    suffix = name.removeprefix(BRANCH_PREFIX)
    if not name.startswith(BRANCH_PREFIX) or not suffix:
        raise PublishRefused(
            f"not published: branch {name!r} is not under {BRANCH_PREFIX}; autocoder pushes "
            f"only to branches {BRANCH_PREFIX}<item-id> that it made"
        )
    branch_for(suffix)  # the same rules as an item id: no '..', no ref syntax


def commit_message(patch: Publishable) -> str:
    """The title, one line on what made it, and the trailer that marks autocoder's commits."""
    return (
        f"{' '.join(patch.title.split())}\n\n"
        f"Patch {patch.patch_id} of {patch.item_id} at {patch.base_commit}, made and verified "
        f"({patch.status}) by autocoder.\n\n{TRAILER}: {patch.patch_id}\n"
    )


def _commit_patch(runner: _Git, patch: Publishable, repo: Path, diff_file: Path) -> str:
    """Fetch the base commit, apply the diff on it and commit; the new commit's sha."""
    assert patch.base_commit is not None
    runner.run(["fetch", "-q", "--depth", "1", "--no-tags", runner.remote.url,
                patch.base_commit], cwd=repo)  # fmt: skip
    runner.run(["checkout", "-q", "--detach", "FETCH_HEAD"], cwd=repo)
    diff_file.write_text(patch.diff if patch.diff.endswith("\n") else patch.diff + "\n")
    runner.run(["apply", "--index", "--whitespace=nowarn", str(diff_file)], cwd=repo)
    message = diff_file.with_name("message.txt")
    message.write_text(commit_message(patch))
    runner.run(["commit", "-q", "--no-verify", "--cleanup=verbatim", "-F", str(message)],
               cwd=repo)  # fmt: skip
    return runner.run(["rev-parse", "HEAD"], cwd=repo).stdout.strip()


class _Git:
    """git against one remote, in the sandbox: the header only on network commands, fixed
    author and committer, and any failure a PublishError that names the remote, not a token."""

    def __init__(self, remote: Remote, timeout_s: float) -> None:
        self.remote = remote
        self.timeout_s = timeout_s

    def run(self, args: list[str], cwd: Path | None) -> subprocess.CompletedProcess[str]:
        network = args[0] in _NETWORK_COMMANDS
        env = {"GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
               "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL}  # fmt: skip
        if network and self.remote.header:
            env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader",
                       GIT_CONFIG_VALUE_0=self.remote.header)  # fmt: skip
        try:
            done = git(
                args, cwd=cwd, where=f"of {self.remote.display}", timeout_s=self.timeout_s,
                env=env, pass_env=sandbox.NETWORK_ENV if network else (),
            )  # fmt: skip
        except TargetError as exc:
            raise PublishError(self._redact(str(exc))) from None
        if done.returncode != 0:
            says = self._redact(" ".join(done.stderr.split())[-MAX_GIT_SAYS:])
            raise PublishError(
                f"git {args[0]} of {self.remote.display} failed: {says or 'no message'}; "
                f"{_hint(args[0])}"
            )
        return done

    def default_branch(self) -> str:
        """The branch the remote's HEAD names (``ref: refs/heads/main	HEAD``)."""
        out = self.run(["ls-remote", "--symref", self.remote.url, "HEAD"], cwd=None).stdout
        for line in out.splitlines():
            if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                return line[len("ref: refs/heads/") : -len("\tHEAD")]
        raise PublishRefused(
            f"not published: cannot tell the default branch of {self.remote.display} (its HEAD "
            "names no branch; is the repository empty?), so autocoder cannot make sure it "
            "does not push to it"
        )

    def remote_tip(self, branch: str) -> str | None:
        out = self.run(["ls-remote", self.remote.url, f"refs/heads/{branch}"], cwd=None).stdout
        return out.split()[0] if out.strip() else None

    def tip_patch(self, branch: str, tip: str, repo: Path) -> str | None:
        """The patch id of the remote branch's tip if autocoder committed it; else refused."""
        self.run(["fetch", "-q", "--depth", "1", "--no-tags", self.remote.url,
                  f"refs/heads/{branch}"], cwd=repo)  # fmt: skip
        shown = self.run(["log", "-1", "--format=%ae%n%B", tip], cwd=repo).stdout
        email, _, message = shown.partition("\n")
        marks = _TRAILER_LINE.findall(message)
        if email.strip() != AUTHOR_EMAIL or not marks:
            raise PublishRefused(
                f"not published: branch {branch!r} on {self.remote.display} exists and its tip "
                f"{tip[:12]} is not a commit autocoder made (no {TRAILER} trailer by "
                f"{AUTHOR_EMAIL}); autocoder never pushes over someone else's work: delete or "
                "rename that branch to let it publish"
            )
        return str(marks[-1])

    def _redact(self, text: str) -> str:
        return redact(text, self.remote.secrets())


def _hint(command: str) -> str:
    if command in _NETWORK_COMMANDS:
        return (
            "check the remote URL and that GITHUB_TOKEN (GitHub) or HF_TOKEN (Hugging Face) "
            "may push to it (contents: write)"
        )
    if command == "apply":
        return "the patch no longer applies at its base commit; it is published by a new run"
    return "see git's message"


def remote_of(target: str, root: Path, timeout_s: float = 30.0) -> str:
    """The remote a target's branches go to: a URL target itself, else the ``origin`` remote
    of the local checkout at ``root`` (read only: nothing is written to the checkout)."""
    if is_url(target):
        return target
    try:
        done = git(["remote", "get-url", "origin"], cwd=root, where=f"in {root}",
                   timeout_s=timeout_s)  # fmt: skip
    except TargetError as exc:
        raise PublishError(str(exc)) from None
    url = done.stdout.strip()
    if done.returncode != 0 or not url:
        raise PublishRefused(
            f"not published: the target {root} has no 'origin' remote to push a branch to; "
            "add one (git remote add origin URL) or give a git URL as AUTOCODER_TARGET"
        )
    return url
