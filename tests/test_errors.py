"""A user's error is one line and exit code 2; anything else keeps its traceback."""

from __future__ import annotations

import pytest

from seglight.errors import ConfigError, SeglightError, exit_on_user_error


def test_a_user_error_is_one_line_on_stderr_and_exit_code_2(capsys):
    @exit_on_user_error
    def task(path):
        raise ConfigError(f"{path}: no such file; give a folder of images")

    with pytest.raises(SystemExit) as exit_:
        task("in/")
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "error: in/: no such file; give a folder of images\n"
    assert captured.out == ""


def test_a_bug_keeps_its_traceback_and_a_result_passes_through():
    @exit_on_user_error
    def task(fail: bool):
        if fail:
            raise ZeroDivisionError("a bug")
        return 7

    assert task(False) == 7
    with pytest.raises(ZeroDivisionError):
        task(True)
    assert issubclass(ConfigError, SeglightError) and task.__name__ == "task"
