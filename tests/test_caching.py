"""The per-user cache (course/core/cache.py): chart images and the parsed case pack are reused only while what they
were made from is unchanged, and a missing, unwritable or damaged cache never changes what is shown."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib.dates as mdates
import pytest

from course.charts.summary import summary_chart_png
from course.charts.timeline import TimelineFigure, _datenum
from course.charts.warm import warm_cache
from course.core import cache
from course.core.cached import load_case_cached
from course.core.entries import CaseError
from course.core.pack import load_case
from course.render.lens import lens_agencies
from course.render.summary import summary_rows
from course.widgets.timeline import Timeline
from tests.paths import ROOT


def _entries(kind: str) -> list[Path]:
    base = cache.cache_dir()
    return sorted(base.glob(f"{kind}-*")) if base else []


def test_a_cache_hit_gives_the_same_png_as_a_fresh_render_and_makes_no_figure(fictional_case, monkeypatch):
    module = fictional_case.module("f01-early")
    cold = TimelineFigure(fictional_case, module)
    png = cold.background_png()
    assert cold.background_renders == 1 and cold.background_cache_hits == 0 and cold.built
    warm = TimelineFigure(fictional_case, module)
    assert warm.background_png() == png
    assert warm.background_renders == 0 and warm.background_cache_hits == 1 and not warm.built
    monkeypatch.setenv("COURSE_CACHE", "off")
    fresh = TimelineFigure(fictional_case, module)
    assert fresh.background_png() == png and fresh.background_renders == 1


def test_a_warm_timeline_shows_exactly_what_a_drawn_one_shows(fictional_case):
    module = fictional_case.module("f01-early")
    cold = Timeline(fictional_case, module, highlight="hv")
    warm = Timeline(fictional_case, module, highlight="hv")
    assert not warm.chart.built
    for stop in cold.stops:
        cold.slider.value = warm.slider.value = stop.day
        assert warm.image.value == cold.image.value and warm.description.value == cold.description.value
    # The date layer drawn from cached geometry sits where the date artists are, once the figure exists.
    warm.slider.value = dt.date(2019, 7, 31)
    svg = warm.chart.date_layer_svg()
    assert warm.figure is warm.chart.figure and warm.chart.built
    x = warm.chart.ax.transData.transform((mdates.date2num(dt.date(2019, 7, 31)), 0))[0]
    assert f'<line x1="{x:.1f}"' in svg and list(warm.chart._line.get_xdata()) == [x_ := _datenum(warm.stop.day)] * 2
    assert x_ == mdates.date2num(warm.stop.day)
    assert warm.chart._label.get_text() == "July 2019" and warm.chart.highlight == "hv"
    assert warm.chart._highlight_band.get_visible()


def test_hindsight_and_highlight_made_before_the_figure_are_applied_when_it_is_made(fictional_case):
    module = fictional_case.module("f02-later")
    Timeline(fictional_case, module)  # fills the cache for the default state
    tl = Timeline(fictional_case, module)
    assert not tl.chart.built
    tl.hindsight.value = True  # not cached yet: draws, so the figure is made with the state chosen
    assert tl.chart.built and all(a.get_visible() for a in tl.chart._hind_artists)
    assert tl.chart.background_renders == 1


def test_a_changed_data_file_invalidates_the_case_and_the_timeline_cache(pack_copy):
    first = load_case_cached(pack_copy)
    assert len(_entries("case")) == 1
    assert load_case_cached(pack_copy) is first  # same files: the same case
    module = first.module("f01-early")
    TimelineFigure(first, module).background_png()
    assert len(_entries("timeline")) == 1
    agencies = pack_copy / "agencies.yaml"
    agencies.write_text(agencies.read_text().replace("name: The police", "name: The constabulary"))
    second = load_case_cached(pack_copy)
    assert second is not first and second.agency("police").name == "The constabulary"
    assert len(_entries("case")) == 2
    chart = TimelineFigure(second, second.module("f01-early"))
    chart.background_png()
    assert chart.background_renders == 1 and chart.background_cache_hits == 0
    assert len(_entries("timeline")) == 2
    # A change that breaks the pack is reported by the full validation, never hidden by the cache.
    agencies.write_text(agencies.read_text().replace("id: police", "id: constabulary"))
    with pytest.raises(CaseError):
        load_case_cached(pack_copy)


def test_the_plain_loader_used_by_course_check_never_uses_the_cache(pack_copy):
    load_case(pack_copy)
    assert _entries("case") == []


@pytest.mark.parametrize("where", ["under-a-file", "group-writable", "off"])
def test_without_a_usable_cache_folder_everything_still_works(fictional_case, tmp_path, monkeypatch, where):
    if where == "under-a-file":
        (tmp_path / "a-file").write_text("not a folder")
        monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "a-file" / "cache"))
    elif where == "group-writable":  # others could plant pickles there: not used
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        monkeypatch.setenv("COURSE_CACHE", str(shared))
    else:
        monkeypatch.setenv("COURSE_CACHE", "off")
    assert cache.cache_dir() is None and cache.put("x", b"y") is False and cache.get("x") is None
    case = load_case_cached(ROOT / "tests" / "fixtures" / "case")
    assert case == fictional_case
    tl = Timeline(case, case.module("f01-early"))
    assert tl.chart.background_renders == 1 and "data:image/png;base64," in tl.image.value
    assert summary_chart_png(summary_rows(case, "f01-early", None)).startswith(b"\x89PNG")
    assert warm_cache(case) == {"timeline_drawn": 0, "timeline_cached": 0, "summary": 0}
    if where == "group-writable":
        assert list((tmp_path / "shared").iterdir()) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "valid checksum, not JSON"])
def test_a_corrupt_cache_entry_is_ignored_and_rewritten(fictional_case, pack_copy, damage):
    module = fictional_case.module("f01-early")
    good = TimelineFigure(fictional_case, module).background_png()
    first = load_case_cached(pack_copy)
    summary = summary_chart_png(summary_rows(fictional_case, "f01-early", None))
    entries = _entries("timeline") + _entries("case") + _entries("summary")
    assert len(entries) == 3
    for path in entries:
        raw = path.read_bytes()
        if damage == "garbage":
            path.write_bytes(b"\x00not a cache entry" * 10)
        elif damage == "truncated":
            path.write_bytes(raw[: len(raw) // 2])
        elif damage == "empty":
            path.write_bytes(b"")
        else:  # a well-formed entry whose payload is nonsense for its reader
            cache.put(path.name, b"{not json, not a pickle, not a png")
    chart = TimelineFigure(fictional_case, module)
    assert chart.background_png() == good and chart.background_renders == 1
    import course.core.cached as case_module

    case_module._LOADED.clear()  # the per-process copy would otherwise be used
    assert load_case_cached(pack_copy) == first
    assert summary_chart_png(summary_rows(fictional_case, "f01-early", None)) == summary
    for path in entries:  # rewritten, and good again
        assert cache.get(path.name) is not None
    again = TimelineFigure(fictional_case, module)
    assert again.background_png() == good and again.background_cache_hits == 1


def test_warm_cache_covers_the_states_a_module_notebook_opens_with(fictional_case, tmp_path):
    counts = warm_cache(fictional_case)
    assert counts["timeline_drawn"] == 2 * len(fictional_case.modules) and counts["summary"] == len(
        fictional_case.modules
    )
    for module in fictional_case.modules:
        lens_agency = lens_agencies(fictional_case, module)[0]
        for highlight in (None, lens_agency):
            chart = TimelineFigure(fictional_case, module)
            chart.set_static(highlight=highlight)
            chart.background_png()
            assert chart.background_renders == 0 and chart.background_cache_hits == 1 and not chart.built


def test_warm_cache_every_state_covers_every_agency_and_the_hindsight_lane(fictional_case):
    counts = warm_cache(fictional_case, every_state=True)
    assert counts["timeline_drawn"] > 2 * len(fictional_case.modules)
    for module in fictional_case.modules:
        chart = TimelineFigure(fictional_case, module)
        for show_hindsight in (False, True):
            for highlight in (None, *chart.data.lanes):
                chart.set_static(highlight=highlight, show_hindsight=show_hindsight)
                chart.background_png()
        assert chart.background_renders == 0 and not chart.built
    assert warm_cache(fictional_case, every_state=True)["timeline_drawn"] == 0


def test_with_a_warm_cache_a_module_runs_without_importing_matplotlib_or_yaml(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from course.notebook import open_module
        m = open_module("f01-early", case={str(ROOT / "tests" / "fixtures" / "case")!r}, answers_dir={str(tmp_path)!r})
        m.intro(); m.lens(); m.timeline(); m.summary()
        for d in m.case.decisions_in("f01-early"):
            m.decision(d.id); m.score(d.id)
        print("MATPLOTLIB", "matplotlib" in sys.modules)
        print("YAML", "yaml" in sys.modules)
    """)
    env = dict(os.environ, COURSE_READ_ONLY="1")
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    assert "MATPLOTLIB True" in runs[0].stdout  # cold: drawn
    assert "MATPLOTLIB False" in runs[1].stdout  # warm: nothing drawn
    assert "YAML True" in runs[0].stdout  # cold: the pack parsed
    assert "YAML False" in runs[1].stdout  # warm: the cached pack, and no YAML parser imported (8 ms per kernel)
    assert not (tmp_path / "answers.json").exists()


