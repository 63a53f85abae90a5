"""What every seglight network declares about its input and output sizes.

Unpadded networks such as ``unet_xy`` return a smaller block than they are fed (each 3×3×3
convolution trims one voxel per side), so data loading, losses and tiled inference must
know the relation. Every network is a :class:`SegmentationNetwork`:

- ``forward(x)`` returns logits ``(B, n_classes, Z, Y, X)``, or a list of them: the main
  head first, then auxiliary heads, all at the main output's size;
- ``output_shape(input_zyx)`` gives the main output size for an input size, and raises
  :class:`~seglight.errors.ConfigError` naming the nearest valid input when it is invalid;
- the output is centred in the input (offset ``(in - out) // 2`` per axis).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from seglight.errors import ConfigError

ZYX = tuple[int, int, int]


class SegmentationNetwork(nn.Module):
    """Base class: a network with declared input/output sizes and one or more heads."""

    #: number of output heads in training mode (main + auxiliary)
    n_heads: int = 1
    #: number of classes of each head (2 = background, foreground)
    n_classes: int = 2

    def _axis_out(self, size: int, axis: int) -> int | None:
        """Output size along one axis, or None when ``size`` is not a valid input there.

        The default suits a same-padded network that takes any size; override it otherwise.
        """
        return size if size >= 1 else None

    def valid_input_shape(self, at_least_zyx: Sequence[int]) -> ZYX:
        """The smallest valid input size that is at least ``at_least_zyx`` on every axis."""
        out = []
        for axis, size in enumerate(at_least_zyx):
            candidate = max(1, int(size))
            while self._axis_out(candidate, axis) is None:
                candidate += 1
                if candidate > 100_000:
                    raise ConfigError(f"no valid input size near {size} along axis {'zyx'[axis]}")
            out.append(candidate)
        return tuple(out)  # type: ignore[return-value]

    def output_shape(self, input_zyx: Sequence[int]) -> ZYX:
        """Main output size for an input of size ``input_zyx``; ConfigError if invalid."""
        if len(input_zyx) != 3:
            raise ConfigError(f"patch size {list(input_zyx)} must have three values [z, y, x]")
        out = [self._axis_out(int(s), a) for a, s in enumerate(input_zyx)]
        if any(o is None for o in out):
            suggestion = list(self.valid_input_shape(input_zyx))
            raise ConfigError(
                f"input size {list(input_zyx)} does not fit {type(self).__name__} "
                f"({self.size_rule()}); the nearest valid size is {suggestion}"
            )
        return tuple(out)  # type: ignore[return-value]

    def size_rule(self) -> str:
        """A one-line human description of which input sizes are valid."""
        return "see the network's documentation"

    def inference_bytes_per_voxel(self) -> float:
        """Peak activation memory of one inference pass, in bytes per input voxel in float32
        (half of it in bfloat16 or float16); it sizes the automatic inference window.

        The default is what a same-padded U-Net of width 32 needs (measured for
        ``unet_xy_padded``: about 1.2 kB); a network that knows better overrides it.
        """
        return 1300.0

    def encoder_modules(self) -> list[nn.Module]:
        """The modules of the contracting path (what ``freeze=encoder`` keeps fixed when
        fine-tuning). A network that has one overrides this.

        Raises:
            ConfigError: the network does not say which modules are its encoder.
        """
        raise ConfigError(f"freeze=encoder: {type(self).__name__} does not say which modules "
                          "are its encoder (encoder_modules); fine-tune it without freeze")

    def heads(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``forward`` as a list of heads, whether it returns one tensor or several."""
        out = self(x)
        return [out] if isinstance(out, torch.Tensor) else list(out)

    def predict_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Main head only: what inference needs."""
        return self.heads(x)[0]


def center_crop(x: torch.Tensor, shape_zyx: Sequence[int]) -> torch.Tensor:
    """Crop the last three axes of ``x`` to ``shape_zyx``, centred."""
    slices = [slice(None)] * (x.ndim - 3)
    for size, target in zip(x.shape[-3:], shape_zyx, strict=True):
        start = (size - target) // 2
        slices.append(slice(start, start + target))
    return x[tuple(slices)]
