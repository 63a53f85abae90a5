"""Per-step latency of the workflow editor on a large stack: first run, and the re-run after
a change of each parameter, on the whole stack and on a z-range around one slice.

Drives :class:`seglight.editor.session.EditorSession` — what the napari widget runs in its
worker thread — without Qt. The image is a synthetic ER-like stack (the structure sec61b
is tuned for; ``seglight/data/structures.py``) of 65x624x924 voxels unless ``--image`` gives
a real one. For each run it prints the steps' wall seconds (from the engine's StepEvents)
and the run's wall and CPU seconds; the baseline is the same workflow run once without the
cache, as ``python -m seglight.predict`` runs it (``ClassicBinarizer.predict_mask``), in the
same process, so the ratios hold however loaded the machine is.

    python scripts/bench_editor.py                        # sec61b, 65x624x924 synthetic
    python scripts/bench_editor.py --workflow tomm20 --shape 30x256x256
    python scripts/bench_editor.py --image stack.tif      # a real ZYX image
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from seglight.classic import ClassicBinarizer
from seglight.editor.session import EditorSession, RunResult


def changed_value(value, kind: str, ranges) -> object:
    """A nearby different value: +10 % (floats), +1 (ints), each list element +10 %."""
    if kind == "int":
        return int(value) + 1
    if kind == "float":
        return float(value) * 1.1 if value else (ranges[0].hi / 10 if ranges else 0.1)
    if kind == "list":
        return [changed_value(v, "list", ()) if isinstance(v, list) else
                (float(v) * 1.1 if v else 0.1) for v in value]
    return value


def timed_run(session: EditorSession) -> tuple[RunResult, float, float, dict[str, float]]:
    """One run: its result, wall and CPU seconds, and each step's CPU seconds (process
    time between two step events: the step and its cache look-up)."""
    step_cpu: dict[str, float] = {}
    mark = [time.process_time()]

    def on_step(event) -> None:
        now = time.process_time()
        step_cpu[event.step] = now - mark[0]
        mark[0] = now

    wall, cpu = time.perf_counter(), time.process_time()
    mark[0] = cpu
    result = session.run(on_step=on_step)
    return result, time.perf_counter() - wall, time.process_time() - cpu, step_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflow", default="sec61b")
    parser.add_argument("--shape", default="65x624x924", help="ZYX of the synthetic stack")
    parser.add_argument("--image", type=Path, help="a real single-channel ZYX image instead")
    parser.add_argument("--half-z", type=int, default=3, help="z-range scope: slices ± this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.image:
        from seglight.io import read_image

        image = np.asarray(read_image(args.image).data)
        source = f"{args.image} {image.shape}"
    else:
        from seglight.data.structures import STRUCTURE_OF, structure_image

        shape = tuple(int(v) for v in args.shape.split("x"))
        start = time.perf_counter()
        image = structure_image(args.workflow, shape, seed=args.seed)
        source = (f"synthetic {STRUCTURE_OF[args.workflow].__name__} {shape} "
                  f"(made in {time.perf_counter() - start:.0f} s)")
    print(f"workflow {args.workflow} on {source}, dtype {image.dtype}")

    # Warm up first (numba compiles the kernels on their first call), on a few slices.
    ClassicBinarizer(args.workflow).predict_mask(image[: max(3, 2 * args.half_z + 1)])
    wall, cpu = time.perf_counter(), time.process_time()
    ClassicBinarizer(args.workflow).predict_mask(image)
    base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"baseline (predict_mask, no cache, whole stack): {base_wall:.2f} s wall, "
          f"{base_cpu:.2f} s CPU\n")

    session = EditorSession(image, args.workflow)
    steps = session.steps
    names = [info.name for info in steps]
    params = {p.key: (p.kind, p.ranges) for info in steps for p in info.params if p.key}
    rows = {}  # scope -> (first run, [(key, result, wall, cpu)])
    for scope, half in (("whole", None), (f"z±{args.half_z}", args.half_z)):
        session.set_workflow(args.workflow)
        session.set_scope(half, image.shape[0] // 2)
        first = timed_run(session)
        reruns = []
        for key, (kind, ranges) in params.items():
            default = session.params[key]
            session.set_param(key, changed_value(default, kind, ranges))
            reruns.append((key, *timed_run(session)))
            session.set_param(key, default)
            session.run()  # back to the defaults (all cache hits)
        rows[scope] = (first, reruns)

    scopes = list(rows)
    print("First run, seconds per step (wall / CPU)")
    header = f"{'step':<22}{'block':<28}" + "".join(f"{s:>16}" for s in scopes)
    print(header)
    print("-" * len(header))
    for name, info in zip(names, steps, strict=True):
        cells = []
        for scope in scopes:
            event = next(e for e in rows[scope][0][0].events if e.step == name)
            cells.append(f"{event.seconds:>9.2f} /{rows[scope][0][3][name]:>5.2f}")
        print(f"{name:<22}{info.block:<28}" + "".join(cells))
    print(f"{'whole run, with the image checks':<50}" + "".join(
        f"{rows[s][0][1]:>9.2f} /{rows[s][0][2]:>5.2f}" for s in scopes))
    print()
    print("Re-run after changing one parameter (the other steps come from the cache)")
    header = (f"{'parameter changed':<22}{'steps re-run':<44}" +
              "".join(f"{s + ' wall':>12}{'CPU':>7}{'/base':>7}" for s in scopes))
    print(header)
    print("-" * len(header))
    for i, key in enumerate(params):
        result = rows[scopes[0]][1][i][1]
        ran = result.ran()
        ran = f"{len(ran)} of {len(result.events)}: {ran[0]} ..." if ran else "none"
        cells = "".join(f"{rows[s][1][i][2]:>12.2f}{rows[s][1][i][3]:>7.1f}"
                        f"{rows[s][1][i][3] / base_cpu:>7.2f}" for s in scopes)
        print(f"{key:<22}{ran[:43]:<44}" + cells)
    print(f"\n/base: the re-run's CPU time over the baseline's ({base_cpu:.2f} s). "
          f"z±{args.half_z}: {2 * args.half_z + 1} slices around z={image.shape[0] // 2}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
