"""The engine of the safeguarding case-review course: case data in, views, grading and reports out."""

__version__ = "0.1.0"