def test_building_a_workspace_prepares_the_charts_of_the_modules_it_adds():
    from course.apps import lab as workspace
    from course.core.paths import default_pack_dir

    workspace._warm_chart_cache(["m02-fracture"])
    case = load_case_cached(default_pack_dir())
    module = case.module("m02-fracture")
    chart = TimelineFigure(case, module)
    chart.set_static(highlight=lens_agencies(case, module)[0])
    chart.background_png()
    assert chart.background_cache_hits == 1 and chart.background_renders == 0
    assert len(_entries("summary")) == 1


def test_prune_keeps_the_cache_under_its_cap_oldest_first_and_removes_stale_temp_files():
    base = cache.cache_dir()
    for name in list(base.iterdir()):
        name.unlink()
    for i in range(5):
        assert cache.put(f"old-{i}", b"x" * 1000)
        os.utime(base / f"old-{i}", (1_000_000 + i, 1_000_000 + i))
    assert cache.put("new", b"y" * 1000)
    stale = base / ".new.abc.tmp"  # a writer killed long ago
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    (base / ".other.def.tmp").write_bytes(b"being written now")
    per = (base / "new").stat().st_size
    assert cache.prune(max_bytes=3 * per) == 4  # the three oldest entries and the stale temp file
    assert sorted(p.name for p in base.iterdir()) == [".other.def.tmp", "new", "old-3", "old-4"]
    assert cache.get("new") == b"y" * 1000
    assert cache.size() == (3, 3 * per)
    assert cache.prune() == 0  # under the default cap: nothing to do
    assert cache.clear() == 3 and cache.size() == (0, 0)


