"""Evaluation of binary masks against ground truth: voxel, object and surface scores.

- :func:`score_masks`: one prediction against one ground truth (arrays);
- :func:`evaluate`: folders of predictions and ground truths matched by name, with a table,
  a CSV and a PNG chart;
- :func:`evaluate_checkpoints`: trained checkpoints, each predicting the held-out images of
  the split it recorded, one row per checkpoint.

``python -m seglight.evaluate pred=DIR gt=DIR`` is the command line for :func:`evaluate`.
"""

from seglight.evaluation.checkpoints import CheckpointsReport, evaluate_checkpoints
from seglight.evaluation.folders import evaluate
from seglight.evaluation.pairing import Pair, pair_files
from seglight.evaluation.report import EvaluationReport
from seglight.evaluation.scores import COUNT_KEYS, SCORE_KEYS, score_masks

__all__ = ["COUNT_KEYS", "SCORE_KEYS", "CheckpointsReport", "EvaluationReport", "Pair",
           "evaluate", "evaluate_checkpoints", "pair_files", "score_masks"]
