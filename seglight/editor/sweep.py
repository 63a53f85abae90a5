"""Sweep mode: one or two parameters, a few values each, a grid of results on one slice.

The grid is one mosaic: tile ``(row, col)`` is the current z-slice of the workflow's result
with the ``row``-th value of the first parameter and the ``col``-th of the second. The
editor shows the input slice and the masks as two mosaic layers and writes each tile's
values beside it; this module only builds the arrays and the captions (no Qt).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from seglight.errors import ConfigError

#: Pixels of background between two tiles.
GAP = 6


def suggest_values(default: Any, kind: str, low: float | None = None,
                   high: float | None = None, n: int = 5) -> list[Any]:
    """A few values around a number's default, within its range: the sweep's starting point.

    Floats get the default times 0.5, 0.75, 1, 1.5, 2 (``n=5``; else ``n`` factors from
    0.5 to 2, evenly spaced on a log scale: 0.5, 1, 2 for 3); ints the default plus
    -2..2 steps of about a quarter of it (at least 1). Values outside ``[low, high]`` are
    dropped. The default itself is always one of them.
    """
    if kind not in ("int", "float") or isinstance(default, bool):
        return [default]
    if kind == "float":
        factors = 2.0 ** np.linspace(-1, 1, n) if n != 5 else (0.5, 0.75, 1.0, 1.5, 2.0)
        values = [float(f"{default * f:.4g}") for f in factors] if default else [
            float(f"{v:.4g}") for v in np.linspace(low or 0.0, high or 1.0, n)]
    else:
        step = max(1, round(abs(int(default)) / 4))
        values = [int(default) + step * k for k in range(-(n // 2), n - n // 2)]
    kept = [v for v in values if (low is None or v >= low) and (high is None or v <= high)]
    return sorted({*kept, default})


def parse_values(text: str, key: str, kind: str) -> list[Any]:
    """The values typed in a sweep field: ``0.1, 0.15, 0.2`` (numbers, comma-separated).

    Raises:
        ConfigError: a value is not a number of the parameter's kind (one line naming it).
    """
    values = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            value = yaml.safe_load(item)
            if kind == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                value = int(value)
            else:
                value = float(value)
        except (ValueError, TypeError, yaml.YAMLError):
            raise ConfigError(
                f"sweep {key}: {item!r} is not {'an integer' if kind == 'int' else 'a number'}; "
                "type values separated by commas, e.g. 0.1, 0.15, 0.2"
            ) from None
        values.append(value)
    if not values:
        raise ConfigError(f"sweep {key}: no values; type a few separated by commas")
    return values


def combinations(first: tuple[str, Sequence[Any]],
                 second: tuple[str, Sequence[Any]] | None = None) -> list[list[dict[str, Any]]]:
    """The grid of parameter overrides: row ``i`` has the first parameter's ``i``-th value,
    column ``j`` the second's ``j``-th (one column without a second parameter)."""
    key_a, values_a = first
    if second is None:
        return [[{key_a: a}] for a in values_a]
    key_b, values_b = second
    return [[{key_a: a, key_b: b} for b in values_b] for a in values_a]


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def caption(values: dict[str, Any]) -> str:
    """``vesselness_cutoff=0.1, min_size=15``: a tile's label."""
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items())


@dataclass
class Mosaic:
    """A grid of 2D tiles laid out with :data:`GAP` pixels between them.

    Attributes:
        image: the input slice repeated in every tile (float32, NaN in the gaps).
        mask: the result of each tile (uint8 0/1).
        captions: ``(y, x, text)``: the top-left corner of each tile and its values.
        tile_shape: (Y, X) of one tile.
        keys: the swept parameters, rows' first.
        short: each tile's values alone (``0.1, 15``), in the order of ``captions``.
    """

    image: np.ndarray
    mask: np.ndarray
    captions: list[tuple[int, int, str]]
    tile_shape: tuple[int, int]
    keys: tuple[str, ...] = ()
    short: list[str] = field(default_factory=list)


def build_mosaic(input_slice: np.ndarray, masks: Sequence[Sequence[np.ndarray]],
                 grid: Sequence[Sequence[dict[str, Any]]]) -> Mosaic:
    """Lay out ``masks[row][col]`` (2D, the shape of ``input_slice``) as a mosaic."""
    ty, tx = np.shape(input_slice)
    rows, cols = len(masks), max(len(row) for row in masks)
    shape = (rows * (ty + GAP) - GAP, cols * (tx + GAP) - GAP)
    image = np.full(shape, np.nan, np.float32)
    mask = np.zeros(shape, np.uint8)
    captions, short = [], []
    for r, c in itertools.product(range(rows), range(cols)):
        if c >= len(masks[r]):
            continue
        y0, x0 = r * (ty + GAP), c * (tx + GAP)
        image[y0:y0 + ty, x0:x0 + tx] = input_slice
        mask[y0:y0 + ty, x0:x0 + tx] = np.asarray(masks[r][c]) > 0
        captions.append((y0, x0, caption(grid[r][c])))
        short.append(", ".join(_text(v) for v in grid[r][c].values()))
    return Mosaic(image, mask, captions, (ty, tx), tuple(grid[0][0]), short)
