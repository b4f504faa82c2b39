"""Where a trainee's answers are kept: `answers.json` beside the notebook (course.store.local: locks, merges,
atomic replace), and, on the multi-user server, each first answer also with the hub's first-answers service
(course.store.hub), where the trainee cannot change it afterwards."""

from .local import LOCK_SUFFIX, AnswerStore, Recorded

__all__ = ["LOCK_SUFFIX", "AnswerStore", "Recorded"]
