"""A child Python process that does a widget's heavy Python work, so that it never holds
napari's interpreter.

A thread in napari's process shares its interpreter lock with the GUI thread: loading torch's
compiled libraries holds it for seconds, and long pure-Python work (drawing a matplotlib
chart, parsing TensorBoard logs) hands it back late on a busy machine; the viewer froze for
as long (measured by ``scripts/napari_stalls.py``). A child process has its own.

The child is started once, as ``python -m seglight.widgets.service <handler>`` (a fresh
interpreter that never runs napari's own script again, as ``multiprocessing``'s spawn would
where that script has no ``if __name__ == "__main__"`` guard), connects back to napari with
``multiprocessing.connection`` (a local socket or named pipe, with a one-time key), builds a
*handler* (which loads its modules), says it is ready and answers requests one at a time
until napari quits or the connection closes. A caller waits for an answer in a worker
thread (waiting on the connection releases the lock). No Qt here: the child never loads it.
"""

from __future__ import annotations

import atexit
import importlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Listener

from seglight.errors import SeglightError

#: How often a waiting caller checks for a stop request and for a child that died (s).
POLL_S = 0.1
#: The environment variable that hands the child its connection key.
KEY_VARIABLE = "SEGLIGHT_SERVICE_KEY"
#: How much lower the child's CPU priority is than napari's (POSIX nice; on Windows: below
#: normal). Where the CPUs are all busy, the viewer gets them first; where a CPU is idle, the
#: child runs at full speed.
NICE = 5


def error_line(err: BaseException) -> str:
    """One line for an error: the message of ours, the type and first line of others."""
    if isinstance(err, SeglightError):
        return str(err)
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"


def _serve(conn, handler_path: str) -> None:
    """The child's loop. ``handler_path`` (``"module:Class"``) is built once; each request
    ``(kind, *args)`` is answered ``("done", handler(conn, kind, *args))`` or ``("error",
    one line)``; meanwhile the handler may send ``("progress", ...)`` and read ``("stop",)``
    with :func:`stop_requested`. A ``("stop",)`` that comes between requests is dropped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in napari's terminal: napari quits
    module, name = handler_path.split(":")
    handler = getattr(importlib.import_module(module), name)()
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # napari is gone
        if request[0] == "stop":
            continue
        try:
            conn.send(("done", handler(conn, *request)))
        except Exception as err:  # one line to the widget; the child serves on
            conn.send(("error", error_line(err)))


def stop_requested(conn, stopped: list[bool]) -> bool:
    """In a handler: whether the caller asked to stop (``stopped``: a one-item list that
    keeps the answer once true)."""
    while not stopped[0] and conn.poll():
        stopped[0] = conn.recv()[0] == "stop"
    return stopped[0]


_SHARED: dict[str, Service] = {}


def shared(handler_path: str, name: str) -> Service:
    """The one :class:`Service` of ``handler_path`` in this process (two widgets of a kind
    share their child; it lives until :meth:`Service.close` or napari's exit)."""
    if handler_path not in _SHARED:
        _SHARED[handler_path] = service = Service(handler_path, name)
        atexit.register(service.close)  # a child busy when napari exits stops too
    return _SHARED[handler_path]


class Service:
    """The child process, started on first use (or by :meth:`warm_up`) and kept.

    Args:
        handler_path: ``"module:Class"``; ``Class()`` is built in the child and called as
            ``handler(conn, kind, *args)`` for each request.
        name: what the errors call it ("the prediction process").

    Call :meth:`call` from a worker thread, never the GUI thread (it waits for the answer).
    """

    def __init__(self, handler_path: str, name: str):
        self.handler_path = handler_path
        self.name = name
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._current: str | None = None  # the kind of request being answered

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def warm_up(self) -> None:
        """Start the child and wait until its handler is built (blocking)."""
        with self._lock:
            self._ensure()

    def _ensure(self):
        if self.alive:
            return self._conn
        self.close()
        key = os.urandom(32)
        listener = Listener(authkey=key)
        env = {**os.environ, KEY_VARIABLE: key.hex(),
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # as napari finds it
        address = listener.address.encode().hex()
        process = subprocess.Popen(
            [sys.executable, "-m", "seglight.widgets.service", self.handler_path, address],
            env=env, stdin=subprocess.DEVNULL,
            creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0))
        connected = threading.Event()

        def unblock() -> None:  # a child that dies before it connects: accept() returns
            process.wait()
            if not connected.is_set():
                try:
                    Client(listener.address, authkey=key).close()
                except OSError:
                    pass

        threading.Thread(target=unblock, daemon=True).start()
        try:
            conn = listener.accept()
        finally:
            connected.set()
            listener.close()
        self._process, self._conn = process, conn
        self._receive()  # "ready" (or the child's exit code)
        return conn

    def _receive(self, ask_stop: Callable[[], bool] = lambda: False):
        """The next message, waiting in steps of POLL_S; ``("stop",)`` is sent whenever
        ``ask_stop()`` is true (checked between messages too)."""
        process, conn = self._process, self._conn  # close() from another thread clears them
        while True:
            if ask_stop():
                conn.send(("stop",))
            try:
                if conn.poll(POLL_S):
                    return conn.recv()
            except (EOFError, OSError):
                pass
            if process.poll() is not None:
                code = process.returncode
                if self._process is process:
                    self.close()
                raise SeglightError(f"{self.name} stopped (exit code {code}, out of memory?); "
                                    "the next run starts a new one")

    def call(self, request: tuple, on_progress: Callable | None = None,
             should_stop: Callable[[], bool] | None = None):
        """Send ``request`` and return the answer; ``("progress", ...)`` messages go to
        ``on_progress(...)``; ``should_stop()`` turning true sends ``("stop",)`` once.

        Raises:
            SeglightError: the handler's error (one line), or the child died.
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
        asked = [should_stop is None]  # whether the stop was sent (or cannot be asked)

        def ask_once() -> bool:
            if not asked[0] and should_stop():
                asked[0] = True
                return True
            return False

        while True:
            message = self._receive(ask_once)
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
        if self._current == kind and process is not None and process.poll() is None:
            process.kill()

    def close(self) -> None:
        """End the child (napari is quitting, the widget is gone, or the child died)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main() -> None:
    """The child: ``python -m seglight.widgets.service <module:Class> <address, hex>``."""
    handler_path, address = sys.argv[1], bytes.fromhex(sys.argv[2]).decode()
    if hasattr(os, "nice"):
        os.nice(NICE)
    conn = Client(address, authkey=bytes.fromhex(os.environ.pop(KEY_VARIABLE)))
    _serve(conn, handler_path)


if __name__ == "__main__":
    main()
