"""The runbook: the ordered steps of the cut-over, each with who, where, what to do, how to verify and roll back.

The steps are data: ``STEPS`` lists ``(key, builder)`` in page order, and each builder returns the step for one
client, or ``None`` when the step does not apply (another target, nothing to do). A step that only some
assessments have (the takeover backfill, the Hybrid Exchange fixes) is passed to ``build_runbook`` as an
``ExtraStep``, with the step it goes next to; ``STEPS`` itself never changes, so a second assessment in the same
process (a batch, a notebook kernel) builds exactly its own steps. Step numbers come from one place, the position
on the page (1-based), counted once over the final list; every cross-reference is written ``{step:key}`` and
becomes "step N (Title)" when the runbook is assembled, so a reference always names the step it points to, and a
reference to a step missing from this client's runbook is an error rather than a wrong number.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hybridx_nb.remediation import steps_fix, steps_prepare, steps_sync
from hybridx_nb.remediation.model import RunbookStep
from hybridx_nb.remediation.steps_common import RunbookContext, StepBuilder

__all__ = ["STEPS", "ExtraStep", "RunbookContext", "build_runbook", "resolve_references"]

_REF = re.compile(r"\{step:([a-z_]+)\}")
TEXT_FIELDS = ("title", "who", "where", "do", "verify", "rollback")

#: The steps in page order (a tuple: nothing adds to it at run time; see ``ExtraStep``).
STEPS: tuple[tuple[str, StepBuilder], ...] = (*steps_prepare.STEPS, *steps_fix.STEPS, *steps_sync.STEPS)


@dataclass(frozen=True)
class ExtraStep:
    """A step one runbook carries besides ``STEPS``: its key, its builder, and the step it goes ``before`` or
    ``after`` (a key of ``STEPS`` or of an earlier extra step; neither: at the end). When that step does not apply
    to this client, the extra step goes at the end. Extra steps next to the same step keep the order given."""

    key: str
    builder: StepBuilder
    before: str | None = None
    after: str | None = None


def resolve_references(text: str, numbers: dict[str, tuple[int, str]]) -> str:
    """``{step:key}`` → ``step N (Title)``; a key that is not in this runbook raises ``KeyError``."""
    def name(m: re.Match[str]) -> str:
        number, title = numbers[m[1]]
        return f"step {number} ({title})"
    return _REF.sub(name, text)


def _check(extra: Sequence[ExtraStep]) -> None:
    """Refuse extra steps that would make a key ambiguous or name a step that exists nowhere."""
    known = {k for k, _ in STEPS}
    for x in extra:
        if x.key in known:
            raise ValueError(f"runbook step {x.key!r} exists already")
        if x.before is not None and x.after is not None:
            raise ValueError(f"runbook step {x.key!r}: give before or after, not both")
        anchor = x.before if x.before is not None else x.after
        if anchor is not None and anchor not in known:
            raise ValueError(f"runbook step {x.key!r} goes next to {anchor!r}, which is no runbook step")
        known.add(x.key)


def _place(built: list[RunbookStep], extra: list[tuple[ExtraStep, RunbookStep]]) -> list[RunbookStep]:
    """``built`` with each extra step next to the step it names (at the end when that step did not apply)."""
    out = list(built)
    last_after: dict[str, str] = {}  # anchor -> the last step placed after it, so several keep their order
    for x, s in extra:
        if s.key != x.key:
            raise ValueError(f"runbook step {x.key!r}: its builder made a step keyed {s.key!r}")
        keys = [t.key for t in out]
        if x.before is not None and x.before in keys:
            at = keys.index(x.before)
        elif x.after is not None and x.after in keys:
            at = keys.index(last_after.get(x.after, x.after)) + 1
            last_after[x.after] = x.key
        else:
            at = len(out)
        out.insert(at, s)
    return out


def build_runbook(ctx: RunbookContext, extra: Sequence[ExtraStep] = ()
                  ) -> tuple[list[RunbookStep], dict[str, tuple[int, str]]]:
    """The client's runbook (every applicable step of ``STEPS`` and ``extra`` in page order, numbered by position,
    references resolved) and the numbers by key, for texts outside the runbook that refer to its steps (the plan
    at a glance)."""
    _check(extra)
    built = [s for _, builder in STEPS if (s := builder(ctx)) is not None]
    built = _place(built, [(x, s) for x in extra if (s := x.builder(ctx)) is not None])
    numbers = {s.key: (i, s.title) for i, s in enumerate(built, 1)}
    steps = [dataclasses.replace(s, number=i, **{f: resolve_references(getattr(s, f), numbers)
                                                 for f in TEXT_FIELDS})
             for i, s in enumerate(built, 1)]
    return steps, numbers
