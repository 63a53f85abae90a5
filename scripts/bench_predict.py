"""Benchmark seglight's sliding-window inference: output voxels per second and peak memory.

For each network (``unet_xy``, ``unet_xy_padded``, a MONAI network) it runs seglight's
default inference configuration on one synthetic image, each in a fresh process so that its
peak resident memory is its own. When ``aicsmlsegment`` (the Allen Cell ML Segmenter) is
importable, it also runs that package's UNet3D with that package's own tiling
(non-overlapping output-size tiles, 50×156×156 in, 22×68×68 out) on the same image, copies
its weights into seglight's ``unet_xy`` (the same architecture), and prints the speed ratio
and the Dice between the two masks; the same weights mean the masks differ only by tiling,
border padding (it pads z with zeros, seglight mirrors) and bfloat16.

Usage::

    python scripts/bench_predict.py                         # 64x512x512, CPU
    python scripts/bench_predict.py --shape 32 256 256 --device cuda
    python scripts/bench_predict.py --nets unet_xy --no-reference
    python scripts/bench_predict.py --ckpt runs/train/<time>/checkpoints/best.ckpt

A checkpoint path among ``--nets`` benchmarks that trained network (any architecture) on the
same synthetic image and prints its Dice against the ground truth.

With ``--ckpt`` (a trained ``unet_xy`` checkpoint of width 32) both sides run those trained
weights on a synthetic nuclear-envelope image with ground truth (the demo generator at the
bench size, normalized with the checkpoint's recipe) and each mask's Dice against the ground
truth is printed: the "equal or better Dice" check. Without it the networks are random
(masks of a random network say little; the probabilities are compared instead).

Numbers are only comparable within one run on one machine (the ratio is what to report).
The TFLOP column is the arithmetic of each tiling (counted with PyTorch's FLOP counter), so
the speed-up splits into *fewer operations* (larger windows waste less of the unpadded
network's halo) times *faster operations* (bfloat16, ``channels_last_3d``, folded batch
norms); the second factor is bounded by the CPU's peak, which TFLOP/s shows how near.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

NETS = ("unet_xy", "unet_xy_padded", "basic_unet")
REFERENCE_IN, REFERENCE_OUT = (50, 156, 156), (22, 68, 68)


def synthetic_image(shape_zyx, seed: int = 0) -> np.ndarray:
    """Normalized float32 image with bright blobs on a noisy background."""
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[: shape_zyx[0], : shape_zyx[1], : shape_zyx[2]]
    image = rng.normal(0.1, 0.03, shape_zyx).astype(np.float32)
    for _ in range(max(4, int(np.prod(shape_zyx) // 200_000))):
        c = [rng.uniform(0, s) for s in shape_zyx]
        r = rng.uniform(3, 12)
        image[((z - c[0]) / 0.4) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 < r**2] += 0.6
    return np.clip(image, 0, 1)


def bench_image(shape_zyx, ckpt: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The benchmark image (normalized float32) and its ground truth (None without --ckpt)."""
    if not ckpt:
        return synthetic_image(shape_zyx), None
    from seglight.data.demo import make_demo_image
    from seglight.normalization import Normalizer
    from seglight.predict.network import load_module

    image, truth, _ = make_demo_image(7, tuple(shape_zyx))
    recipe = load_module(ckpt).hparams.get("normalization") or ()
    return Normalizer(list(recipe))(image).astype(np.float32), truth


def _trained_net(ckpt: str):
    from seglight.networks import UNetXY
    from seglight.predict.network import load_module

    net = load_module(ckpt).net.eval()
    if not (isinstance(net, UNetXY) and not net.padded and net.zoom == 1
            and net.enc[0][0].out_channels == 32):
        sys.exit(f"--ckpt {ckpt}: a checkpoint of model=unet_xy (width 32, unpadded) is needed "
                 "to compare with the reference's UNet3D")
    return net


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _network(name: str):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(ROOT / "conf" / "model" / f"{name}.yaml")
    net_cfg = cfg.net
    if "defaults" in cfg and "unet_xy" in [str(d) for d in cfg.defaults]:
        base = OmegaConf.load(ROOT / "conf" / "model" / "unet_xy.yaml").net
        net_cfg = OmegaConf.merge(base, net_cfg)
    return instantiate(net_cfg).eval()


