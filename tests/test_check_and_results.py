"""labsupport.check (exercise graders) and labsupport.results (recorded measurements)."""

from __future__ import annotations

import importlib

import nbformat
import pytest
from nbclient import NotebookClient

from labsupport.results import read_results

chk = importlib.import_module("labsupport.check")  # the module (labsupport.check is also the function)


def test_every_registered_grader_has_a_test():
    """Each chapter's graders are exercised by tests/test_exercises_<module>.py (checked by name)."""
    from pathlib import Path

    chk._load_all()
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_exercises_*.py"))
    untested = [g for g in chk.GRADERS if f'"{g}"' not in tests]
    assert not untested, f"graders without a test: {untested}"


def test_helpers_give_specific_feedback():
    """close_to / one_of / same_set accept right answers and explain wrong ones."""
    assert chk.close_to(0.67, 2 / 3, rel=0.05).ok
    fb = chk.close_to(0.33, 2 / 3, rel=0.05, hints={1 / 3: "That is the share a replica keeps, not loses."})
    assert not fb.ok and "keeps" in fb.message
    assert "too high" in chk.close_to(5, 1).message
    assert chk.one_of("B", "b", {"a": "no", "b": "yes"}).ok
    assert "Choose one of" in chk.one_of("z", "b", {"a": "no", "b": "yes"}).message
    assert chk.same_set(["x", "Y"], {"x", "y"}).ok and not chk.same_set(["x"], {"x", "y"}).ok


def test_unanswered_and_unreadable_answers():
    """None means "not answered yet"; a malformed answer is reported, not a crash."""
    chk.GRADERS.setdefault("selftest.number", lambda a: chk.close_to(a, 1.0))
    assert "Not answered" in chk.grade("selftest.number", None).message
    assert "Could not read" in chk.grade("selftest.number", "abc").message
    with pytest.raises(KeyError, match="no exercise"):
        chk.get("selftest.nope")


def test_record_round_trips_through_an_executed_notebook(tmp_path):
    """record() in a real kernel -> read_results() gives back the same plain values."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\nfrom labsupport import record\n"
        "record('ratio', np.float64(0.25)); record('by_n', {2: 0.5, 3: 0.33}); record('xs', np.arange(3))")]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert read_results(path) == {"ratio": 0.25, "by_n": {"2": 0.5, "3": 0.33}, "xs": [0, 1, 2]}


def test_build_it_skeleton_is_not_written_yet_and_last_keeps_the_verdict(capsys):
    """A skeleton that raises NotImplementedError is pending, not wrong; last() returns what check() showed."""
    from labsupport.check import GRADERS, NOT_WRITTEN, Feedback, check, last

    def grader(fn):
        fn()
        return Feedback(True, "ran")

    GRADERS["test.build-skeleton"] = grader
    try:
        def skeleton():
            raise NotImplementedError

        check("test.build-skeleton", skeleton)
        assert last("test.build-skeleton").message == NOT_WRITTEN and not last("test.build-skeleton").ok
        check("test.build-skeleton", lambda: None)
        assert last("test.build-skeleton").ok
    finally:
        del GRADERS["test.build-skeleton"]


def test_reveal_shows_the_guess_beside_the_measurement(capsys, monkeypatch):
    """With a guess both numbers appear, in the given format; without one, the measurement and a nudge."""
    import builtins

    from labsupport import reveal

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError())
                        if name == "IPython.display" else real_import(name, *a, **k))
    reveal(0.2, 0.8, "keys moved", "{:.0%}")
    reveal(None, 0.8, "keys moved", "{:.0%}")
    out = capsys.readouterr().out.splitlines()
    assert "predicted keys moved = 20%" in out[0] and "measured 80%" in out[0]
    assert "Measured keys moved: 80%" in out[1] and "guess" in out[1]
