"""A task no fixer serves (a feature, an optimization, new content, a bug fix no finding backs),
changed by the optional language model: it is asked for the whole new text of one file, and the
diff is computed here (models get line numbers wrong). The change is unsafe by construction and
goes through the same verification as every other fix.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from autocoder.engine.perspective import RunContext
from autocoder.errors import FixerError, TaskRejected
from autocoder.llm import code_answer, json_answer
from autocoder.redaction import redact_text
from autocoder.workers.implementation import modelled
from autocoder.workers.implementation.fixers.base import Fix
from autocoder.workers.implementation.tasks import inside_repo
from autocoder.workers.implementation.workitem import WorkItem

FILE_CHARS = 20_000  # a file larger than this is not sent whole: the task names a smaller one
CODE_TOKENS = 6_000
LISTED_FILES = 300
WRITE = (
    "Return the complete new content of the file in exactly one fenced code block, changing only "
    "what the task needs and keeping everything else as it is."
)


class FileChoice(BaseModel):
    file: str


def fixes(item: WorkItem, ctx: RunContext) -> list[Fix]:
    """The model's change for the task ``item``; FixerError (or LLMError) saying why not."""
    file = item.file or _chosen_file(item, ctx)
    try:
        path = inside_repo(ctx.root, file)
    except TaskRejected as e:
        raise FixerError(f"the file to change: {e}") from None
    if file not in ctx.sources:  # untracked, ignored (.env), too large or unsafe to parse
        why = ctx.sources.skipped.get(file, "it is not one of the target's tracked source files")
        raise FixerError(f"{file} is not sent to the model: {why}")
    old = path.read_text(encoding="utf-8", errors="replace")  # within max_file_bytes: listed
    if len(old) > FILE_CHARS:
        raise FixerError(f"{file} has {len(old)} characters, more than the {FILE_CHARS} sent to "
                         "the model; name a smaller file or function in the task")  # fmt: skip
    shown, found = redact_text(old)
    if found:  # the model would get the file without its secrets and write them back wrong
        raise FixerError(f"{file} holds {len(found)} value(s) that look like secrets; they are "
                         "not sent to a model: make this change by hand")  # fmt: skip
    user = f"Task ({item.rule}): {item.message}\n\nFile {file}:\n```\n{shown}\n```\n\n{WRITE}"
    new, answer = modelled.asked(ctx, modelled.SYSTEM, user, CODE_TOKENS,
                                 lambda text, where: code_answer(text, where=where))  # fmt: skip
    new = new if new.endswith("\n") else new + "\n"
    if not new.strip():
        raise FixerError(f"model {answer['model']!r} answered an empty {file}")
    if new == old:
        raise FixerError(f"model {answer['model']!r} changed nothing in {file}")

    def apply(tree: Path) -> list[str]:
        (tree / file).write_text(new, encoding="utf-8")
        return [file]

    return [Fix(f"model:{answer['model']}", f"the model's change to {file} for the task", False,
                f"written by {answer['model']} from the task and the file's text; nothing of it "
                "is trusted until the verification has run", apply)]  # fmt: skip


def _chosen_file(item: WorkItem, ctx: RunContext) -> str:
    """The file the model picks for a task that names none, from the target's Python files."""
    files = list(ctx.sources.python)[:LISTED_FILES]
    if not files:
        raise FixerError("the target has no Python file for the task to change")
    user = (f"Task ({item.rule}): {item.message}\n\nFiles of the repository:\n"
            + "\n".join(files) + '\n\nAnswer with one JSON object {"file": the one file of this '
            "list the change belongs in}.")  # fmt: skip

    def read(text: str, where: str) -> FileChoice:
        return json_answer(text, FileChoice, where=where)

    choice, answer = modelled.asked(ctx, modelled.SYSTEM, user, 200, read)
    chosen = choice.file
    if chosen not in files:
        raise FixerError(f"model {answer['model']!r} chose {chosen!r}, not a file of the list")
    return chosen
