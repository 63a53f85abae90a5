"""The Apply widget's prediction process: a child Python process that loads torch and MONAI
and runs the binarizers, so that neither their loading nor their work ever holds napari's
interpreter (a thread would: loading torch's compiled libraries holds it for seconds, and
the viewer froze for as long, measured by ``scripts/napari_stalls.py``).

The child is started once (``multiprocessing``, spawn: a fresh interpreter, on every
platform) and kept: the first Apply pays for loading torch, the next ones only for the
network. It builds each binarizer as ``python -m seglight.predict`` builds it (the last one
is kept while its file is unchanged) and runs the same runner on a folder. Requests go one
at a time; a caller waits for the answer in a worker thread (waiting on a pipe releases the
interpreter). No Qt here: the child never loads it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seglight.errors import SeglightError

#: What the child loads before it says it is ready (what the first Apply would load).
WARM_MODULES = ("seglight.predict.build", "seglight.predict.network", "seglight.module",
                "monai.inferers", "seglight.networks.monai_nets", "seglight.api")
#: How often a waiting caller checks for Cancel and for a child that died (s).
POLL_S = 0.1


def error_line(err: BaseException) -> str:
    """One line for an error: the message of ours, the type and first line of others."""
    if isinstance(err, SeglightError):
        return str(err)
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"


class _Collect(logging.Handler):
    """Keeps the warning lines the binarizer logs while it runs, to show them."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage().splitlines()[0])


def build(kind: str, value: str):
    """The binarizer of a source, as ``python -m seglight.predict`` builds it: ``kind`` is
    ``checkpoint``, ``classic`` (``value``: a workflow name), ``workflow`` or ``package``.

    Raises:
        ConfigError: the file is not a checkpoint, workflow or package (one line).
    """
    from seglight.predict.build import build_binarizer

    if kind == "classic":
        from omegaconf import OmegaConf

        from seglight import CONF_DIR

        config = OmegaConf.load(CONF_DIR / "model" / "classic" / f"{value}.yaml")
        return build_binarizer(OmegaConf.to_container(config, resolve=True))
    argument = {"checkpoint": "ckpt_path", "workflow": "workflow",
                "package": "model_package"}[kind]
    return build_binarizer(**{argument: value})


def predict_layer(kind: str, value: str, image, spacing, name: str, cache: dict | None = None):
    """Run the binarizer on one image: ``(probability map float32, threshold, whether the
    map is already binary (a classic workflow), the warning lines logged)``.

    ``cache`` keeps the last binarizer built, reused while its file is unchanged.
    """
    from seglight.binarizer import SpacingAware

    collect = _Collect()
    logger = logging.getLogger("seglight")
    logger.addHandler(collect)
    try:
        path = Path(value)
        key = (kind, value, path.stat().st_mtime_ns if path.is_file() else None)
        binarizer = cache.get(key) if cache is not None else None
        if binarizer is None:
            binarizer = build(kind, value)
            if cache is not None:
                cache.clear()
                cache[key] = binarizer
        if isinstance(binarizer, SpacingAware) and any(spacing):
            binarizer.warn_spacing(spacing, name)
        proba = np.asarray(binarizer.predict_proba(np.asarray(image)), dtype=np.float32)
    finally:
        logger.removeHandler(collect)
    binary = bool(np.isin(proba, (0.0, 1.0)).all())
    return proba, float(binarizer.threshold), binary, collect.lines


def _serve(conn) -> None:
    """The child's loop: load the modules, say ready, answer requests until the pipe closes.

    Requests: ``("layer", kind, value, image, spacing, name)`` -> ``("done", result of
    predict_layer)``; ``("folder", predict_files keyword arguments)`` -> ``("progress",
    done, total, file name)``... then ``("done", Summary)``; a ``("stop",)`` sent meanwhile
    stops the folder run after the image in progress. Errors answer ``("error", one line)``.
    """
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in napari's terminal: napari quits
    for module in WARM_MODULES:
        importlib.import_module(module)
    conn.send(("ready",))
    cache: dict = {}
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # napari is gone
        try:
            if request[0] == "layer":
                answer = predict_layer(*request[1:], cache=cache)
            elif request[0] == "folder":
                answer = _predict_folder(conn, request[1])
            else:
                continue  # a "stop" that came after its run ended
            conn.send(("done", answer))
        except Exception as err:  # one line to the widget; the child serves on
            conn.send(("error", error_line(err)))


def _predict_folder(conn, arguments: dict):
    from seglight.api import predict_files

    stopped = [False]

    def should_stop() -> bool:
        while not stopped[0] and conn.poll():
            stopped[0] = conn.recv()[0] == "stop"
        return stopped[0]

    def on_progress(done: int, total: int, path) -> None:
        conn.send(("progress", done, total, Path(path).name))

    return predict_files(progress=False, should_stop=should_stop, on_progress=on_progress,
                         **arguments)


class PredictProcess:
    """The child process, started on first use (or by :meth:`warm_up`) and kept.

    Call :meth:`call` from a worker thread, never the GUI thread (it waits for the answer).
    """

    def __init__(self):
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._current: str | None = None  # the kind of request being answered

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def warm_up(self) -> None:
        """Start the child and wait until it has loaded torch and MONAI (blocking)."""
        with self._lock:
            self._ensure()

    def _ensure(self):
        if self.alive:
            return self._conn
        self.close()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True,
                                  name="seglight-predict")
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self._receive(lambda: False)  # "ready"
        return parent

    def _receive(self, should_stop: Callable[[], bool], send_stop: bool = False):
        """The next message, waiting in steps of POLL_S; ``("stop",)`` is sent once when
        ``should_stop()`` turns true."""
        process, conn = self._process, self._conn  # close() from another thread clears them
        stop_sent = False
        while True:
            try:
                if conn.poll(POLL_S):
                    return conn.recv()
            except (EOFError, OSError):
                pass
            if not process.is_alive():
                code = process.exitcode
                if self._process is process:
                    self.close()
                raise SeglightError(f"the prediction process stopped (exit code {code}, "
                                    "out of memory?); Apply again starts a new one")
            if send_stop and not stop_sent and should_stop():
                conn.send(("stop",))
                stop_sent = True

    def call(self, request: tuple, on_progress: Callable[[int, int, str], None] | None = None,
             should_stop: Callable[[], bool] | None = None):
        """Send ``request`` (see :func:`_serve`) and return the answer; progress messages go
        to ``on_progress``; ``should_stop()`` true asks a folder run to stop.

        Raises:
            SeglightError: the binarizer's error (one line), or the child died.
        """
        with self._lock:
            conn = self._ensure()
            conn.send(request)
            self._current = request[0]
            try:
                return self._answer(on_progress, should_stop)
            finally:
                self._current = None

    def _answer(self, on_progress, should_stop):
        while True:
            message = self._receive(should_stop or (lambda: False),
                                    send_stop=should_stop is not None)
            if message[0] == "progress":
                if on_progress is not None:
                    on_progress(*message[1:])
            elif message[0] == "error":
                raise SeglightError(message[1])
            elif message[0] == "done":
                return message[1]

    def cancel(self, kind: str) -> None:
        """Stop the ``kind`` of request the child is answering now, if it is that one (the
        child is killed; the next call starts a new one)."""
        process = self._process
        if self._current == kind and process is not None and process.is_alive():
            process.kill()

    def close(self) -> None:
        """End the child (napari is quitting, or it died)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.terminate()
            process.join(5)
            if os.name != "nt" and process.is_alive():
                process.kill()
