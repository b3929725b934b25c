"""The runbook: the ordered steps of the cut-over, each with who, where, what to do, how to verify and roll back.

The steps are data: ``STEPS`` lists ``(key, builder)`` in page order, and each builder returns the step for one
client, or ``None`` when the step does not apply (another target, nothing to do). Another module adds a step with
``insert_step(key, builder, after=...)`` (or ``before=``) without touching the others. Step numbers come from one
place, the position on the page (1-based); every cross-reference is written ``{step:key}`` and becomes
"step N (Title)" when the runbook is assembled, so a reference always names the step it points to, and a
reference to a step missing from this client's runbook is an error rather than a wrong number.
"""

from __future__ import annotations

import dataclasses
import re

from hybridx_nb.remediation import steps_fix, steps_prepare, steps_sync
from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.steps_common import RunbookContext, StepBuilder

__all__ = ["STEPS", "RunbookContext", "build_runbook", "insert_step", "resolve_references"]

_REF = re.compile(r"\{step:([a-z_]+)\}")
TEXT_FIELDS = ("title", "who", "where", "do", "verify", "rollback")

#: The steps in page order.
STEPS: list[tuple[str, StepBuilder]] = [*steps_prepare.STEPS, *steps_fix.STEPS, *steps_sync.STEPS]


def insert_step(key: str, builder: StepBuilder, *, after: str | None = None, before: str | None = None) -> None:
    """Add (or replace) a step; ``after``/``before`` name the step it goes next to (default: at the end)."""
    keys = [k for k, _ in STEPS]
    if key in keys:
        STEPS[keys.index(key)] = (key, builder)
    elif after is not None:
        STEPS.insert(keys.index(after) + 1, (key, builder))
    elif before is not None:
        STEPS.insert(keys.index(before), (key, builder))
    else:
        STEPS.append((key, builder))


def resolve_references(text: str, numbers: dict[str, tuple[int, str]]) -> str:
    """``{step:key}`` → ``step N (Title)``; a key that is not in this runbook raises ``KeyError``."""
    def name(m: re.Match[str]) -> str:
        number, title = numbers[m[1]]
        return f"step {number} ({title})"
    return _REF.sub(name, text)


def build_runbook(ctx: RunbookContext) -> tuple[list[RunbookStep], dict[str, tuple[int, str]]]:
    """The client's runbook (every applicable step, numbered by position, references resolved) and the numbers
    by key, for texts outside the runbook that refer to its steps (the plan at a glance)."""
    built = [s for _, builder in STEPS if (s := builder(ctx)) is not None]
    numbers = {s.key: (i, s.title) for i, s in enumerate(built, 1)}
    steps = [dataclasses.replace(s, number=i, **{f: resolve_references(getattr(s, f), numbers)
                                                 for f in TEXT_FIELDS})
             for i, s in enumerate(built, 1)]
    return steps, numbers