def test_course_cache_command_reports_the_cache_and_clears_it(fictional_case):
    warm_cache(fictional_case)
    env = dict(os.environ)
    shown = subprocess.run(
        [sys.executable, "-m", "course.apps.cli", "cache"], capture_output=True, text=True, env=env, timeout=120
    )
    n = len(cache.entries())
    assert shown.returncode == 0 and f"{n} cached file(s)" in shown.stdout and n > 0, shown.stdout + shown.stderr
    cleared = subprocess.run(
        [sys.executable, "-m", "course.apps.cli", "cache", "--clear"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert cleared.returncode == 0 and f"Removed {n} cached file(s)" in cleared.stdout
    assert cache.entries() == []


def test_the_summary_chart_leaves_room_for_its_longest_label(fictional_case):
    """No label cut off at the left edge (the page showed ")ecision point 1" at a fixed margin): the image's first
    columns are blank, whatever the labels."""
    import io

    import matplotlib.image as mpimg

    from course.charts.summary import _draw_summary_chart
    from course.render.summary import SummaryRow

    labels = ["Decision point 1", "Decision point 12", "Practice decision"]
    rows = [SummaryRow("d", "q", "r", "t", (), None, 1, 3, (), 0, False, label=label) for label in labels]
    pixels = mpimg.imread(io.BytesIO(_draw_summary_chart(rows)), format="png")
    assert pixels[:, :4, :3].min() > 0.95  # white: nothing drawn in the first four columns
