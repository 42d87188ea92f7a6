"""Build-it exercises, graded inside the real lab notebook (testbook).

    verdicts = inject_solutions("labs/05-load-balancing/01-policies-live.ipynb", "lb.build-least-conn",
                                {"right": RIGHT_SRC, "ignores_finish": WRONG_SRC})
    assert verdicts["right"].ok and not verdicts["ignores_finish"].ok

Convention in a lab: the learner's code cell carries the tag ``build-it`` and defines the name the
grader receives; the very next cell is ``check("<exercise id>", <name>)``. This helper runs the lab's
first code cell (imports and set-up), then, for each solution, runs the solution's source in place of
the learner's cell, runs the notebook's own check cell, and reads the verdict ``check`` showed.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from testbook import testbook

ROOT = Path(__file__).resolve().parent.parent


def defined(source: str, name: str):
    """The object ``name`` that a solution's source defines (the tests' own right and wrong solutions)."""
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - sources written in the test modules
    return namespace[name]


def _cells(nb_path: Path) -> list[dict]:
    return json.loads(nb_path.read_text())["cells"]


def check_cell_index(nb_path: Path, exercise_id: str) -> int:
    """Index of the notebook's check cell for ``exercise_id``; it must follow a ``build-it`` cell."""
    cells = _cells(nb_path)
    for i, cell in enumerate(cells):
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and f'check("{exercise_id}"' in src:
            prev = cells[i - 1]
            assert "build-it" in prev.get("metadata", {}).get("tags", []), (
                f"{nb_path.name}: the cell before check({exercise_id!r}) must be tagged build-it")
            return i
    raise AssertionError(f"{nb_path.name} has no check({exercise_id!r}) cell")


def inject_solutions(lab: str, exercise_id: str, solutions: dict[str, str], timeout: int = 240) -> dict:
    """Run each solution in the lab's own kernel; return ``{name: verdict}`` (``.ok``, ``.message``)."""
    nb_path = ROOT / lab
    idx = check_cell_index(nb_path, exercise_id)
    first_code = next(i for i, c in enumerate(_cells(nb_path)) if c["cell_type"] == "code")
    out = {}
    with testbook(str(nb_path), execute=False, timeout=timeout) as tb:
        tb.execute_cell(first_code)
        for name, source in solutions.items():
            tb.inject(source, pop=True)
            tb.execute_cell(idx)
            ok = tb.value(f'__import__("labsupport.check", fromlist=["last"]).last("{exercise_id}").ok')
            message = tb.value(f'__import__("labsupport.check", fromlist=["last"]).last("{exercise_id}").message')
            out[name] = SimpleNamespace(ok=ok, message=message)
        tb.inject('__import__("labsupport.services", fromlist=["stop_all"]).stop_all()', pop=True)
    return out
