"""Measure how long the Qt event loop is blocked: a timer that should fire every few
milliseconds records the largest gap between two firings. A gap longer than the interval
is time the GUI could not answer (a stall)."""

from __future__ import annotations

import faulthandler
import time

from qtpy.QtCore import QObject, Qt, QTimer


class StallMeter(QObject):
    """A heartbeat on the GUI thread.

    Args:
        interval_ms: how often the timer asks to fire.
        report_ms: stalls longer than this are listed in ``stalls``.
        dump_to: an open file: when a beat is ``report_ms`` late, every thread's Python
            stack is written there (:func:`faulthandler.dump_traceback_later`, from a C
            thread, so it names what the GUI thread, or the thread holding the
            interpreter, was doing during the stall).

    Attributes:
        max_stall_ms: the longest gap minus the interval, since :meth:`reset`.
        gaps: every gap minus the interval (ms), for percentiles.
        beats: how many times it fired.
        stalls: ``(seconds since start, stall ms)`` of each stall over ``report_ms``.
    """

    def __init__(self, interval_ms: int = 10, report_ms: float = 100, dump_to=None):
        super().__init__()
        self.interval_ms = interval_ms
        self.report_ms = report_ms
        self.dump_to = dump_to
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)  # a coarse timer may fire 5 % early
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self.reset()

    def reset(self) -> None:
        self.max_stall_ms = 0.0
        self.beats = 0
        self.stalls: list[tuple[float, float]] = []
        self.gaps: list[float] = []
        self._start = self._last = time.perf_counter()

    def start(self) -> StallMeter:
        self.reset()
        self._timer.start()
        self._arm()
        return self

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the gaps minus the interval, in ms."""
        import numpy as np

        return float(np.percentile(self.gaps, q)) if self.gaps else 0.0

    def stop(self) -> None:
        self._timer.stop()
        if self.dump_to is not None:
            faulthandler.cancel_dump_traceback_later()

    def _arm(self) -> None:
        if self.dump_to is not None:  # every thread's stack, if the next beat is late
            faulthandler.dump_traceback_later((self.interval_ms + self.report_ms) / 1000,
                                              file=self.dump_to)

    def _beat(self) -> None:
        now = time.perf_counter()
        gap_ms = (now - self._last) * 1000 - self.interval_ms
        self.max_stall_ms = max(self.max_stall_ms, gap_ms)
        self.gaps.append(gap_ms)
        if gap_ms > self.report_ms:
            self.stalls.append((round(self._last - self._start, 3), round(gap_ms, 1)))
        self.beats += 1
        self._last = now
        self._arm()


def import_in_background(*modules: str, then=None):
    """Import ``modules`` in a napari worker thread and return the worker (its ``loaded``
    attribute turns true when done).

    A widget calls it when it opens, so that its first run finds the modules loaded (or,
    with ``then``, its child process started: :mod:`seglight.widgets.service`). Loading a
    compiled extension holds the interpreter, and the viewer with it (torch: seconds), so
    only light modules belong here; heavy ones are loaded by a child process.
    ``then()``, if given, runs after the imports in the same thread.
    """
    import importlib

    from napari.qt.threading import create_worker

    def job() -> None:
        for name in modules:
            importlib.import_module(name)
        if then is not None:
            then()

    worker = create_worker(job, _start_thread=False, _ignore_errors=True)
    worker.loaded = False
    worker.finished.connect(lambda: setattr(worker, "loaded", True))
    worker.start()
    return worker
