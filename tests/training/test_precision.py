"""trainer.precision=auto: the selection logic, with the hardware queries mocked."""

from __future__ import annotations

import pytest
import torch

from seglight import precision as P


@pytest.fixture
def hardware(monkeypatch):
    """Set what the capability queries answer: CPU bf16 units, AMX, CUDA, CUDA bf16, MPS."""

    def set_(avx512_bf16=False, amx=False, cuda=False, cuda_bf16=False, mps=False):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported",
                            lambda including_emulation=True: cuda_bf16)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_


@pytest.mark.parametrize(("caps", "accelerator", "expected"), [
    ({}, "cpu", "32-true"),                              # AVX2 only: bf16 would be emulated
    ({}, "auto", "32-true"),
    ({"avx512_bf16": True}, "cpu", "bf16-mixed"),
    ({"amx": True}, "auto", "bf16-mixed"),
    ({"cuda": True, "cuda_bf16": True}, "auto", "bf16-mixed"),
    ({"cuda": True, "cuda_bf16": True}, "gpu", "bf16-mixed"),
    ({"cuda": True}, "gpu", "16-mixed"),                 # e.g. a V100: float16 with a scaler
    ({"cuda": True}, "auto", "16-mixed"),
    ({"cuda": True, "avx512_bf16": True}, "cpu", "bf16-mixed"),  # the CPU asked for, not the GPU
    ({"cuda": True, "cuda_bf16": True}, "cpu", "32-true"),
    ({"mps": True, "avx512_bf16": True}, "auto", "32-true"),
])
def test_auto_picks_what_the_hardware_runs_natively(hardware, caps, accelerator, expected):
    hardware(**caps)
    assert P.select_precision("auto", accelerator) == expected
    assert P.select_precision(None, accelerator) == expected


@pytest.mark.parametrize("explicit", ["32-true", "bf16-mixed", "16-mixed", 32])
def test_an_explicit_precision_is_kept(hardware, explicit):
    hardware(avx512_bf16=True, cuda=True, cuda_bf16=True)
    assert P.select_precision(explicit, "auto") == explicit


def test_autocast_dtype_of_lightning_precisions():
    assert P.autocast_dtype("bf16-mixed") is torch.bfloat16
    assert P.autocast_dtype("16-mixed") is torch.float16
    assert P.autocast_dtype("32-true") is None


def test_cpu_bf16_flags_names_the_units_this_cpu_has(monkeypatch):
    from seglight.training import precision

    for avx, amx, want in ((True, True, "AVX512-BF16 + AMX"), (True, False, "AVX512-BF16"),
                           (False, True, "AMX"), (False, False, "no bf16 units (AVX2)")):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert precision.cpu_bf16_flags() == want
        assert precision.cpu_has_native_bf16() == (want != "no bf16 units (AVX2)")
