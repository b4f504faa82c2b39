# nbgrader configuration for the course (read by `nbgrader ...` run in this folder and by `course release/grade/feedback`).
# The folders nbgrader generates here (source, release, submitted, autograded, feedback, exchange, gradebook.db)
# are built by `course release` and `course grade` and are ignored by git.
import os

here = os.path.dirname(os.path.abspath(__file__))
c = get_config()  # noqa: F821 (provided by traitlets when this file is loaded)

c.CourseDirectory.course_id = "safeguarding-case-review"
c.CourseDirectory.root = here
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
# Offline exchange inside the course folder (a shared server sets its own, e.g. /srv/nbgrader/exchange).
c.Exchange.root = os.path.join(here, "exchange")

# answers.json is the trainee's own answer store: it must never be replaced by a copy from source/ at autograde.
_source = os.path.join(here, "source")
_assignments = sorted(os.listdir(_source)) if os.path.isdir(_source) else []
c.Autograde.exclude_overwriting = {a: ["answers.json"] for a in _assignments}

# A notebook that hangs must not stall a whole cohort: each cell gets 120 s, a kernel 60 s to start.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.startup_timeout = 60
c.Execute.timeout = 120
c.Execute.startup_timeout = 60
c.Execute.interrupt_on_timeout = True

# Graders see the reflection mark scheme in formgrader (it renders the autograded notebook);
# trainees never do: the feedback preprocessor removes it, with hidden tests and tracebacks.
# Only the course's own code runs at autograde (trainees write none): added code cells are dropped, deleted or moved
# course cells put back, and the kernel imports only the installed course, whatever files a submission holds
# (`course grade` workers reuse one kernel). What a trainee wrote in markdown is made inert before formgrader or a
# feedback page shows it. What needs the trainer's attention is reported by `course grade`.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "course.grading.preprocessors.drop_added_code.DropAddedCode",
    "course.grading.preprocessors.restore_cells.RestoreMissingCells",
    "course.grading.preprocessors.place_reflection.PlaceReflection",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "course.grading.preprocessors.shared_kernel.SharedKernelExecute",
    "course.grading.preprocessors.check_answers.CheckAnswers",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "course.grading.preprocessors.sanitise_text.SanitiseTraineeText",
    "course.grading.preprocessors.mark_scheme.InsertMarkScheme",
]
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course.grading.preprocessors.sanitise_text.SanitiseTraineeText",
    "course.grading.preprocessors.clean_feedback.CleanFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Trainees' feedback pages in the course's words (no code, no "Test cell", no CDN): the course's own template, written
# into .feedback-template/ here. (`course feedback` sets it too, and says so if this folder cannot be written.)
import contextlib  # noqa: E402

from course.grading.feedback_page import configure_feedback_page  # noqa: E402

with contextlib.suppress(OSError):
    configure_feedback_page(c, here)