def _tflop(net, window, n_windows: int) -> float:
    """Floating-point operations of the whole tiling (counted on the meta device)."""
    import copy

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(net).to("meta").eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        meta(torch.empty(1, 1, *window, device="meta"))
    return counter.get_total_flops() * n_windows / 1e12


def run_seglight(name: str, shape, device: str, weights: str | None, proba_out: str | None,
                 memory_gib: float, ckpt: str | None = None) -> dict:
    import torch

    from seglight.predict.inference import SlidingWindowInferer

    torch.manual_seed(0)
    min_window = None
    if name.endswith(".ckpt"):  # any trained network, on the image its recipe normalizes
        from seglight.predict.network import load_module

        module = load_module(name)
        net, ckpt, min_window = module.net.eval(), name, module.hparams.get("patch_zyx")
        name = f"{type(getattr(net, 'net', net)).__name__} (trained)"
    else:
        net = _network(name)
        if ckpt and name == "unet_xy":
            net = _trained_net(ckpt)
        elif weights:
            net.load_state_dict(torch.load(weights))
    net.to(device)
    image, _ = bench_image(shape, ckpt)
    inferer = SlidingWindowInferer(net, memory_gib=memory_gib, min_window_zyx=min_window)
    plan = inferer.plan(shape)
    start = time.perf_counter()
    proba = inferer(image)
    seconds = time.perf_counter() - start
    if proba_out:
        np.save(proba_out, proba)
    return {
        "name": f"seglight {name}", "seconds": seconds, "voxels_per_s": image.size / seconds,
        "peak_gib": _peak_gib(), "window": list(plan.in_zyx), "windows": plan.n_windows,
        "dtype": str(inferer.compute_dtype).removeprefix("torch."),
        "tflop": _tflop(net, plan.in_zyx, plan.n_windows),
    }


#: seglight UNetXY blocks (two conv + batch norm each) and the reference UNet3D's, with the
#: up-sampled channels a decoder block's first convolution receives (concatenated in the
#: opposite order by the two); then the layers copied as they are.
_BLOCKS = [("enc.0", "ec1", None), ("enc.1", "ec2", None), ("enc.2", "ec3", None),
           ("bottleneck", "ec4", None), ("dec.0", "dc3", 512), ("dec.1", "dc2", 256),
           ("dec.2", "dc1", 128)]
_LINEAR = [("up.0", "up3"), ("up.1", "up2"), ("up.2", "up1"), ("head", "dc0")]


def _reference_to_seglight(ref) -> dict:
    """The reference UNet3D's weights as a seglight UNetXY state dict (same architecture).

    The reference convolutions have biases before a non-affine batch norm; seglight's have
    none before an affine one, so each bias is folded into the running mean.
    """
    import torch

    from seglight.networks import UNetXY

    ours = UNetXY(width=32, padded=False).eval()
    state = {k: v.clone() for k, v in ours.state_dict().items()}
    ref_state = ref.state_dict()

    def block(ours_prefix: str, ref_prefix: str, c_up: int | None):
        for conv, bn in ((0, 1), (3, 4)):
            weight = ref_state[f"{ref_prefix}.{conv}.weight"]
            if conv == 0 and c_up is not None:  # reference: cat(up, skip); seglight: cat(skip, up)
                weight = torch.cat([weight[:, c_up:], weight[:, :c_up]], dim=1)
            state[f"{ours_prefix}.{conv}.weight"] = weight
            ours_bn, ref_bn = f"{ours_prefix}.{bn}", f"{ref_prefix}.{bn}"
            state[f"{ours_bn}.running_mean"] = (
                ref_state[f"{ref_bn}.running_mean"] - ref_state[f"{ref_prefix}.{conv}.bias"]
            )
            state[f"{ours_bn}.running_var"] = ref_state[f"{ref_bn}.running_var"]
            state[f"{ours_bn}.weight"] = torch.ones_like(state[f"{ours_bn}.weight"])
            state[f"{ours_bn}.bias"] = torch.zeros_like(state[f"{ours_bn}.bias"])

    for ours_prefix, ref_prefix, c_up in _BLOCKS:
        block(ours_prefix, ref_prefix, c_up)
    for ours_prefix, ref_prefix in _LINEAR:
        for p in ("weight", "bias"):
            state[f"{ours_prefix}.{p}"] = ref_state[f"{ref_prefix}.{p}"]
    return state


