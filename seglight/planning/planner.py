"""Plan a training run for a curated folder: fingerprint, rules, timed steps.

:func:`make_plan` is what ``python -m seglight.plan`` and ``experiment=auto`` run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from seglight.errors import ConfigError
from seglight.planning import rules
from seglight.planning.fingerprint import MAX_SHAPE_IMAGES, Fingerprint, fingerprint
from seglight.planning.plan_file import GROUPS, hydra_value
from seglight.planning.rules import Decision, Plan, Request
from seglight.planning.timing import (
    ACTIVATION_HEADROOM,
    DATA_BYTES_PER_VOXEL,
    RUNTIME_BYTES,
    MemoryModel,
    StepMeasure,
    measure_step,
)
from seglight.training.precision import (
    cpu_bf16_flags,
    resolve_accelerator,
    select_precision,
)

log = logging.getLogger("seglight.plan")

#: Seconds a run spends before its first step (imports, Lightning, the first validation).
STARTUP_S = 20.0
#: Widths the cost model is measured at (per-voxel time a·w + b·w², memory α + β·w).
PROBE_WIDTHS = (4, 16)

UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "hours": 3600}


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``30min``, ``1.5h``, ``90s``, ``600`` (seconds)."""
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip().lower().replace(" ", "")
    number = s.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = s[len(number):] or "s"
    try:
        value = float(number) * UNITS[unit]
    except (ValueError, KeyError):
        raise ConfigError(f"budget={text}: write a duration such as 30min, 2h or 600s") from None
    if value <= 0:
        raise ConfigError(f"budget={text}: the budget must be positive")
    return value


