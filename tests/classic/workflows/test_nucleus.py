"""The nucleus workflow (seglight's own): filled nuclei in a DNA / H2B stain."""

from __future__ import annotations

import numpy as np

from seglight.classic import ClassicBinarizer, run_workflow
from seglight.data.structures import dna_nuclei_and_truth
from seglight.evaluation.scores import dice


def test_nucleus_fills_the_nuclei_that_h2b_interphase_leaves_textured():
    image, truth = dna_nuclei_and_truth((12, 80, 80), seed=4)
    outputs = ClassicBinarizer("nucleus").run_steps(image)
    thresholded, filled = outputs["foreground"], outputs["filled"]
    assert np.all(filled[thresholded])
    assert np.count_nonzero(filled & ~thresholded & truth) > 0.95 * np.count_nonzero(
        filled & ~thresholded)  # what the hole filling adds lies inside nuclei (the nucleoli)
    ours, h2b = dice(run_workflow("nucleus", image), truth), dice(
        run_workflow("h2b_interphase", image), truth)
    assert ours > 0.85 and ours > h2b + 0.2