def _seglight_to_reference(net, ref) -> dict:
    """A trained seglight UNetXY's weights as the reference UNet3D's state dict.

    Each seglight batch norm (affine) is folded into the convolution before it, whose weight
    and bias the reference then carries, and the reference's (non-affine) batch norm is made
    the identity: running mean 0, running variance 1 - eps. Auxiliary heads are not copied
    (inference uses the main head only).
    """
    import torch

    ours, ref_state = net.state_dict(), ref.state_dict()
    state = {k: v.clone() for k, v in ref_state.items()}

    def block(ours_prefix: str, ref_prefix: str, c_up: int | None):
        for conv, bn in ((0, 1), (3, 4)):
            weight = ours[f"{ours_prefix}.{conv}.weight"]
            ob = f"{ours_prefix}.{bn}"
            scale = ours[f"{ob}.weight"] / torch.sqrt(ours[f"{ob}.running_var"] + 1e-5)
            if conv == 0 and c_up is not None:  # seglight: cat(skip, up); reference: cat(up, skip)
                c_skip = weight.shape[1] - c_up
                weight = torch.cat([weight[:, c_skip:], weight[:, :c_skip]], dim=1)
            state[f"{ref_prefix}.{conv}.weight"] = weight * scale[:, None, None, None, None]
            mean = ours[f"{ob}.running_mean"]
            state[f"{ref_prefix}.{conv}.bias"] = ours[f"{ob}.bias"] - scale * mean
            rb = f"{ref_prefix}.{bn}"
            state[f"{rb}.running_mean"] = torch.zeros_like(state[f"{rb}.running_mean"])
            state[f"{rb}.running_var"] = torch.full_like(state[f"{rb}.running_var"], 1 - 1e-5)

    for ours_prefix, ref_prefix, c_up in _BLOCKS:
        block(ours_prefix, ref_prefix, c_up)
    for ours_prefix, ref_prefix in _LINEAR:
        for p in ("weight", "bias"):
            state[f"{ref_prefix}.{p}"] = ours[f"{ours_prefix}.{p}"]
    return state


