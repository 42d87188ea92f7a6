"""Auto-checked exercises: each exercise has one grader that explains what went wrong.

    check("caching.hit-rate", answer)      # in a lab: shows a green or red box with feedback
    GRADERS["caching.hit-rate"](0.4)       # in a test: Feedback(ok=True, message=...)
    check("lb.build-least-conn", LeastConnPicker)   # build-it: the grader runs the learner's code
    last("lb.build-least-conn")            # the verdict the last check() showed (tests read it)
    reveal(prediction, measured, "sessions lost", "{:.0%}")   # a predict-first prompt's answer

Graders live in ``labsupport/exercises/<chapter>.py`` and register with ``@grader("id")``.
A grader returns ``Feedback``; the helpers below cover numbers, choices and sets.

A build-it grader receives the learner's function or class, runs it against real servers that it
starts itself, and explains a failure in terms of the concept. A skeleton that still raises
``NotImplementedError`` is "not written yet", not wrong.
"""

from __future__ import annotations

import html
import importlib
import math
import pkgutil
from dataclasses import dataclass
from typing import Callable

GRADERS: dict[str, Callable] = {}
_LAST: dict[str, "Feedback"] = {}


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


PENDING = "Not answered yet: replace the placeholder with your answer and run the cell."
NOT_WRITTEN = "Not written yet: fill in the code marked TODO in the cell above, run it, then run this cell."


def grade(exercise_id: str, answer) -> Feedback:
    if answer is None or answer is Ellipsis:
        return Feedback(False, PENDING)
    try:
        return get(exercise_id)(answer)
    except NotImplementedError:
        return Feedback(False, NOT_WRITTEN)
    except (TypeError, ValueError) as exc:
        return Feedback(False, f"Could not read that answer ({exc}).")


def last(exercise_id: str) -> Feedback | None:
    """The verdict that the last ``check(exercise_id, ...)`` in this process showed."""
    return _LAST.get(exercise_id)


def check(exercise_id: str, answer) -> None:
    """Grade ``answer`` and show the feedback box (use ``grade()`` for the Feedback object)."""
    fb = grade(exercise_id, answer)
    _LAST[exercise_id] = fb
    pending = answer is None or answer is Ellipsis or fb.message == NOT_WRITTEN
    colour, mark = ("#8a6d00", "…") if pending else (("#1a7f37", "✔") if fb.ok else ("#b42318", "✘"))
    try:
        from IPython.display import HTML, display  # noqa: PLC0415

        display(HTML(f'<div class="labcheck" style="border-left:4px solid {colour};padding:4px 10px;">'
                     f'<b style="color:{colour}">{mark} {html.escape(exercise_id)}</b>: '
                     f"{html.escape(fb.message)}</div>"))
    except ImportError:
        print(f"{mark} {exercise_id}: {fb.message}")


def reveal(prediction, measured, what: str, fmt: str = "{:.3g}") -> None:
    """Answer a "predict first" prompt: the learner's guess beside what the lab just measured."""
    got = fmt.format(measured)
    if prediction is None or prediction is Ellipsis:
        text = (f"Measured {what}: {got}. (Next time, write your guess in the prediction cell before "
                "running the experiment: a wrong guess teaches more than none.)")
    else:
        try:
            mine = fmt.format(prediction)
        except (TypeError, ValueError):
            mine = str(prediction)
        text = f"You predicted {what} = {mine}; the lab measured {got}."
    try:
        from IPython.display import HTML, display  # noqa: PLC0415

        display(HTML('<div class="labpredict" style="border-left:4px solid #6941c6;padding:4px 10px;">'
                     f"<b style=\"color:#6941c6\">Prediction</b>: {html.escape(text)}</div>"))
    except ImportError:
        print(f"Prediction: {text}")


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