def compose_train(overrides: Sequence[str]) -> DictConfig:
    """``conf/train.yaml`` composed with ``overrides`` (as the command line would)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    from seglight import CONF_DIR
    from seglight.cli import explain_composition_error, prepare_overrides
    from seglight.config import register_resolvers

    register_resolvers()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("train", overrides=prepare_overrides(list(overrides)))
    except HydraException as err:
        raise ConfigError(explain_composition_error(err, list(overrides), "train")) from None
    finally:
        GlobalHydra.instance().clear()


def device_memory(device: str, memory_gb: float | None) -> tuple[float, str]:
    """Bytes the run may use on ``device`` and where the number comes from."""
    if memory_gb is not None:
        return float(memory_gb) * 1e9, f"memory_gb={memory_gb}"
    if device == "cuda":
        import torch

        free, total = torch.cuda.mem_get_info()
        return 0.9 * free, f"90 % of the GPU's {free / 1e9:.1f} GB free of {total / 1e9:.1f} GB"
    import psutil

    available = psutil.virtual_memory().available
    return 0.8 * available, f"80 % of the {available / 1e9:.1f} GB of RAM available"


def _overrides(decisions: Sequence[Decision]) -> list[str]:
    groups = [d for d in decisions if d.applied and d.key in GROUPS]
    values = [d for d in decisions if d.applied and d.key not in GROUPS]
    return [f"{d.key}={hydra_value(d.value)}" for d in groups + values]


class CostModel:
    """Seconds per step and bytes of a (width, batch, patch), from steps measured at two
    widths on a small patch: time per voxel a·w + b·w², memory per voxel α + β·w."""

    def __init__(self, probes: Sequence[StepMeasure], device: str, widths: Sequence[int],
                 clock: str = "wall"):
        (m1, m2), (w1, w2) = probes, widths
        seconds = [m.cpu_s if clock == "cpu" else m.wall_s for m in probes]
        t1, t2 = seconds[0] / m1.voxels, seconds[1] / m2.voxels
        # Solve t = a w + b w^2 through both points (b >= 0: never cheaper when wider).
        b = max((t2 / w2 - t1 / w1) / (w2 - w1), 0.0)
        self.a, self.b = max(t1 / w1 - b * w1, 0.0), b
        mem1, mem2 = (MemoryModel.from_measure(m, device) for m in probes)
        self.beta = max((mem2.bytes_per_voxel - mem1.bytes_per_voxel) / (w2 - w1), 0.0)
        self.alpha = max(mem1.bytes_per_voxel - self.beta * w1, 0.0)
        self.params_per_w2 = m2.n_parameters / w2**2
        self.runtime = mem1.fixed_bytes - 16 * m1.n_parameters
        self.probes = list(probes)

    def __call__(self, width: int, batch: int, patch: Sequence[int]) -> tuple[float, float]:
        voxels = batch * math.prod(patch)
        seconds = voxels * (self.a * width + self.b * width**2)
        memory = (self.runtime + 16 * self.params_per_w2 * width**2
                  + voxels * (self.alpha + self.beta * width))
        return seconds, memory


def _data_seconds(cfg: DictConfig, fp: Fingerprint, batch: int, patch: Sequence[int],
                  now=time.perf_counter) -> float:
    """Seconds to draw and augment one batch of patches from a real image (one thread)."""
    from hydra.utils import instantiate

    from seglight.data.augment import Augmentation
    from seglight.data.patches import PatchSampler, RandomPatchDataset
    from seglight.io.curated import find_triplets, load_triplet
    from seglight.normalization import Normalizer

    sample = load_triplet(find_triplets(fp.path)[0])
    sample.image = Normalizer(instantiate(cfg.data.normalization))(sample.image)
    aug = Augmentation(**cfg.data.augmentation) if cfg.data.augmentation else None
    dataset = RandomPatchDataset(PatchSampler([sample], patch, 0.5), 4 * batch, aug)
    t0 = now()
    for i in range(2 * batch):
        dataset[i]
    return (now() - t0) / 2


def make_plan(
    folder: str | Path,
    budget: str | float = "30min",
    device: str = "auto",
    memory_gb: float | None = None,
    spacing_um: Sequence[float] | None = None,
    has_budget_key: bool | None = None,
    progress: bool = True,
    clock: str = "wall",
) -> Plan:
    """Fingerprint ``folder`` and plan a training run for ``device`` within ``budget``.

    ``clock="cpu"`` counts the budget in process CPU seconds (steps timed in CPU time): on a
    machine shared with other work, wall time says more about the others than about the run.

    Raises:
        ConfigError: the budget or the memory cannot fit even the smallest plan (one line).
        SeglightError: an unreadable curated folder (naming the file).
    """
    import torch

    budget_s = parse_duration(budget)
    if clock not in ("wall", "cpu"):
        raise ConfigError(f"clock={clock}: use wall or cpu")
    now = time.process_time if clock == "cpu" else time.perf_counter
    t_read = now()
    fp = fingerprint(folder, spacing_um, progress=progress)
    t_read = now() - t_read
    device = resolve_accelerator(device)
    if device == "mps":
        device = "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA GPU is visible; use device=cpu or auto")
    memory, source = device_memory(device, memory_gb)
    floor = (RUNTIME_BYTES + fp.total_voxels * DATA_BYTES_PER_VOXEL) if device == "cpu" else 0
    if memory <= floor:  # before any step is timed
        raise ConfigError(
            f"memory: {memory / 1e9:.2f} GB ({source}) does not hold even the runtime and the "
            f"curated images ({floor / 1e9:.2f} GB); give more memory_gb= or fewer images")
    request = Request(budget_s, device, memory, source, torch.get_num_threads())
    precision = select_precision("auto", device)
    flags = cpu_bf16_flags() if device == "cpu" else torch.cuda.get_device_name()
    decisions: list[Decision] = [
        Decision("data", "curated", "a folder of curated triplets, nothing dataset-specific"),
        Decision("data.path", str(Path(folder).resolve()), "the folder planned from"),
        Decision("trainer", "gpu" if device == "cuda" else "cpu", f"planned for the {device}"),
    ]
    topo, target, geometry = rules.decide_geometry(fp)
    decisions += geometry
    decisions += rules.decide_normalization(fp)
    decisions.append(rules.decide_sampling(fp))
    n_heads = 3 if topo.model.startswith("unet_xy") else rules.dynunet_heads(topo)
    decisions += rules.decide_loss(fp, n_heads)
    decisions.append(Decision("trainer.precision", precision,
                              f"{'bf16' if 'bf16' in precision else 'float32'}: {flags}"))

    def config_at(width: int, batch: int, patch: Sequence[int]) -> DictConfig:
        rows = decisions + [Decision("data.batch_size", batch, ""),
                            Decision("data.patch_zyx", list(patch), "")]
        rows += ([Decision("model.net.width", width, "")] if topo.model.startswith("unet_xy")
                 else rules.dynunet_overrides(topo, width))
        return compose_train(_overrides(rows) + ["data.demo=null"])

    # The cost model: two real steps at two widths on a small valid patch.
    probe_patch = rules.valid_patch(topo, [min(16, fp.min_shape[0]), 64, 64], fp.min_shape)
    log.info("timing training steps on the %s (%d threads)...", device, request.threads)
    probes = [measure_step(config_at(w, 1, probe_patch), 1, probe_patch, precision, device)
              for w in PROBE_WIDTHS]
    cost = CostModel(probes, device, PROBE_WIDTHS, clock)
    val_fraction = 0.2 if fp.n_images >= rules.MIN_VAL_IMAGES else 0.0
    n_val = max(1, round(val_fraction * fp.n_images)) if val_fraction else 0
    n_val_images = n_val or fp.n_images  # too few to spare one: patches of the training images
    val_per_image = max(1, min(8, 32 // n_val_images))
    read_s = t_read * fp.n_images / min(fp.n_images, MAX_SHAPE_IMAGES)  # an upper bound

    def overhead(step_s: float, batch: int) -> float:
        val = rules.VALIDATIONS * n_val_images * val_per_image * step_s / (3 * batch)
        return STARTUP_S + read_s + val

    probe_s = cost(4, 2, probe_patch)[0]
    width, batch, patch, size_rows = rules.decide_size(fp, topo, target, request, cost,
                                                       overhead(probe_s, 2))
    # The chosen configuration, timed for real (and its memory counted), sets the steps.
    cfg = config_at(width, batch, patch)
    measured = measure_step(cfg, batch, patch, precision, device)
    model = MemoryModel.from_measure(measured, device)
    need = model.bytes(batch, patch)
    room = memory - (fp.total_voxels * DATA_BYTES_PER_VOXEL if device == "cpu" else 0)
    while need > room and batch > 1:  # the cost model was optimistic: the measure decides
        batch -= 1
        need = model.bytes(batch, patch)
        size_rows[-1] = Decision("data.batch_size", batch,
                                 f"{need / 1e9:.2f} GB measured of {room / 1e9:.2f} GB free "
                                 f"({source}); shrunk to fit")
    if need > room:
        raise ConfigError(
            f"memory: the planned step needs {need / 1e9:.2f} GB but {room / 1e9:.2f} GB is "
            f"free ({source}); give more memory (memory_gb=) or another device")
    data_s = _data_seconds(cfg, fp, batch, patch, now) if device == "cpu" else 0.0
    compute_s = measured.cpu_s if clock == "cpu" else measured.wall_s
    step_s = compute_s * (batch / measured.batch_size) + data_s
    steps = rules._steps(budget_s, step_s, overhead(step_s, batch))
    if steps < 20:
        raise ConfigError(
            f"budget={budget}: only {steps} steps of {step_s:.2f} s fit (the smallest plan); "
            f"give at least budget="
            f"{math.ceil(rules.MIN_STEPS * step_s / 60 / rules.STEP_SHARE)}min")
    decisions += size_rows
    if not topo.model.startswith("unet_xy"):
        decisions += rules.dynunet_overrides(topo, width)
    decisions += rules.decide_augmentation(fp, patch)
    if has_budget_key is None:
        has_budget_key = "budget" in compose_train([])
    per_epoch = max(1, math.ceil(steps / rules.VALIDATIONS))
    unit = "CPU s" if clock == "cpu" else "s"
    lr = 3e-3 if width <= 8 else 1e-3
    warmup = max(5, round(0.1 * steps))
    decisions += [
        Decision("trainer.max_steps", -1 if has_budget_key else steps,
                 (f"budget= ends the run on time: about {steps} steps, " if has_budget_key
                  else "") +
                 f"{budget} x {rules.STEP_SHARE:.0%} / {step_s:.2f} {unit} per step (measured: "
                 f"{compute_s:.2f} s compute + {data_s:.2f} s patches), less start-up "
                 "and validation" + ("" if steps >= rules.MIN_STEPS else
                                     f"; WARNING: under {rules.MIN_STEPS} steps, a short run")),
        Decision("trainer.max_epochs", -1,
                 "the budget ends the run" if has_budget_key else "the step count ends the run"),
        Decision("data.samples_per_epoch", per_epoch * batch,
                 f"{per_epoch} steps per epoch: {rules.VALIDATIONS} validations over the run "
                 "(best.ckpt is the best)"),
        Decision("data.val_fraction", val_fraction,
                 f"{n_val} of {fp.n_images} images held out for validation" if n_val else
                 f"only {fp.n_images} image(s), under {rules.MIN_VAL_IMAGES}: all train (one held "
                 "out would take a large share of the data)"),
        Decision("data.val_on_train", not n_val,
                 "validation patches from the training images: val/dice shows the fit to the "
                 "labels, not generalization" if not n_val else "validation on held-out images"),
        Decision("data.val_patches_per_image", val_per_image,
                 f"{n_val_images * val_per_image} fixed validation patches in all"),
        Decision("data.num_workers", 0 if device == "cpu" else min(4, _cpus() - 1),
                 "patches drawn in the training process (CPU cores do the training)"
                 if device == "cpu" else "patches drawn beside the GPU"),
        Decision("model.optimizer._target_", "torch.optim.AdamW", "Adam with decoupled decay"),
        Decision("model.optimizer.lr", lr,
                 "3e-3 for a narrow network" if width <= 8 else "1e-3 for a wide network"),
        Decision("model.optimizer.weight_decay", 1e-4, "light decay"),
        Decision("model.scheduler", {"_target_": "seglight.training.schedules.warmup_cosine",
                                     "_partial_": True,
                                     "warmup_steps": warmup},
                 "10 % warm-up, then cosine to 0 at the last planned step"),
        Decision("model.scheduler_interval", "step", "the schedule spans the run's steps"),
        rules.decide_weight_average(steps, warmup),
    ]
    if has_budget_key:  # budget= ends training on time, on the clock planned for
        decisions.append(Decision("budget", budget if isinstance(budget, str) else
                                  f"{int(budget_s)}s", "training ends on time, the steps and the "
                                  "schedule fitted to the rate measured as it runs"))
        decisions.append(Decision("budget_clock", clock,
                                  "this process's CPU seconds (a shared machine)"
                                  if clock == "cpu" else "time on the clock"))
    decisions.append(Decision("steps (estimate)", steps, "the optimizer steps the budget buys "
                              "at the measured rate", applied=False))
    decisions.append(Decision(
        "memory (GB)", round(need / 1e9, 2),
        f"predicted peak of training: {model.bytes_per_voxel:.0f} B per batch voxel measured "
        f"(activations x{ACTIVATION_HEADROOM:g}) + parameters, optimizer state"
        + (", runtime and the images in RAM" if device == "cpu" else ""), applied=False))
    return Plan(decisions, fp, request, measured, notes=list(fp.notes) + [
        f"probe steps: width {w}: {m.wall_s:.3f} s, {m.activation_bytes / m.voxels:.0f} B/voxel"
        for w, m in zip(PROBE_WIDTHS, probes, strict=True)])


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def overrides(plan: Plan) -> list[str]:
    """The Hydra overrides the plan applies (group choices first)."""
    return _overrides(plan.decisions)


__all__ = ["CostModel", "compose_train", "make_plan", "overrides", "parse_duration"]
