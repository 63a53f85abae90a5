"""The binarizer protocol: what any binarizer offers, and the optional abilities."""

from __future__ import annotations

import numpy as np

from seglight.binarizer import Binarizer, LargeImageBinarizer, SpacingAware, no_record
from seglight.classic import ClassicBinarizer


class Plain:
    threshold = 0.5

    def predict_proba(self, image_zyx, record=no_record):
        return np.zeros(np.shape(image_zyx), np.float32)


def test_a_plain_binarizer_has_no_optional_abilities():
    assert isinstance(Plain(), Binarizer)
    assert not isinstance(Plain(), LargeImageBinarizer) and not isinstance(Plain(), SpacingAware)


def test_a_classic_workflow_needs_the_whole_image():
    binarizer = ClassicBinarizer("tomm20")
    assert isinstance(binarizer, Binarizer) and not isinstance(binarizer, LargeImageBinarizer)


def test_no_record_keeps_nothing():
    assert no_record("step", np.zeros(3)) is None
