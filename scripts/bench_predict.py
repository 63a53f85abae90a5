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

Numbers are only comparable within one run on one machine (the ratio is what to report).
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
sys.path.insert(0, str(ROOT))

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


def run_seglight(name: str, shape, device: str, weights: str | None, proba_out: str | None,
                 memory_gib: float) -> dict:
    import torch

    from seglight.predict.inference import SlidingWindowInferer

    torch.manual_seed(0)
    net = _network(name)
    if weights:
        net.load_state_dict(torch.load(weights))
    net.to(device)
    image = synthetic_image(shape)
    inferer = SlidingWindowInferer(net, memory_gib=memory_gib)
    plan = inferer.plan(shape)
    start = time.perf_counter()
    proba = inferer(image)
    seconds = time.perf_counter() - start
    if proba_out:
        np.save(proba_out, proba)
    return {
        "name": f"seglight {name}", "seconds": seconds, "voxels_per_s": image.size / seconds,
        "peak_gib": _peak_gib(), "window": list(plan.in_zyx), "windows": plan.n_windows,
        "dtype": str(inferer._prepare()).removeprefix("torch."),
    }


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

    def block(ours_prefix: str, ref_prefix: str, permute_in: tuple[int, int] | None = None):
        for conv, bn in ((0, 1), (3, 4)):
            weight = ref_state[f"{ref_prefix}.{conv}.weight"]
            if conv == 0 and permute_in is not None:
                c_up, c_skip = permute_in  # reference: cat(up, skip); seglight: cat(skip, up)
                weight = torch.cat([weight[:, c_up:], weight[:, :c_up]], dim=1)
            state[f"{ours_prefix}.{conv}.weight"] = weight
            ours_bn, ref_bn = f"{ours_prefix}.{bn}", f"{ref_prefix}.{bn}"
            state[f"{ours_bn}.running_mean"] = (
                ref_state[f"{ref_bn}.running_mean"] - ref_state[f"{ref_prefix}.{conv}.bias"]
            )
            state[f"{ours_bn}.running_var"] = ref_state[f"{ref_bn}.running_var"]
            state[f"{ours_bn}.weight"] = torch.ones_like(state[f"{ours_bn}.weight"])
            state[f"{ours_bn}.bias"] = torch.zeros_like(state[f"{ours_bn}.bias"])

    for i in range(3):
        block(f"enc.{i}", f"ec{i + 1}")
    block("bottleneck", "ec4")
    for i, (ref_up, ref_dc, c_up) in enumerate((("up3", "dc3", 512), ("up2", "dc2", 256),
                                                ("up1", "dc1", 128))):
        state[f"up.{i}.weight"] = ref_state[f"{ref_up}.weight"]
        state[f"up.{i}.bias"] = ref_state[f"{ref_up}.bias"]
        block(f"dec.{i}", ref_dc, permute_in=(c_up, None))
    state["head.weight"], state["head.bias"] = ref_state["dc0.weight"], ref_state["dc0.bias"]
    return state


def run_reference(shape, weights_out: str, proba_out: str) -> dict:
    import argparse as ap

    import torch

    from tests.oracle import _ensure_aicsimageio

    _ensure_aicsimageio()
    from aicsmlsegment.model_utils import model_inference
    from aicsmlsegment.Net3D.unet_xy import UNet3D

    torch.manual_seed(0)
    model = UNet3D(1, [2, 2, 2]).eval()
    torch.save(_reference_to_seglight(model), weights_out)
    # Its inference calls .cuda() unconditionally; on a CPU-only machine that is the identity.
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]
    args = ap.Namespace(size_in=list(REFERENCE_IN), size_out=list(REFERENCE_OUT),
                        OutputCh=[0, 1], nclass=[2, 2, 2])
    image = synthetic_image(shape)
    start = time.perf_counter()
    out = model_inference(model, image[None], torch.nn.Softmax(dim=1), args)
    seconds = time.perf_counter() - start
    # Its network returns log-probabilities; its inference applies the softmax given here.
    np.save(proba_out, out[0][0].astype(np.float32))
    return {"name": "aicsmlsegment UNet3D (its tiling)", "seconds": seconds,
            "voxels_per_s": image.size / seconds, "peak_gib": _peak_gib(),
            "window": list(REFERENCE_IN), "windows": None, "dtype": "float32"}


def _child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode:
        raise RuntimeError(f"bench child {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _agreement(reference: np.ndarray, ours: np.ndarray) -> str:
    """Dice of the two masks at 0.5 and at the reference's median probability (a random
    network's masks at 0.5 may be empty; at the median each holds about half the voxels),
    and the largest probability difference."""
    parts = []
    for name, cut in (("0.5", 0.5), ("median", float(np.median(reference)))):
        a, b = reference > cut, ours > cut
        total = a.sum() + b.sum()
        dice = 1.0 if total == 0 else 2 * (a & b).sum() / total
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
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    parser.add_argument("--proba-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = tuple(args.shape)
    if args.one == "reference":
        print(json.dumps(run_reference(shape, args.weights, args.proba_out)))
        return
    if args.one:
        print(json.dumps(run_seglight(args.one, shape, args.device, args.weights, args.proba_out,
                                      args.memory_gib)))
        return

    import importlib.util

    import torch

    print(f"image {shape[0]}x{shape[1]}x{shape[2]}, device {args.device}, "
          f"{torch.get_num_threads()} threads")
    common = ["--shape", *map(str, shape), "--device", args.device,
              "--memory-gib", str(args.memory_gib)]
    tmp = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    rows, reference = [], None
    if not args.no_reference and importlib.util.find_spec("aicsmlsegment"):
        reference = _child(["--one", "reference", "--weights", str(tmp / "ref.pt"),
                            "--proba-out", str(tmp / "ref.npy"), *common])
        rows.append(reference)
    for name in args.nets:
        extra = []
        if name == "unet_xy" and reference:
            extra = ["--weights", str(tmp / "ref.pt"), "--proba-out", str(tmp / "ours.npy")]
        rows.append(_child(["--one", name, *extra, *common]))
    print(f"{'':40s} {'out vox/s':>10s} {'peak GiB':>9s} {'seconds':>8s}  window (count), dtype")
    for row in rows:
        print(f"{row['name']:40s} {row['voxels_per_s']:10.0f} {row['peak_gib']:9.2f} "
              f"{row['seconds']:8.1f}  {row['window']} ({row['windows']}), {row['dtype']}")
    if reference:
        ours = next(r for r in rows if r["name"] == "seglight unet_xy")
        print(f"unet_xy speed-up over the reference (same weights): "
              f"{ours['voxels_per_s'] / reference['voxels_per_s']:.1f}x")
        print("agreement: " + _agreement(np.load(tmp / "ref.npy"), np.load(tmp / "ours.npy")))


if __name__ == "__main__":
    main()
