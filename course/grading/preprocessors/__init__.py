"""The course's nbgrader preprocessors, one per file (configured by name in grading/nbgrader_config.py)."""
