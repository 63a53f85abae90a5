"""The widgets' child process (seglight.widgets.service), with a small handler defined here:
answers, progress, stop, one-line errors, a killed child, cancel. No Qt."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from seglight.errors import ConfigError, SeglightError
from seglight.widgets.service import Service, stop_requested

HANDLER = "tests.widgets.test_service:Handler"
ROOT = Path(__file__).resolve().parents[2]


class Handler:
    """Built in the child: answers its pid, counts with progress (stoppable), fails, sleeps."""

    def __call__(self, conn, kind: str, *args):
        if kind == "pid":
            return os.getpid()
        if kind == "count":
            stopped = [False]
            done = 0
            for done in range(1, args[0] + 1):
                conn.send(("progress", done, args[0]))
                time.sleep(0.05)
                if stop_requested(conn, stopped):
                    break
            return done
        if kind == "fail":
            raise ConfigError(f"x={args[0]}: not a number; give one")
        if kind == "crash":
            raise RuntimeError("first line\nsecond line")
        if kind == "sleep":
            time.sleep(args[0])
            return "woke"
        raise ValueError(kind)


@pytest.fixture
def service():
    service = Service(HANDLER, "the test process")
    yield service
    service.close()


def test_it_answers_in_another_process_and_stays(service):
    pid = service.call(("pid",))
    assert pid != os.getpid()
    assert service.call(("pid",)) == pid  # the same child: started once, kept


def test_progress_is_relayed_and_stop_ends_the_work_early(service):
    seen = []
    assert service.call(("count", 3), on_progress=lambda d, t: seen.append((d, t))) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]
    seen.clear()
    done = service.call(("count", 200), on_progress=lambda d, t: seen.append(d),
                        should_stop=lambda: len(seen) >= 2)
    assert 2 <= done < 200 and seen[-1] == done
    assert service.call(("count", 1)) == 1  # the stop did not leak into the next request


def test_errors_are_one_line_and_the_child_serves_on(service):
    with pytest.raises(SeglightError, match=r"^x=abc: not a number; give one$"):
        service.call(("fail", "abc"))
    with pytest.raises(SeglightError) as err:
        service.call(("crash",))
    assert str(err.value) == "RuntimeError: first line"
    assert service.call(("count", 1)) == 1


def test_a_killed_child_is_one_line_and_the_next_call_starts_a_new_one(service):
    first = service.call(("pid",))
    os.kill(first, 9)
    with pytest.raises(SeglightError, match="the test process stopped"):
        service.call(("pid",))
    assert service.call(("pid",)) not in (first, os.getpid())


def test_cancel_kills_only_the_kind_being_answered(service):
    service.warm_up()
    service.cancel("sleep")  # nothing running: nothing happens
    assert service.alive
    errors = []

    def sleep():
        try:
            service.call(("sleep", 60))
        except SeglightError as err:
            errors.append(str(err))

    thread = threading.Thread(target=sleep)
    thread.start()
    deadline = time.monotonic() + 30
    while service._current != "sleep" and time.monotonic() < deadline:
        time.sleep(0.01)
    service.cancel("pid")  # another kind: the sleep goes on
    assert service.alive
    service.cancel("sleep")
    thread.join(30)
    assert not thread.is_alive() and len(errors) == 1 and "\n" not in errors[0]
    assert not service.alive


def test_a_child_that_cannot_start_is_one_line_not_a_hang():
    service = Service("tests.widgets.test_service:NoSuchHandler", "the broken process")
    started = time.monotonic()
    with pytest.raises(SeglightError, match=r"^the broken process stopped \(exit code 1"):
        service.warm_up()
    assert time.monotonic() - started < 120 and not service.alive


@pytest.mark.slow
def test_the_child_does_not_run_the_parent_s_script_again(tmp_path):
    """A napari script without ``if __name__ == "__main__"`` (multiprocessing's spawn would
    run it again in the child, opening a second viewer)."""
    script = tmp_path / "unguarded.py"
    script.write_text("from seglight.widgets.service import Service\n"
                      "print('script ran', flush=True)\n"
                      f"service = Service({HANDLER!r}, 'the test process')\n"
                      "print('child', service.call(('pid',)) != __import__('os').getpid())\n"
                      "service.close()\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["script ran", "child True"]
