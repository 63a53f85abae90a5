"""The network made ready for inference: compute precision and batch norms folded.

Speed on a CPU comes from choices measured with ``scripts/bench_predict.py``: an inference
copy of the network with its batch norms folded into the convolutions (one pass over the
largest tensors fewer, which makes large windows affordable), and bfloat16 weights in
``channels_last_3d`` layout where the CPU has bfloat16 instructions.
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

from seglight.errors import ConfigError
from seglight.networks.base import SegmentationNetwork


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype for ``precision`` (``auto``, ``32``, ``bf16``, ``16``) on ``device``.

    ``auto`` is bfloat16 where the hardware runs it natively (most recent CPUs and GPUs) and
    float32 elsewhere; bfloat16 changes probabilities by about 1e-3, far below any threshold
    a user would tune.
    """
    precision = str(precision)
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    table = {"32": torch.float32, "bf16": torch.bfloat16, "16": torch.float16}
    if precision not in table:
        raise ConfigError(f"precision={precision}; use auto, 32, bf16 or 16")
    if table[precision] is torch.float16 and device.type == "cpu":
        raise ConfigError("precision=16 (float16) is for GPUs; on a CPU use bf16 or 32")
    return table[precision]


def fold_batch_norms(module: nn.Module) -> int:
    """Fold each eval-mode batch norm into the convolution just before it, in place.

    In eval mode a batch norm is an affine map per channel, so ``bn(conv(x))`` equals one
    convolution with scaled weights and a bias (:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`):
    one pass over the largest tensors fewer, and no second tensor of that size at once.
    Pairs are found in ``nn.Sequential`` containers: a convolution followed by a batch norm,
    or by a container whose first module is one (MONAI's ``Convolution`` then ``ADN``).

    Returns:
        how many batch norms were folded (replaced by ``nn.Identity``).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    folded = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in itertools.pairwise(names):
            conv, nxt = seq._modules[a], seq._modules[b]
            owner, key = seq, b
            if isinstance(nxt, nn.Sequential) and len(nxt):
                owner, key = nxt, next(iter(nxt._modules))
            bn = owner._modules[key]
            if (isinstance(conv, convs) and isinstance(bn, norms) and not bn.training
                    and bn.track_running_stats and bn.running_mean is not None):
                seq._modules[a] = fuse_conv_bn_eval(conv, bn)
                owner._modules[key] = nn.Identity()
                folded += 1
    return folded


class InferenceCopy:
    """A copy of a network made for inference, remade when the network changes.

    The copy has its batch norms folded into the convolutions, is cast to the compute dtype
    and laid out ``channels_last_3d``. The network given stays as it was (it may still be
    trained): a network moved to another device or trained further (an optimizer step or
    ``load_state_dict`` bumps its tensors' versions) gets a fresh copy.

    Args:
        net: the network.
        precision: ``auto``, ``32``, ``bf16`` or ``16`` (see :func:`resolve_dtype`).
    """

    def __init__(self, net: SegmentationNetwork, precision: str = "auto"):
        self.net = net
        self.precision = str(precision)
        self._state: tuple[torch.device, int] | None = None
        self._dtype: torch.dtype | None = None
        self._copy: SegmentationNetwork | None = None

    @property
    def device(self) -> torch.device:
        """Where the network runs (its parameters' device)."""
        try:
            return next(self.net.parameters()).device
        except StopIteration:
            return torch.device("cpu")

    def get(self) -> tuple[SegmentationNetwork, torch.dtype]:
        """The inference copy and its compute dtype, made now if the network changed."""
        device = self.device
        state = (device, sum(t._version for t in self.net.state_dict().values()))
        if self._copy is not None and self._state == state:
            return self._copy, self._dtype  # type: ignore[return-value]
        dtype = resolve_dtype(self.precision, device)
        self._copy = None  # free the previous copy first
        run_net = copy.deepcopy(self.net).eval()
        fold_batch_norms(run_net)
        self._copy = run_net.to(dtype=dtype, memory_format=torch.channels_last_3d)
        self._state, self._dtype = state, dtype
        return self._copy, dtype
