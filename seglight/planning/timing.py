"""Measured, not guessed: the time and memory of real training steps on this machine.

:func:`measure_step` builds the planned LightningModule from a composed training config and
runs a few real optimizer steps (forward through every head, the configured costmap-weighted
loss, backward, the configured optimizer) on a batch of the planned size, under the planned
precision. It reports

- the wall and process CPU seconds per step (after a warm-up step);
- the activation memory the step keeps for its backward pass, counted exactly by an autograd
  hook (each saved tensor's storage once), and on a GPU the allocator's peak.

Activation memory grows linearly with the voxels of a batch, so a step measured on a small
patch gives the bytes per voxel that size a larger one (:class:`MemoryModel`).
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from seglight.training.precision import autocast_dtype, resolve_accelerator

#: Bytes per parameter during training: weights, gradients and Adam's two moments (float32).
TRAIN_BYTES_PER_PARAM = 16
#: Headroom over the counted activations: backward's temporaries (each layer's input and
#: output gradients live at once), convolution workspaces and the allocator's slack.
ACTIVATION_HEADROOM = 2.0
#: Bytes one voxel of curated data takes in memory while training: float32 image and
#: costmap, uint8 ground truth, and the int64 index of each foreground voxel (counted for all).
DATA_BYTES_PER_VOXEL = 4 + 4 + 1
#: What the process needs besides (Python, torch, Lightning, data loaders): training processes
#: on the team's machine held 0.6-0.9 GB resident; rounded up.
RUNTIME_BYTES = 1.0e9


@dataclass
class StepMeasure:
    """One configuration's measured training step."""

    batch_size: int
    patch_zyx: list[int]
    precision: str
    wall_s: float              # per step, median of the timed steps
    cpu_s: float               # process CPU seconds per step (all threads)
    activation_bytes: int      # saved for backward, counted by the autograd hook
    gpu_peak_bytes: int | None  # torch.cuda.max_memory_allocated over a step (GPU only)
    n_parameters: int
    threads: int

    @property
    def voxels(self) -> int:
        return self.batch_size * math.prod(self.patch_zyx)


@dataclass
class MemoryModel:
    """Training memory as a linear function of the voxels in a batch."""

    bytes_per_voxel: float     # activations per input voxel, with the headroom
    fixed_bytes: float         # parameters, optimizer state (and the runtime, on a CPU)

    @classmethod
    def from_measure(cls, m: StepMeasure, device: str) -> MemoryModel:
        activations = m.activation_bytes
        if m.gpu_peak_bytes:  # the allocator's own peak, when there is one, if larger
            activations = max(activations, m.gpu_peak_bytes - TRAIN_BYTES_PER_PARAM
                              * m.n_parameters)
        fixed = TRAIN_BYTES_PER_PARAM * m.n_parameters + (RUNTIME_BYTES if device == "cpu" else 0)
        return cls(ACTIVATION_HEADROOM * activations / m.voxels, fixed)

    def bytes(self, batch_size: int, patch_zyx: Sequence[int]) -> float:
        return self.fixed_bytes + self.bytes_per_voxel * batch_size * math.prod(patch_zyx)


class _SavedTensors:
    """Counts the bytes autograd keeps for backward (each storage once)."""

    def __init__(self):
        self.storages: dict[int, int] = {}

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        try:
            storage = t.untyped_storage()
            self.storages[storage.data_ptr()] = storage.nbytes()
        except (RuntimeError, NotImplementedError):  # tensors without storage (views of meta)
            pass
        return t

    @staticmethod
    def unpack(t: torch.Tensor) -> torch.Tensor:
        return t

    @property
    def total(self) -> int:
        return sum(self.storages.values())


def build_module(cfg: DictConfig):
    """The LightningModule a composed training config trains (not yet on a device)."""
    return instantiate(
        cfg.model,
        normalization=OmegaConf.to_container(cfg.data.normalization, resolve=True),
        patch_zyx=list(cfg.data.patch_zyx),
        spacing_um=None,
    )


def _batch(batch_size: int, patch: Sequence[int], device: torch.device, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    shape = (batch_size, *patch)
    return {
        "image": torch.rand((batch_size, 1, *patch), generator=g).to(device),
        "gt": (torch.rand(shape, generator=g) < 0.1).long().to(device),
        "costmap": torch.ones(shape).to(device),
    }


def measure_step(cfg: DictConfig, batch_size: int, patch_zyx: Sequence[int], precision: str,
                 device: str = "cpu", steps: int = 3, warmup: int = 2) -> StepMeasure:
    """Time ``steps`` real training steps of ``cfg``'s model after ``warmup`` untimed ones.

    The median of the timed steps is kept (wall and CPU alike): one step slowed by another
    process, or the kernels a second step still compiles, must not change the plan. With one
    warm-up and the mean of two, a probe on the shared 2-core machine read 0.175, 0.270 and
    1.028 CPU s on three runs, and the plans' patches flipped between 48 and 64 px.

    Args:
        cfg: a composed training config (its ``model`` is built, its loss and optimizer used).
        batch_size, patch_zyx: the batch to time.
        precision: a Lightning precision (``32-true``, ``bf16-mixed``, ``16-mixed``).
        device: ``cpu`` or ``cuda``.
    """
    device = resolve_accelerator(device)
    dev = torch.device(device)
    module = build_module(cfg).to(dev)
    module.train()
    optimizer = instantiate(cfg.model.optimizer)(params=module.parameters())
    batch = _batch(batch_size, patch_zyx, dev)
    dtype = autocast_dtype(precision)
    autocast = (torch.autocast(device_type=device, dtype=dtype) if dtype is not None
                else nullcontext())
    scaler = torch.amp.GradScaler(device) if dtype == torch.float16 else None
    counter = _SavedTensors()
    walls, cpus = [], []
    gpu_peak = None
    for i in range(warmup + steps):
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0, c0 = time.perf_counter(), time.process_time()
        hooks = torch.autograd.graph.saved_tensors_hooks(counter.pack, counter.unpack) \
            if i == 0 else nullcontext()
        with autocast, hooks:
            heads = module(batch["image"])
            loss = module.loss_fn(heads, batch["gt"], batch["costmap"])
        optimizer.zero_grad(set_to_none=True)
        (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
            gpu_peak = max(gpu_peak or 0, int(torch.cuda.max_memory_allocated()))
        if i >= warmup:
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    return StepMeasure(
        batch_size=int(batch_size), patch_zyx=[int(p) for p in patch_zyx],
        precision=str(precision), wall_s=statistics.median(walls),
        cpu_s=statistics.median(cpus), activation_bytes=counter.total, gpu_peak_bytes=gpu_peak,
        n_parameters=sum(p.numel() for p in module.parameters()),
        threads=torch.get_num_threads(),
    )


def peak_rss_bytes() -> int:
    """The process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
