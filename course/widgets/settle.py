"""A click acted on once the page has caught up: ipywidgets sends a button's click at once, but holds a control's
newer values back while the kernel is busy (one message in flight per control), so a click can reach the kernel
before the last keys typed or the last option chosen. Measured in the browser suite: a keyboard trainee who
pressed Submit while the page was still busy with the previous decision had "K" recorded as their reasons."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import ipywidgets as widgets

QUIET_S = 0.4  # the page has sent nothing for this long ...
AT_MOST_S = 3.0  # ... or this long has passed since the click


class SettledClick:
    """Call `action` once the watched controls have been quiet for QUIET_S after a click (at most AT_MOST_S); a
    second click meanwhile is the same one. Outside a running kernel (tests, scripts) the action runs at once."""

    def __init__(self, action: Callable[[], object]):
        self.action = action
        self._pending: asyncio.TimerHandle | None = None
        self._until = 0.0

    def watch(self, *controls: widgets.Widget) -> None:
        for control in controls:
            control.observe(self._changed, names="value")

    def click(self, _button=None):
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self.action()
        if self._pending is None:
            self._until = time.monotonic() + AT_MOST_S
            self._pending = loop.call_later(QUIET_S, self._run)
        return None

    def _changed(self, _change=None) -> None:
        if self._pending is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # changed from outside the kernel's loop: the click's own wait stands
            return
        self._pending.cancel()
        self._pending = loop.call_later(min(QUIET_S, max(0.0, self._until - time.monotonic())), self._run)

    def _run(self) -> None:
        self._pending = None
        self.action()
