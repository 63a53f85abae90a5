"""User-facing errors.

A :class:`SeglightError` is an error the *user* caused and can fix (a missing file, a
2D image where 3D is needed, a bad config value). Command-line entry points print it as
one line, without a traceback, and exit non-zero. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any


class SeglightError(Exception):
    """An error caused by user input; its message names the file or value and the fix."""


class ConfigError(SeglightError):
    """A configuration value that cannot work, found before any work starts."""


def exit_on_user_error(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a CLI task so that a :class:`SeglightError` becomes one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SeglightError as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None

    return wrapper
