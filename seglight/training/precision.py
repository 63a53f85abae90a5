"""Which numeric precision a training run uses: ``trainer.precision=auto`` resolved per device.

Mixed precision pays only where the hardware computes in 16 bits natively:

- a CUDA GPU that supports bfloat16 (Ampere and newer): ``bf16-mixed``;
- an older CUDA GPU: ``16-mixed`` (float16 with Lightning's gradient scaler);
- a CPU with AVX512-BF16 or AMX tiles: ``bf16-mixed``;
- any other CPU (AVX2 only, or ARM) and Apple MPS: ``32-true``. There, bfloat16 is emulated
  by conversion to float32 around every kernel, which measured slower than float32
  (``scripts/bench_train.py`` prints the numbers).

An explicit ``trainer.precision`` (``32-true``, ``bf16-mixed``, ``16-mixed``, ...) is used as
given. Losses compute in float32 whatever the precision (:mod:`seglight.training.losses`).
"""

from __future__ import annotations

import torch

AUTO = "auto"


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bfloat16 arithmetic units (AVX512-BF16 or AMX tiles)."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def cpu_bf16_flags() -> str:
    """The CPU's bfloat16 units by name (``"AVX512-BF16 + AMX"``, ``"AVX512-BF16"``, ``"AMX"``),
    or ``"no bf16 units (AVX2)"``: what a plan or a timing names."""
    names = [name for name, has in (("AVX512-BF16", torch.cpu._is_avx512_bf16_supported()),
                                    ("AMX", torch.cpu._is_amx_tile_supported())) if has]
    return " + ".join(names) if names else "no bf16 units (AVX2)"


def cuda_has_bf16() -> bool:
    """True when the current CUDA GPU computes in bfloat16 natively."""
    return bool(torch.cuda.is_bf16_supported(including_emulation=False))


def resolve_accelerator(accelerator: str) -> str:
    """``cpu``, ``cuda`` or ``mps``: the device a Lightning ``accelerator`` value runs on."""
    accelerator = str(accelerator).lower()
    if accelerator in ("gpu", "cuda"):
        return "cuda"
    if accelerator == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    return accelerator


def select_precision(precision: str | int | None, accelerator: str = AUTO) -> str:
    """The Lightning precision to train with.

    Args:
        precision: a Lightning precision, or ``"auto"``/None to choose by hardware.
        accelerator: the Lightning accelerator (``auto``, ``cpu``, ``gpu``, ``cuda``, ``mps``).

    Returns:
        ``precision`` itself when it is explicit; else ``bf16-mixed``, ``16-mixed`` or
        ``32-true`` as the module docstring lists.
    """
    if precision is not None and str(precision) != AUTO:
        return precision  # type: ignore[return-value]
    device = resolve_accelerator(accelerator)
    if device == "cuda":
        return "bf16-mixed" if cuda_has_bf16() else "16-mixed"
    if device == "cpu" and cpu_has_native_bf16():
        return "bf16-mixed"
    return "32-true"


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a Lightning precision string (None for full precision)."""
    precision = str(precision)
    if precision.startswith("bf16"):
        return torch.bfloat16
    if precision.startswith("16"):
        return torch.float16
    return None
