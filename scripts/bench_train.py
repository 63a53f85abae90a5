"""Training-step speed and peak memory of unet_xy, its padded variant and the reference.

    python scripts/bench_train.py                       # CPU, patch [36, 124, 124]
    python scripts/bench_train.py --device cuda --patch 50 156 156 --batch 4

Each network runs in its own process (so peak memory is its own): a warm-up step, then
``--steps`` timed steps of forward, costmap-weighted loss over all heads, backward and Adam.
Speed is reported as *supervised voxels per second*: output voxels (the voxels a step
learns from) per second. The padded variant gets the nearest valid input to the same patch.
When ``aicsmlsegment`` is importable, its UNet3D (the Segmenter's published network) runs at
the same patch and every ratio is against it, measured in the same run.
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


def run_one(name: str, patch: list[int], batch: int, steps: int, device: str, width: int) -> dict:
    from seglight.losses import MultiHeadLoss
    from seglight.networks import UNetXY

    torch.manual_seed(0)
    if name == "reference":
        from aicsmlsegment.Net3D.unet_xy import UNet3D

        net = UNet3D(1, [2, 2, 2])
        in_shape = patch
        out_shape = UNetXY(width=width).output_shape(patch)
    else:
        net = UNetXY(width=width, padded=name == "unet_xy_padded")
        in_shape = list(net.valid_input_shape(patch))
        out_shape = net.output_shape(in_shape)
    net = net.to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    loss_fn = MultiHeadLoss("ce", [1.0, 0.5, 0.5])
    x = torch.rand(batch, 1, *in_shape, device=device)
    target = torch.randint(0, 2, (batch, *in_shape), device=device)
    costmap = torch.ones(batch, *in_shape, device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        if name == "reference":
            loss = _reference_step(net, x, out_shape)
        else:
            loss = loss_fn(net(x), target, costmap)
        loss.backward()
        optimizer.step()

    step()  # warm-up (allocator, cuDNN autotune)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    voxels = batch * out_shape[0] * out_shape[1] * out_shape[2]
    return {"name": name, "input": in_shape, "output": list(out_shape), "s_per_step": seconds,
            "voxels_per_s": voxels / seconds, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patch", type=int, nargs=3, default=[36, 124, 124],
                        help="input patch z y x (default: 36 124 124)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per network")
    parser.add_argument("--width", type=int, default=32, help="unet_xy first-level channels")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.patch, args.batch, args.steps, args.device,
                                 args.width)))
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
    results = []
    for name in names:
        cmd = [sys.executable, __file__, "--one", name, "--patch", *map(str, args.patch),
               "--batch", str(args.batch), "--steps", str(args.steps), "--device", args.device,
               "--width", str(args.width)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"{name}: failed\n{out.stderr.strip().splitlines()[-1]}")
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = results[0]
    print(f"\n{'network':<16}{'input zyx':<18}{'output zyx':<16}{'s/step':>8}"
          f"{'sup. vox/s':>12}{'peak MB':>9}{'speed ×':>9}{'memory ×':>9}")
    for r in results:
        print(f"{r['name']:<16}{str(r['input']):<18}{str(r['output']):<16}{r['s_per_step']:>8.2f}"
              f"{r['voxels_per_s']:>12.0f}{r['peak_mb']:>9.0f}"
              f"{r['voxels_per_s'] / base['voxels_per_s']:>9.2f}"
              f"{r['peak_mb'] / base['peak_mb']:>9.2f}")
    print(f"(ratios against {base['name']}, measured in this run)")


if __name__ == "__main__":
    main()
