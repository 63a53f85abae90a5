import torch

from seglight.training.metrics import MaskedDiceIoU


def test_dice_and_iou_count_only_supervised_voxels():
    pred = torch.tensor([1, 1, 0, 0, 1, 1], dtype=torch.bool)
    gt = torch.tensor([1, 0, 1, 0, 0, 0])
    cm = torch.tensor([1.0, 1, 1, 1, 0, 0])  # the last two (false positives) are excluded
    metric = MaskedDiceIoU()
    metric.update(pred, gt, cm)
    scores = metric.compute()
    # tp=1, fp=1, fn=1 -> dice 2/4, iou 1/3
    assert abs(float(scores["dice"]) - 0.5) < 1e-6
    assert abs(float(scores["iou"]) - 1 / 3) < 1e-6


def test_counts_accumulate_over_batches():
    metric = MaskedDiceIoU()
    metric.update(torch.tensor([1, 0]), torch.tensor([1, 0]), torch.ones(2))
    metric.update(torch.tensor([0, 0]), torch.tensor([1, 1]), torch.ones(2))
    assert abs(float(metric.compute()["dice"]) - 2 / 4) < 1e-6
