"""Workshops and CPD: collect a room's answers files (one merge rule), analyse them against the review, build the
report (HTML through papermill), trainees' certificates and reflective logs, and the facilitator's notes."""
