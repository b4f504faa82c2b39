"""`course grade` against the hub's record of first answers: on the multi-user server each first answer a trainee
gives is also kept by the hub's first-answers service, where the trainee cannot write (course.store.hub). A
submission whose answers.json says something else is flagged for the trainer, decision by decision.

On a laptop, or a `zip_collect` cohort, there is no such record: answers.json (with the digest sealed into each
first answer) is all there is, and nothing is compared.
"""

from __future__ import annotations

import contextlib

from ..core.answers import AnswersError, read_answers
from ..store.hub import FirstAnswersError, available, cohort_first_answers, first_answer_differences

FLAG_PREFIX = "first answers: "


def compare_with_hub(subs, log=print) -> dict[str, list[str]]:
    """trainee/module -> what differs from the hub's record, for every submission (objects with trainee, module,
    folder and key, as course.grading.autograde.Submission). Empty where there is no service to compare with."""
    if not subs or not available():
        return {}
    try:
        recorded = cohort_first_answers()
    except FirstAnswersError as e:
        log(f"Could not compare answers with the hub's record of first answers: {e}")
        return {}
    case = None
    with contextlib.suppress(Exception):
        from ..core.cached import load_case_cached

        case = load_case_cached()
    flags: dict[str, list[str]] = {}
    for sub in subs:
        firsts: dict = {}
        with contextlib.suppress(AnswersError, OSError):
            answers = read_answers(sub.folder / "answers.json")
            firsts = {d: answers.first(d) for d in answers}
        if case is not None:
            with contextlib.suppress(KeyError, ValueError):
                in_module = {d.id for d in case.decisions_in(sub.module)}
                firsts = {d: f for d, f in firsts.items() if d in in_module}
        found = first_answer_differences(sub.trainee, sub.module, firsts, recorded)
        if found:
            flags[sub.key] = [FLAG_PREFIX + f for f in found]
    compared = len(subs)
    log(
        f"Compared {compared} submission(s) with the hub's record of first answers: "
        + (f"{len(flags)} differ (listed below)." if flags else "all agree.")
    )
    return flags
