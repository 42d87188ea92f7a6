"""Assertions shared by the grader tests (tests/test_exercises_*.py)."""

from labsupport.check import grade


def ok(exercise: str, answer):
    """The grader accepts ``answer``."""
    fb = grade(exercise, answer)
    assert fb.ok, fb.message
    return fb


def wrong(exercise: str, answer, *words: str):
    """The grader rejects ``answer`` and its hint mentions each of ``words``."""
    fb = grade(exercise, answer)
    assert not fb.ok, f"{answer!r} was accepted"
    for w in words:
        assert w.lower() in fb.message.lower(), f"hint for {answer!r} lacks {w!r}: {fb.message}"
    return fb
