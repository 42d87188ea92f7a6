"""Auto-checked exercises: each exercise has one grader that explains what went wrong.

    check("caching.hit-rate", answer)      # in a lab: shows a green or red box with feedback
    GRADERS["caching.hit-rate"](0.4)       # in a test: Feedback(ok=True, message=...)

Graders live in ``labsupport/exercises/<chapter>.py`` and register with ``@grader("id")``.
A grader returns ``Feedback``; the helpers below cover numbers, choices and sets.
"""

from __future__ import annotations

import html
import importlib
import math
import pkgutil
from dataclasses import dataclass
from typing import Callable

GRADERS: dict[str, Callable] = {}


@dataclass
class Feedback:
    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok


def grader(exercise_id: str):
    def register(fn):
        if exercise_id in GRADERS:
            raise ValueError(f"two graders for {exercise_id!r}")
        GRADERS[exercise_id] = fn
        return fn

    return register


def _load_all() -> None:
    from . import exercises  # noqa: PLC0415

    for mod in pkgutil.iter_modules(exercises.__path__):
        importlib.import_module(f"{exercises.__name__}.{mod.name}")


def get(exercise_id: str) -> Callable:
    if not GRADERS:
        _load_all()
    if exercise_id not in GRADERS:
        raise KeyError(f"no exercise {exercise_id!r}; known: {sorted(GRADERS)}")
    return GRADERS[exercise_id]


def grade(exercise_id: str, answer) -> Feedback:
    if answer is None or answer is Ellipsis:
        return Feedback(False, "Not answered yet: replace the placeholder with your answer and run the cell.")
    try:
        return get(exercise_id)(answer)
    except (TypeError, ValueError) as exc:
        return Feedback(False, f"Could not read that answer ({exc}).")


def check(exercise_id: str, answer) -> None:
    """Grade ``answer`` and show the feedback box (use ``grade()`` for the Feedback object)."""
    fb = grade(exercise_id, answer)
    pending = answer is None or answer is Ellipsis
    colour, mark = ("#8a6d00", "…") if pending else (("#1a7f37", "✔") if fb.ok else ("#b42318", "✘"))
    try:
        from IPython.display import HTML, display  # noqa: PLC0415

        display(HTML(f'<div class="labcheck" style="border-left:4px solid {colour};padding:4px 10px;">'
                     f'<b style="color:{colour}">{mark} {html.escape(exercise_id)}</b>: '
                     f"{html.escape(fb.message)}</div>"))
    except ImportError:
        print(f"{mark} {exercise_id}: {fb.message}")


# -- helpers graders are built from ------------------------------------------------------------
def close_to(answer, expected: float, rel: float = 0.1, abs_tol: float = 0.0, hints: dict | None = None,
             unit: str = "") -> Feedback:
    """Right when within ``rel`` (relative) or ``abs_tol``; ``hints`` maps a wrong value to advice."""
    value = float(answer)
    if math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol):
        return Feedback(True, f"Right: {value:g}{unit} (expected about {expected:g}{unit}).")
    for wrong, hint in (hints or {}).items():
        if math.isclose(value, wrong, rel_tol=rel, abs_tol=abs_tol):
            return Feedback(False, hint)
    direction = "high" if value > expected else "low"
    return Feedback(False, f"{value:g}{unit} is too {direction}. Recheck the reasoning in this section.")


def one_of(answer, correct, explanations: dict) -> Feedback:
    """A multiple-choice answer; ``explanations`` says why each choice is right or wrong."""
    key = str(answer).strip().lower()
    table = {str(k).lower(): v for k, v in explanations.items()}
    if key not in table:
        return Feedback(False, f"Choose one of: {', '.join(map(str, explanations))}.")
    return Feedback(key == str(correct).lower(), table[key])


def same_set(answer, expected: set, name: str = "items") -> Feedback:
    got = {str(x).strip().lower() for x in answer}
    want = {str(x).lower() for x in expected}
    if got == want:
        return Feedback(True, f"Right: exactly these {name}.")
    missing, extra = want - got, got - want
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing")
    if extra:
        parts.append(f"{', '.join(sorted(extra))} should not be there")
    return Feedback(False, f"Not quite: {'; '.join(parts)}.")
