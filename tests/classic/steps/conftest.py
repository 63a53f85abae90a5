"""What the step-engine tests share: a small SEC61B image and a run that records its events."""

from __future__ import annotations

import numpy as np
import pytest

from seglight.data.structures import structure_image

SHAPE = (10, 48, 48)
SEC61B_STEPS = ["normalized", "smoothed", "vesselness", "filament", "size_filtered",
                "size_filtered_2d", "size_filtered_again"]


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return structure_image("sec61b", SHAPE)


def run_steps(binarizer, image, cache=None, **kwargs):
    events = []
    values = binarizer.run_steps(image, cache=cache, on_step=events.append, **kwargs)
    return values, events


def ran(events) -> list[str]:
    """The steps that really computed (neither cache hits nor switched off)."""
    return [e.step for e in events if not e.cached and not e.disabled]


