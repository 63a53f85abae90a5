import pytest
import torch

from seglight.training.schedules import warmup_cosine, warmup_poly


def _lrs(make, total_steps, **kwargs):
    """The learning rate at steps 0 .. total_steps (lr 1)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = make(optimizer, total_steps=total_steps, **kwargs)
    lrs = []
    for _ in range(total_steps + 1):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("make", [warmup_poly, warmup_cosine])
def test_warm_up_rises_linearly_then_decays_to_zero(make):
    lrs = _lrs(make, 100, warmup_steps=10)
    assert lrs[:10] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert lrs[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:], strict=False))
    assert lrs[-2] < 0.05 and lrs[-1] == 0


def test_poly_follows_one_minus_t_to_the_power():
    lrs = _lrs(warmup_poly, 100, exponent=0.9)
    assert lrs[50] == pytest.approx(0.5**0.9)


def test_cosine_ends_at_its_final_fraction():
    lrs = _lrs(warmup_cosine, 100, warmup_steps=0, final_fraction=0.1)
    assert lrs[0] == pytest.approx(1.0)
    assert lrs[50] == pytest.approx(0.1 + 0.9 * 0.5)
    assert lrs[100] == pytest.approx(0.1)
