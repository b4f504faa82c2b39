"""One Layout and one Style model per distinct look, shared by every widget in the kernel that has that look.

Each ipywidgets control otherwise brings its own Layout and Style models: a module page held 189 models of
which 121 were identical layouts and styles, and the browser builds every one (a comm message, a model, a
view). Models may be shared between widgets (ipywidgets documents it), so a widget built through `make`
gets the shared instance for its look. A layout that the code changes later would change every widget with
that look, so the views show and hide a part by putting it in or out of their children, never by its layout.
"""

from __future__ import annotations

import ipywidgets as widgets

_LAYOUTS: dict[tuple, widgets.Layout] = {}
_STYLES: dict[object, widgets.Widget] = {}


def _alive(w: widgets.Widget | None) -> bool:
    return w is not None and getattr(w, "comm", None) is not None


def shared_layout(**css) -> widgets.Layout:
    """The shared Layout with exactly these properties (a new one if the last was closed)."""
    key = tuple(sorted(css.items()))
    found = _LAYOUTS.get(key)
    if not _alive(found):
        found = _LAYOUTS[key] = widgets.Layout(**css)
    return found


def shared_style(klass: type, **props) -> widgets.Widget:
    key = (klass, tuple(sorted(props.items())))
    found = _STYLES.get(key)
    if not _alive(found):
        found = _STYLES[key] = klass(**props)
    return found


def style_carrier() -> widgets.HTML:
    """The course's stylesheet in one hidden HTML widget, shared by every view in the kernel.

    A <style> element applies to the whole page even inside a hidden element, so each view carries this one
    model instead of a copy of the stylesheet in every HTML value (a copy re-parsed, and the whole page's
    styles recalculated, on every slider step)."""
    from ..render.style import STYLE

    found = _STYLES.get("carrier")
    if not _alive(found):
        found = _STYLES["carrier"] = make(widgets.HTML, STYLE, layout=dict(display="none"))
    return found


def make(
    cls: type[widgets.Widget], *args, layout: dict | None = None, style: dict | None = None, **kwargs
) -> widgets.Widget:
    """`cls(*args, **kwargs)` with a shared layout (from the `layout` properties) and, for widgets that have
    one, a shared style (from the `style` properties)."""
    traits = cls.class_traits()
    kwargs["layout"] = shared_layout(**(layout or {}))
    if "style" in traits:
        kwargs["style"] = shared_style(traits["style"].klass, **(style or {}))
    elif style:
        raise TypeError(f"{cls.__name__} has no style")
    return cls(*args, **kwargs)


def set_dates(control: widgets.Dropdown, stops) -> None:
    """Give a Date control new stops (the time fence moved): the date stays where it was if it is still a stop,
    else it moves to the last one."""
    keep = control.value
    days = [s.day for s in stops]
    control.options = [(s.label, s.day) for s in stops]  # this moves the value to the first stop
    control.value = keep if keep in days else days[-1]
