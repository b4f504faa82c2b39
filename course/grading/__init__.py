"""Grading with nbgrader, in its own stages: configuration, release, autograde (parallel, resumable), export,
feedback, the course's preprocessors, and the exchange for a shared server."""