def run_reference(shape, weights_out: str, proba_out: str, ckpt: str | None = None) -> dict:
    import argparse as ap

    import torch

    from seglight.classic.reference import ensure_aicsimageio

    ensure_aicsimageio()
    from aicsmlsegment.model_utils import model_inference
    from aicsmlsegment.Net3D.unet_xy import UNet3D

    torch.manual_seed(0)
    model = UNet3D(1, [2, 2, 2]).eval()
    if ckpt:
        model.load_state_dict(_seglight_to_reference(_trained_net(ckpt), model))
    else:
        torch.save(_reference_to_seglight(model), weights_out)
    # Its inference calls .cuda() unconditionally; on a CPU-only machine that is the identity.
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    args = ap.Namespace(size_in=list(REFERENCE_IN), size_out=list(REFERENCE_OUT),
                        OutputCh=[0, 1], nclass=[2, 2, 2])
    image, _ = bench_image(shape, ckpt)
    start = time.perf_counter()
    out = model_inference(model, image[None], torch.nn.Softmax(dim=1), args)
    seconds = time.perf_counter() - start
    # Its network returns log-probabilities; its inference applies the softmax given here.
    np.save(proba_out, out[0][0].astype(np.float32))
    # Its tiles: non-overlapping output blocks covering the image, each fed its input window;
    # the arithmetic is that of seglight's unet_xy (the same architecture).
    from seglight.networks import UNetXY

    n_tiles = int(np.prod([-(-s // o) for s, o in zip(shape, REFERENCE_OUT, strict=True)]))
    return {"name": "aicsmlsegment UNet3D (its tiling)", "seconds": seconds,
            "voxels_per_s": image.size / seconds, "peak_gib": _peak_gib(),
            "window": list(REFERENCE_IN), "windows": n_tiles, "dtype": "float32",
            "tflop": _tflop(UNetXY(width=32), REFERENCE_IN, n_tiles)}


def _child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode:
        raise RuntimeError(f"bench child {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * (a & b).sum() / total)


def _agreement(reference: np.ndarray, ours: np.ndarray) -> str:
    """Dice of the two masks at 0.5 and at the reference's median probability (a random
    network's masks at 0.5 may be empty; at the median each holds about half the voxels),
    and the largest probability difference."""
    parts = []
    for name, cut in (("0.5", 0.5), ("median", float(np.median(reference)))):
        a, b = reference > cut, ours > cut
        dice = _dice(a, b)
        parts.append(f"Dice at {name} threshold {dice:.4f} (foreground {a.mean():.3f})")
    parts.append(f"max |p_seglight - p_reference| {np.abs(reference - ours).max():.4f}")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[64, 512, 512])
    parser.add_argument("--nets", nargs="+", default=list(NETS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory-gib", type=float, default=2.0)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--ckpt", help="a trained unet_xy checkpoint (width 32): Dice against "
                        "ground truth for both sides")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--proba-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = tuple(args.shape)
    if args.one == "reference":
        print(json.dumps(run_reference(shape, args.weights, args.proba_out, args.ckpt)))
        return
    if args.one:
        print(json.dumps(run_seglight(args.one, shape, args.device, args.weights, args.proba_out,
                                      args.memory_gib, args.ckpt)))
        return

    import importlib.util

    import torch

    print(f"image {shape[0]}x{shape[1]}x{shape[2]}, device {args.device}, "
          f"{torch.get_num_threads()} threads")
    common = ["--shape", *map(str, shape), "--device", args.device,
              "--memory-gib", str(args.memory_gib)] + (["--ckpt", args.ckpt] if args.ckpt else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    rows, reference = [], None
    if not args.no_reference and importlib.util.find_spec("aicsmlsegment"):
        reference = _child(["--one", "reference", "--weights", str(tmp / "ref.pt"),
                            "--proba-out", str(tmp / "ref.npy"), *common])
        rows.append(reference)
    trained = {}  # row name -> probabilities of a trained network (for Dice)
    for i, name in enumerate(args.nets):
        extra = []
        if name == "unet_xy" and reference:
            extra = ["--weights", str(tmp / "ref.pt"), "--proba-out", str(tmp / "ours.npy")]
        elif name.endswith(".ckpt"):
            extra = ["--proba-out", str(tmp / f"net{i}.npy")]
        rows.append(_child(["--one", name, *extra, *common]))
        if name.endswith(".ckpt"):
            trained[rows[-1]["name"]] = tmp / f"net{i}.npy"
    print(f"{'':36s} {'out vox/s':>10s} {'peak GiB':>9s} {'seconds':>8s} {'TFLOP':>6s} "
          f"{'TFLOP/s':>7s}  window (count), dtype")
    for row in rows:
        print(f"{row['name']:36s} {row['voxels_per_s']:10.0f} {row['peak_gib']:9.2f} "
              f"{row['seconds']:8.1f} {row['tflop']:6.1f} {row['tflop'] / row['seconds']:7.3f}  "
              f"{row['window']} ({row['windows']}), {row['dtype']}")
    if reference:
        ours = next(r for r in rows if r["name"] == "seglight unet_xy")
        fewer = reference["tflop"] / ours["tflop"]
        faster = (ours["tflop"] / ours["seconds"]) / (reference["tflop"] / reference["seconds"])
        print(f"unet_xy speed-up over the reference (same weights): "
              f"{ours['voxels_per_s'] / reference['voxels_per_s']:.1f}x "
              f"= {fewer:.2f}x fewer operations x {faster:.2f}x faster operations")
        ref_p, ours_p = np.load(tmp / "ref.npy"), np.load(tmp / "ours.npy")
        print("agreement: " + _agreement(ref_p, ours_p))
        _, truth = bench_image(shape, args.ckpt)
        if truth is not None:
            print("Dice against the ground truth (masks at 0.5): "
                  f"reference {_dice(ref_p > 0.5, truth > 0):.4f}, "
                  f"seglight {_dice(ours_p > 0.5, truth > 0):.4f}")


    if trained:
        _, truth = bench_image(shape, next(n for n in args.nets if n.endswith(".ckpt")))
        for row_name, proba in trained.items():
            print(f"{row_name}: Dice against the ground truth (mask at 0.5) "
                  f"{_dice(np.load(proba) > 0.5, truth > 0):.4f}")


if __name__ == "__main__":
    main()
