"""Training speed of unet_xy against the reference, and time to accuracy of two recipes.

    python scripts/bench_train.py                       # CPU, patch [36, 124, 124]
    python scripts/bench_train.py --device cuda --patch 50 156 156 --batch 4
    python scripts/bench_train.py --to-dice             # recipes: Dice vs time (PNG)
    python scripts/bench_train.py --to-dice --device cuda --budget-s 1800
    python scripts/bench_train.py --sizes               # model=unet_s, unet_m, unet_l

Each network runs in its own process (so peak memory is its own): a warm-up step, then
``--steps`` timed steps of forward, costmap-weighted loss over all heads, backward and Adam.
Speed is reported as *supervised voxels per second*: output voxels (the voxels a step
learns from) per second. The padded variant gets the nearest valid input to the same patch.
When ``aicsmlsegment`` is importable, its UNet3D (the Segmenter's published network) runs at
the same patch and every ratio is against it, measured in the same run. seglight's networks
train in the precision that ``trainer.precision=auto`` selects (printed; ``--precision``
overrides it), with ``--channels-last`` in the channels_last_3d layout and, with
``--compile``, through ``torch.compile`` (Inductor; the compilation is timed apart, in the
warm-up step).

``--sizes`` times the named model sizes (``conf/model/unet_{s,m,l}.yaml``) the same way, at
the demo's patch and batch ([16, 64, 64] x 4 unless ``--patch``/``--batch`` say otherwise), and
adds their parameters and inference speed (one eval-mode forward of an ``--infer`` window,
input voxels per second); ratios are against ``unet_s``, measured in the same run.

``--to-dice`` trains the Segmenter's published recipe (``experiment=segmenter_recipe``) and
seglight's default recipe, the same small network (unet_xy, width 8, padded) for both, on the
benchmark of :mod:`seglight.data.benchmark` (training pool with its true masks), each for the
same budget of *process CPU seconds* (all threads; the machine may be shared, which inflates
wall time, so wall seconds are reported beside them). Held-out Dice (true masks, whole
images) is measured ``--evals`` times on the way (dense early), outside the clock. It prints
the time each recipe needs to reach the Segmenter recipe's final Dice and writes the curves
to ``to_dice.png``. On a GPU (``--device cuda``) the budget and times are wall seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch


def _reference_step(net, x, out_shape):
    """One step of the reference network with a weighted NLL over its three heads."""
    heads = net(x)  # softmax probabilities, flattened to (voxels, classes) per head
    loss = 0.0
    for probs in heads:
        target = torch.randint(0, 2, (probs.shape[0],))
        weight = torch.ones(probs.shape[0])
        picked = probs.gather(1, target[:, None]).squeeze(1).clamp_min(1e-6).log()
        loss = loss - (weight * picked).mean()
    return loss


def run_one(name: str, patch: list[int], batch: int, steps: int, device: str, width: int,
            precision: str = "auto", channels_last: bool = False,
            compile_net: bool = False, infer_shape: list[int] | None = None) -> dict:
    from seglight.networks import UNetXY
    from seglight.training.losses import MultiHeadLoss

    torch.manual_seed(0)
    loss_weights = [1.0, 0.5, 0.5]
    if name in SIZES:
        from hydra.utils import instantiate

        model = _model_config(name)
        net = instantiate(model.net)
        loss_weights = list(model.loss.head_weights)
        in_shape = list(net.valid_input_shape(patch))
        out_shape = net.output_shape(in_shape)
    elif name == "reference":
        from aicsmlsegment.Net3D.unet_xy import UNet3D

        net = UNet3D(1, [2, 2, 2])
        in_shape = patch
        out_shape = UNetXY(width=width).output_shape(patch)
    else:
        net = UNetXY(width=width, padded=name == "unet_xy_padded")
        in_shape = list(net.valid_input_shape(patch))
        out_shape = net.output_shape(in_shape)
    from seglight.training.precision import autocast_dtype, select_precision

    precision = "32-true" if name == "reference" else select_precision(precision, device)
    dtype = autocast_dtype(precision)
    layout = torch.channels_last_3d if channels_last and name != "reference" \
        else torch.contiguous_format
    net = net.to(device, memory_format=layout).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    compiled = compile_net and name != "reference"
    forward = torch.compile(net) if compiled else net
    scaler = torch.amp.GradScaler(device, enabled=dtype == torch.float16)
    loss_fn = MultiHeadLoss("ce", loss_weights)
    x = torch.rand(batch, 1, *in_shape, device=device).contiguous(memory_format=layout)
    target = torch.randint(0, 2, (batch, *in_shape), device=device)
    costmap = torch.ones(batch, *in_shape, device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        if name == "reference":
            loss = _reference_step(net, x, out_shape)
        else:
            with torch.autocast(device, dtype=dtype or torch.float32, enabled=dtype is not None):
                heads = forward(x)
            loss = loss_fn(heads, target, costmap)  # float32 whatever the precision
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    warm_start = time.perf_counter()
    step()  # warm-up (allocator, cuDNN autotune, torch.compile's compilation)
    warm_up_s = time.perf_counter() - warm_start
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    cpu_seconds = (time.process_time() - cpu_start) / steps
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    voxels = batch * out_shape[0] * out_shape[1] * out_shape[2]
    extra = _inference_speed(net, infer_shape, device, dtype) if name in SIZES else {}
    kernels = f"oneDNN {torch.backends.mkldnn.is_available()}, " \
        f"{torch.backends.cpu.get_cpu_capability()}" if device == "cpu" else \
        f"cuDNN {torch.backends.cudnn.version()}"
    return {"name": name, "input": in_shape, "output": list(out_shape), "s_per_step": seconds,
            "cpu_s_per_step": cpu_seconds, "voxels_per_s": voxels / seconds,
            "voxels_per_cpu_s": voxels / cpu_seconds, "peak_mb": peak_mb,
            "precision": precision, "layout": ("channels_last_3d" if layout is not
            torch.contiguous_format else "contiguous") + (" compiled" if compiled else ""),
            "kernels": kernels, "warm_up_s": warm_up_s, **extra}


#: The named model sizes a user picks with model=... (conf/model/unet_s.yaml, ...).
SIZES = ["unet_s", "unet_m", "unet_l"]


def _model_config(name: str):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    import seglight.config  # noqa: F401  (resolvers)
    from seglight import CONF_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=[f"model={name}"]).model


def _inference_speed(net, shape: list[int], device: str, dtype) -> dict:
    """Parameters and one eval-mode forward of a ``shape`` window (input voxels per second)."""
    shape = list(net.valid_input_shape(shape))
    net.eval()
    x = torch.rand(1, 1, *shape, device=device)
    start, cpu_start = time.perf_counter(), time.process_time()
    with torch.no_grad(), torch.autocast(device, dtype=dtype or torch.float32,
                                         enabled=dtype is not None):
        net.predict_logits(x)
    if device == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    voxels = shape[0] * shape[1] * shape[2]
    return {"params": sum(p.numel() for p in net.parameters()), "infer_window": shape,
            "infer_voxels_per_s": voxels / wall, "infer_voxels_per_cpu_s": voxels / cpu}


# -- time to accuracy (--to-dice) --------------------------------------------------------------

#: The recipes compared: Hydra overrides on top of seglight's defaults (``seglight``).
#: ``nnunet`` is the AdamW / warm-up + poly / Dice+CE recipe, ``seglight_sgd`` the same with
#: nnU-Net's SGD-Nesterov.
RECIPES = {
    "segmenter": ["experiment=segmenter_recipe"],
    "seglight": [],
    "nnunet": ["experiment=nnunet_recipe"],
    "seglight_sgd": ["experiment=nnunet_recipe", "model.optimizer._target_=torch.optim.SGD",
                     "model.optimizer.lr=0.01", "+model.optimizer.momentum=0.99",
                     "+model.optimizer.nesterov=true", "model.optimizer.weight_decay=3.0e-5"],
}
#: The network both recipes train at CPU scale (the demo's unet_xy_tiny: width 8, padded).
NETWORK = ["model.net.width=8", "model.net.padded=true", "model.net.norm=instance"]


def _benchmark_data(folder, n_pool: int, n_heldout: int):
    """Curated triplets of the benchmark's training pool (true masks, costmap 1) and the
    held-out images with their true masks, generated once into ``folder``."""
    from pathlib import Path

    import numpy as np

    from seglight.data.benchmark import HELDOUT_OFFSET, make_benchmark_image
    from seglight.data.demo import DEMO_SPACING_UM
    from seglight.io import write_triplet

    curated = Path(folder) / "curated"
    if len(list(curated.glob("*_GT.ome.tif"))) < n_pool:
        for i in range(n_pool):
            sample = make_benchmark_image(i)
            write_triplet(curated, f"pool_{i:03d}", sample.image, sample.truth,
                          np.ones(sample.image.shape, np.float32), DEMO_SPACING_UM)
    cache = Path(folder) / f"heldout_{n_heldout}.npz"
    if not cache.exists():
        images = [make_benchmark_image(HELDOUT_OFFSET + i) for i in range(n_heldout)]
        np.savez(cache, image=np.stack([h.image for h in images]),
                 truth=np.stack([h.truth for h in images]))
    with np.load(cache) as stored:
        return curated, list(zip(stored["image"], stored["truth"], strict=True))


class _DiceClock:
    """A Lightning callback: held-out Dice at ``n_evals`` points of training CPU time, spaced
    quadratically (dense early, where the curves move fastest), and at the end.

    The clock is this process's CPU time (all threads) spent in training (data loading,
    forward, backward, optimizer); the evaluations themselves are not counted. Wall time is
    recorded beside it. Training stops when the CPU budget is spent.
    """

    def __init__(self, heldout, normalizer, budget_s: float, n_evals: int = 24,
                 clock: str = "cpu_s", label: str = "", on_eval=None):
        import lightning as L

        class _Callback(L.Callback):
            pass

        self.heldout, self.normalizer = heldout, normalizer
        self.budget_s, self.clock, self.label, self.on_eval = budget_s, clock, label, on_eval
        self.schedule = [budget_s * (k / n_evals) ** 2 for k in range(1, n_evals)]
        self.curve: list[dict] = []
        clock = self

        def on_train_start(cb, trainer, module):
            clock.cpu0, clock.wall0, clock.paused_cpu, clock.paused_wall = (
                time.process_time(), time.perf_counter(), 0.0, 0.0)
            clock.next_eval = 0.0
            clock.evaluate(trainer, module, step=0)

        def on_train_batch_end(cb, trainer, module, outputs, batch, batch_idx):
            cpu_s, wall_s = clock.elapsed()
            cpu = cpu_s if clock.clock == "cpu_s" else wall_s
            if cpu >= clock.budget_s:
                clock.evaluate(trainer, module, step=trainer.global_step)
                trainer.should_stop = True
            elif cpu >= clock.next_eval:
                clock.evaluate(trainer, module, step=trainer.global_step)

        def on_train_end(cb, trainer, module):  # max_steps may end it before the budget
            if clock.curve[-1]["step"] != trainer.global_step:
                clock.evaluate(trainer, module, step=trainer.global_step)

        _Callback.on_train_start = on_train_start
        _Callback.on_train_end = on_train_end
        _Callback.on_train_batch_end = on_train_batch_end
        self.callback = _Callback()

    def elapsed(self) -> tuple[float, float]:
        return (time.process_time() - self.cpu0 - self.paused_cpu,
                time.perf_counter() - self.wall0 - self.paused_wall)

    def evaluate(self, trainer, module, step: int) -> None:
        from seglight.training.metrics import MaskedDiceIoU

        cpu, wall = self.elapsed()
        if module.device.type == "cuda":
            torch.cuda.synchronize()
        c0, w0 = time.process_time(), time.perf_counter()
        metric = MaskedDiceIoU()
        module.eval()
        with torch.no_grad(), trainer.precision_plugin.forward_context():
            for image, truth in self.heldout:
                x = torch.from_numpy(self.normalizer(image).astype("float32"))[None, None]
                prob = module.predict_proba_tensor(x.to(module.device)).cpu()
                truth_t = torch.from_numpy(truth)[None]
                metric.update(prob > module.hparams.threshold, truth_t, torch.ones_like(prob))
        module.train()
        dice = float(metric.compute()["dice"])
        self.curve.append({"step": int(step), "cpu_s": cpu, "wall_s": wall, "dice": dice})
        print(f"  {self.label:<13} step {step:>5}  cpu {cpu:7.1f} s  wall {wall:7.1f} s  "
              f"dice {dice:.3f}", file=sys.stderr, flush=True)
        if self.on_eval:
            self.on_eval(self.curve)
        self.paused_cpu += time.process_time() - c0
        self.paused_wall += time.perf_counter() - w0
        now = cpu if self.clock == "cpu_s" else wall
        while self.schedule and self.schedule[0] <= now:
            self.schedule.pop(0)
        self.next_eval = self.schedule[0] if self.schedule else float("inf")



def _compose(recipe: str, curated, out, device: str, patch: list[int], extra: list[str]):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    import seglight.config  # noqa: F401  (resolvers)
    from seglight import CONF_DIR

    overrides = [*RECIPES[recipe], *NETWORK, "data=demo", f"data.path={curated}", "data.demo=null",
                 "data.val_fraction=0", f"data.patch_zyx=[{','.join(map(str, patch))}]",
                 "data.num_workers=0",
                 f"trainer.accelerator={'gpu' if device == 'cuda' else device}",
                 "trainer.max_epochs=-1", "+trainer.enable_progress_bar=false",
                 "trainer.enable_model_summary=false", "+trainer.limit_val_batches=0",
                 f"paths.output_dir={out}", *extra]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    with open_dict(cfg):
        cfg.data.samples_per_epoch = max(int(cfg.data.samples_per_epoch), 64 * cfg.data.batch_size)
    return cfg


def _fit(cfg, callbacks, max_steps: int):
    import lightning as L
    from hydra.utils import instantiate
    from omegaconf import OmegaConf, open_dict

    from seglight.training.precision import select_precision

    with open_dict(cfg):
        cfg.trainer.max_steps = max_steps
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    data = instantiate(cfg.data)
    model = instantiate(cfg.model,
                        normalization=OmegaConf.to_container(cfg.data.normalization, resolve=True),
                        patch_zyx=list(cfg.data.patch_zyx))
    precision = select_precision(cfg.trainer.precision, cfg.trainer.accelerator)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=False, precision=precision,
                          enable_checkpointing=False)
    trainer.fit(model, datamodule=data)
    return data, precision


def run_recipe(recipe: str, folder: str, device: str, budget_s: float, patch: list[int],
               n_pool: int, n_heldout: int, extra: list[str], n_evals: int = 24) -> dict:
    """Train one recipe for ``budget_s`` CPU seconds, evaluating held-out Dice on the way."""
    from pathlib import Path

    import lightning as L

    from seglight.training.precision import select_precision

    curated, heldout = _benchmark_data(folder, n_pool, n_heldout)
    cfg = _compose(recipe, curated, f"{folder}/{recipe}", device, patch, extra)

    class _Rate(L.Callback):  # CPU seconds per step, from a short probe run
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            now = time.process_time() if device == "cpu" else time.perf_counter()
            if batch_idx == 1:
                self.t0 = now
            self.t1, self.n = now, batch_idx - 1

    rate = _Rate()
    _fit(cfg.copy(), [rate], max_steps=6)
    per_step = (rate.t1 - rate.t0) / rate.n
    # The schedule spans the budget: as many steps as the budget buys at the probed rate.
    max_steps = max(10, int(budget_s / per_step))
    from omegaconf import OmegaConf

    from seglight.normalization import Normalizer

    normalizer = Normalizer(OmegaConf.to_container(cfg.data.normalization, resolve=True))
    precision = select_precision(cfg.trainer.precision, cfg.trainer.accelerator)
    result = {"recipe": recipe, "precision": precision, "probe_cpu_s_per_step": per_step,
            "max_steps": max_steps, "batch_size": int(cfg.data.batch_size),
            "optimizer": OmegaConf.to_container(cfg.model.optimizer),
            "scheduler": (OmegaConf.to_container(cfg.model.scheduler)
                          if cfg.model.scheduler else None),
            "loss": OmegaConf.to_container(cfg.model.loss),
            "foreground_fraction": float(cfg.data.foreground_fraction), "curve": []}
    path = Path(folder) / f"{recipe}.json"

    def save(curve):  # after every evaluation, so a run cut short still leaves its curve
        path.write_text(json.dumps({**result, "curve": curve}))

    clock = _DiceClock(heldout, normalizer, budget_s, n_evals, clock=_clock_key(device),
                       label=recipe, on_eval=save)
    _fit(cfg, [clock.callback], max_steps=max_steps)
    return {**result, "curve": clock.curve}


def _clock_key(device: str) -> str:
    """The budget's clock: process CPU time on a CPU; wall time on a GPU (whose work is not
    CPU time of the process)."""
    return "cpu_s" if device == "cpu" else "wall_s"


def _first_reaching(curve: list[dict], target: float, key: str) -> float | None:
    return next((p[key] for p in curve if p["dice"] >= target), None)


def _plot(results: dict, target: float, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    threads = torch.get_num_threads()
    for ax, key, label in zip(axes, ("cpu_s", "wall_s"),
                              (f"training time, process CPU seconds ({threads} threads)",
                               "training time, wall seconds (shared machine)"), strict=True):
        for name, r in results.items():
            ax.plot([p[key] for p in r["curve"]], [p["dice"] for p in r["curve"]],
                    marker=".", label=f"{name} recipe")
        ax.axhline(target, color="grey", ls="--", lw=1, label="segmenter recipe's final Dice")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out Dice (benchmark, true masks)")
    axes[0].legend(loc="lower right")
    fig.suptitle("Validation Dice vs training time, same network (unet_xy width 8, padded)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def to_dice(args) -> None:
    from pathlib import Path

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _benchmark_data(out, args.n_pool, args.n_heldout)  # generate once, before any clock runs
    clock = _clock_key(args.device)
    unit = "process CPU s" if clock == "cpu_s" else "wall s"
    print(f"time to accuracy: device {args.device}, budget {args.budget_s:.0f} {unit} per recipe, "
          f"patch {args.patch}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"benchmark pool {args.n_pool} images, held-out {args.n_heldout}; recipes "
          f"{', '.join(args.recipes)}{' (run concurrently)' if args.concurrent else ''}")
    procs = {}
    for recipe in args.recipes:
        cmd = [sys.executable, __file__, "--one-recipe", recipe, "--out", str(out),
               "--device", args.device, "--budget-s", str(args.budget_s),
               "--patch", *map(str, args.patch), "--n-pool", str(args.n_pool),
               "--n-heldout", str(args.n_heldout), "--evals", str(args.evals),
               *[f"--override={o}" for o in args.override]]
        (out / f"{recipe}.json").unlink(missing_ok=True)
        procs[recipe] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        if not args.concurrent:
            procs[recipe].wait()
    for recipe, proc in procs.items():
        proc.wait()
        if proc.returncode:
            print(f"{recipe} recipe: training failed (see the messages above)")
    report(out, args.recipes, clock)


def report(out, recipes, clock: str = "cpu_s") -> None:
    """The table, ratio lines and curves from the ``<recipe>.json`` files in ``out`` (written
    as training goes, so ``--report-only`` also summarises runs cut short)."""
    unit = "process CPU s" if clock == "cpu_s" else "wall s"
    results = {r: json.loads((out / f"{r}.json").read_text()) for r in recipes
               if (out / f"{r}.json").exists()}
    if "segmenter" not in results:
        sys.exit(f"no segmenter recipe results in {out}")
    (out / "to_dice.json").write_text(json.dumps(results, indent=1))
    target = results["segmenter"]["curve"][-1]["dice"]
    print(f"\nsegmenter recipe's final held-out Dice: {target:.3f}")
    print(f"{'recipe':<14}{'optimizer':<11}{'precision':<11}{'batch':>6}{'steps':>7}"
          f"{'final Dice':>11}{'best Dice':>10}{'to target, CPU s':>18}{'wall s':>9}")
    reach = {}
    for name, r in results.items():
        curve = [p for p in r["curve"] if p["step"] > 0]  # the untrained network does not count
        cpu = _first_reaching(curve, target, "cpu_s")
        wall = _first_reaching(curve, target, "wall_s")
        reach[name] = cpu if clock == "cpu_s" else wall
        print(f"{name:<14}{r['optimizer']['_target_'].rsplit('.', 1)[-1]:<11}{r['precision']:<11}"
              f"{r['batch_size']:>6}{r['curve'][-1]['step']:>7}{r['curve'][-1]['dice']:>11.3f}"
              f"{max(p['dice'] for p in r['curve']):>10.3f}"
              f"{cpu if cpu is not None else float('nan'):>18.1f}"
              f"{wall if wall is not None else float('nan'):>9.1f}")
    png = out / "to_dice.png"
    _plot(results, target, png)
    for name in results:
        if name == "segmenter":
            continue
        if reach[name] is not None and reach["segmenter"]:
            print(f"time to the segmenter recipe's final Dice, {name} / segmenter: "
                  f"{reach[name] / reach['segmenter']:.3f} (target <= 0.20; {unit})")
        else:
            print(f"{name} did not reach the segmenter recipe's final Dice within the budget")
    print(f"curves: {png}  (data: {out / 'to_dice.json'})")


def _one_process(name: str, args) -> dict | None:
    """``run_one`` in a fresh process, so that its peak memory is its own."""
    cmd = [sys.executable, __file__, "--one", name, "--patch", *map(str, args.patch),
           "--batch", str(args.batch), "--steps", str(args.steps), "--device", args.device,
           "--width", str(args.width), "--precision", args.precision,
           "--infer", *map(str, args.infer),
           *(["--channels-last"] if args.channels_last else []),
           *(["--compile"] if args.compile else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        print(f"{name}: failed\n{out.stderr.strip().splitlines()[-1]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu_flags() -> str:
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags) \
        or "no AVX2"


def sizes(args) -> None:
    """The table of model=unet_s, unet_m, unet_l, with ratios against unet_s."""
    print(f"model sizes: device {args.device} (CPU flags {_cpu_flags()}), batch {args.batch}, "
          f"patch {args.patch}, {args.steps} timed steps, inference window {args.infer}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    results = [r for r in (_one_process(name, args) for name in SIZES) if r]
    if not results:
        sys.exit("no size could be timed")
    base = results[0]
    print(f"\n{'model':<8}{'params':>8}{'input zyx':>15}{'precision':>11}{'CPU s/step':>11}"
          f"{'s/step':>8}{'peak RSS MB':>12}{'infer vox/CPU s':>16}{'infer vox/s':>12}"
          f"{'step CPU x':>11}{'memory x':>9}")
    for r in results:
        print(f"{r['name']:<8}{r['params'] / 1e6:>7.1f}M{str(r['input']):>15}{r['precision']:>11}"
              f"{r['cpu_s_per_step']:>11.2f}{r['s_per_step']:>8.2f}{r['peak_mb']:>12.0f}"
              f"{r['infer_voxels_per_cpu_s']:>16.0f}{r['infer_voxels_per_s']:>12.0f}"
              f"{r['cpu_s_per_step'] / base['cpu_s_per_step']:>11.2f}"
              f"{r['peak_mb'] / base['peak_mb']:>9.2f}")
    print(f"kernels: {results[-1]['kernels']}; ratios against {base['name']}, this run; peak "
          "RSS is the process's (the interpreter and torch included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patch", type=int, nargs=3,
                        help="input patch z y x (default: 36 124 124; --to-dice: 16 64 64)")
    parser.add_argument("--batch", type=int, default=None,
                        help="patches per step (default 1; --sizes: 4)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per network")
    parser.add_argument("--width", type=int, default=32, help="unet_xy first-level channels")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="auto",
                        help="seglight networks: auto (as trainer.precision=auto), 32-true, "
                             "bf16-mixed or 16-mixed")
    parser.add_argument("--channels-last", action="store_true",
                        help="seglight networks in the channels_last_3d layout")
    parser.add_argument("--compile", action="store_true",
                        help="seglight networks through torch.compile (warm-up step compiles)")
    parser.add_argument("--sizes", action="store_true",
                        help="time model=unet_s, unet_m, unet_l (training step, memory, "
                             "inference), default patch 16 64 64, batch 4")
    parser.add_argument("--infer", type=int, nargs=3, default=[32, 128, 128],
                        help="--sizes: inference window z y x (default 32 128 128)")
    parser.add_argument("--to-dice", action="store_true",
                        help="time to accuracy of the segmenter and seglight recipes")
    parser.add_argument("--budget-s", type=float, default=600,
                        help="--to-dice: training seconds per recipe, process CPU time on a "
                             "CPU, wall time on a GPU (default 600)")
    parser.add_argument("--out", default="runs/bench_train",
                        help="--to-dice: folder for data, curves and results")
    parser.add_argument("--n-pool", type=int, default=12, help=argparse.SUPPRESS)
    parser.add_argument("--n-heldout", type=int, default=6,
                        help="--to-dice: held-out benchmark images scored (default 6)")
    parser.add_argument("--evals", type=int, default=24,
                        help="--to-dice: held-out evaluations per recipe (default 24)")
    parser.add_argument("--recipes", nargs="+", default=["segmenter", "seglight"],
                        choices=list(RECIPES), help="--to-dice: recipes to train")
    parser.add_argument("--concurrent", action="store_true",
                        help="--to-dice: train the recipes at the same time (CPU clock only)")
    parser.add_argument("--override", action="append", default=[],
                        help="--to-dice: a Hydra override for both recipes (repeatable)")
    parser.add_argument("--report-only", action="store_true",
                        help="--to-dice: summarise the results already in --out")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--one-recipe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_recipe:
        result = run_recipe(args.one_recipe, args.out, args.device, args.budget_s,
                            args.patch or [16, 64, 64], args.n_pool, args.n_heldout,
                            args.override, args.evals)
        print(json.dumps(result))
        return
    if args.to_dice:
        if args.concurrent and args.device != "cpu":
            parser.error("--concurrent needs --device cpu (on a GPU the clock is wall time)")
        args.patch = args.patch or [16, 64, 64]
        if args.report_only:
            from pathlib import Path

            report(Path(args.out), args.recipes, _clock_key(args.device))
        else:
            to_dice(args)
        return
    if args.sizes:
        args.patch = args.patch or [16, 64, 64]
        args.batch = 4 if args.batch is None else args.batch
    args.patch = args.patch or [36, 124, 124]
    args.batch = 1 if args.batch is None else args.batch
    if args.one:
        print(json.dumps(run_one(args.one, args.patch, args.batch, args.steps, args.device,
                                 args.width, args.precision, args.channels_last,
                                 args.compile, args.infer)))
        return
    if args.sizes:
        sizes(args)
        return

    names = ["unet_xy", "unet_xy_padded"]
    try:
        import aicsmlsegment.Net3D.unet_xy  # noqa: F401

        names.insert(0, "reference")
    except ImportError:
        print("aicsmlsegment is not importable: no reference timing (pip install --no-deps "
              "aicsmlsegment==0.0.7)")
    print(f"device {args.device}, batch {args.batch}, requested patch {args.patch}, "
          f"{args.steps} timed steps, torch {torch.__version__}, {torch.get_num_threads()} threads")
    results = [r for r in (_one_process(name, args) for name in names) if r]
    base = results[0]
    print(f"\n{'network':<16}{'input zyx':<16}{'output zyx':<14}{'precision':<11}{'layout':<27}"
          f"{'s/step':>7}{'CPU s':>7}{'sup. vox/s':>11}{'per CPU s':>10}{'peak MB':>8}"
          f"{'speed ×':>8}{'CPU ×':>7}{'memory ×':>9}")
    for r in results:
        print(f"{r['name']:<16}{str(r['input']):<16}{str(r['output']):<14}{r['precision']:<11}"
              f"{r['layout']:<27}{r['s_per_step']:>7.2f}{r['cpu_s_per_step']:>7.2f}"
              f"{r['voxels_per_s']:>11.0f}{r['voxels_per_cpu_s']:>10.0f}{r['peak_mb']:>8.0f}"
              f"{r['voxels_per_s'] / base['voxels_per_s']:>8.2f}"
              f"{r['voxels_per_cpu_s'] / base['voxels_per_cpu_s']:>7.2f}"
              f"{r['peak_mb'] / base['peak_mb']:>9.2f}")
    print("warm-up step (s): " + ", ".join(f"{r['name']} {r['warm_up_s']:.1f}" for r in results))
    print(f"kernels: {results[-1]['kernels']}; ratios against {base['name']}, measured in this "
          "run (speed × from wall time, CPU × from process CPU time)")
    for r in results[1:]:
        if base["name"] == "reference":
            print(f"{r['name']} / reference supervised voxels per second: "
                  f"{r['voxels_per_s'] / base['voxels_per_s']:.2f}x wall, "
                  f"{r['voxels_per_cpu_s'] / base['voxels_per_cpu_s']:.2f}x CPU (target >= 3x)")


if __name__ == "__main__":
    main()
