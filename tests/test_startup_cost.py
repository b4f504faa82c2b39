"""What every Jupyter server, Voila page and course command imports as it starts: not rfc3987-syntax, which
builds about 35 Lark parsers as it is imported (0.6-0.7 CPU-seconds, half of a trainee server's start-up when a
room logs in at once: docs/deploy.md). pyproject.toml keeps jsonschema below the release that brought it in; this
fails if an update brings it back. The time itself is measured by bench/bench_hub_room.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.paths import ROOT

PROBE = """
import json, sys
import jupyter_server.serverapp, jupyterlab, voila.app, nbformat, jupyter_events.logger
import jsonschema
jsonschema.Draft7Validator.FORMAT_CHECKER  # what jupyter_events builds at import, with every format checker
import course.apps.cli
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"rfc3987_syntax", "lark"})))
"""


def test_a_server_and_the_course_commands_start_without_building_iri_grammars():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
