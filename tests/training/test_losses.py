import pytest
import torch
import torch.nn.functional as F

from seglight.errors import ConfigError
from seglight.training.losses import (
    MultiHeadLoss,
    weighted_cross_entropy,
    weighted_dice_ce,
    weighted_soft_dice,
)

LOSSES = [weighted_cross_entropy, weighted_soft_dice, weighted_dice_ce]


def _batch(seed=0, shape=(2, 4, 6, 6)):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape[0], 2, *shape[1:], generator=g, requires_grad=True)
    target = torch.randint(0, 2, shape, generator=g)
    return logits, target


@pytest.mark.parametrize("loss", LOSSES)
def test_costmap_zero_voxels_get_zero_gradient(loss):
    logits, target = _batch()
    costmap = torch.ones(target.shape)
    costmap[:, :2] = 0
    loss(logits, target, costmap).backward()
    assert logits.grad[:, :, :2].abs().max() == 0
    assert logits.grad[:, :, 2:].abs().max() > 0


def test_all_ones_costmap_equals_plain_cross_entropy():
    logits, target = _batch(1)
    plain = F.cross_entropy(logits, target)
    weighted = weighted_cross_entropy(logits, target, torch.ones(target.shape))
    torch.testing.assert_close(weighted, plain)


def test_costmap_weights_are_a_weighted_mean():
    logits, target = _batch(2)
    ce = F.cross_entropy(logits, target, reduction="none")
    costmap = torch.rand(target.shape)
    expected = (ce * costmap).sum() / costmap.sum()
    torch.testing.assert_close(weighted_cross_entropy(logits, target, costmap), expected)


def test_soft_dice_is_zero_for_perfect_confident_prediction():
    target = torch.zeros(1, 4, 8, 8, dtype=torch.long)
    target[:, 1:3, 2:6, 2:6] = 1
    sign = (2 * target - 1).float()  # +1 on foreground, -1 on background
    logits = torch.stack([-50.0 * sign, 50.0 * sign], dim=1)
    assert weighted_soft_dice(logits, target, torch.ones(target.shape)) < 1e-3


def test_multi_head_loss_sums_weighted_heads_and_crops_targets():
    logits, target = _batch(3, (1, 6, 8, 8))
    small = logits[..., 1:5, 2:6, 2:6].detach()  # a head with a centred, smaller output
    costmap = torch.ones(target.shape)
    loss = MultiHeadLoss("ce", [1.0, 0.5])
    total = loss([logits, small], target, costmap)
    expected = weighted_cross_entropy(logits, target, costmap) + 0.5 * weighted_cross_entropy(
        small, target[..., 1:5, 2:6, 2:6], costmap[..., 1:5, 2:6, 2:6])
    torch.testing.assert_close(total, expected)
    with pytest.raises(ConfigError, match="returns 3 heads"):
        loss([logits, logits, logits], target, costmap)
    with pytest.raises(ConfigError, match="loss kind='focal'"):
        MultiHeadLoss("focal")


def test_dice_ce_is_the_sum_of_its_parts_with_one_shared_log_softmax():
    logits, target = _batch(3)
    costmap = torch.rand(target.shape)
    parts = weighted_soft_dice(logits, target, costmap) + weighted_cross_entropy(
        logits, target, costmap)
    torch.testing.assert_close(weighted_dice_ce(logits, target, costmap), parts)


def test_losses_of_bfloat16_logits_are_float32_and_close():
    logits, target = _batch(4)
    costmap = torch.rand(target.shape)
    for loss in LOSSES:
        low = loss(logits.to(torch.bfloat16), target, costmap)
        assert low.dtype == torch.float32 and torch.isfinite(low)
        torch.testing.assert_close(low, loss(logits, target, costmap), rtol=2e-2, atol=2e-3)
