"""How long the napari event loop is blocked while the Train and Apply widgets work.

A heartbeat timer on the GUI thread (every 10 ms, :class:`seglight.widgets.heartbeat.
StallMeter`) records every gap between two beats during: an idle loop (the baseline: what
the OS scheduler alone costs on this machine, under its current load), the Train widget
loading TensorBoard/matplotlib in the background, a short training started from it (a real
``python -m seglight.train`` subprocess, with the widget reading its logs), a network
applied from the Apply widget to an image layer right after the widget opens (its
prediction process starting and loading torch) and again (warm), the threshold slider
dragged, a folder run, and the idle loop again. Opening each widget is timed apart (napari
blocks while it builds a dock widget).

    QT_QPA_PLATFORM=offscreen python scripts/napari_stalls.py [--steps 30] [--size 32 256 256]
        [--checkpoint best.ckpt (skips training)] [--dump stacks.txt]

Prints the machine (CPU flags, cores, load average), the idle baseline, and a table per
phase: the longest stall, the 99th percentile of the gaps, the longest over the baseline's,
the longest garbage collection, and each stall over ``--dump-ms`` (100); ``--dump`` writes
every thread's stack at each of those stalls.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


#: Writes the image applied on screen (argv: folder, ZYX) and three for the folder run.
MAKE_IMAGES = """
import sys
from pathlib import Path
from seglight.data.structures import structure_image
from seglight.io import write_ome_tiff
work, size, spacing = Path(sys.argv[1]), tuple(map(int, sys.argv[2:5])), (0.29, 0.108, 0.108)
write_ome_tiff(work / "cell.tif", structure_image("lmnb1_interphase", size, seed=0), spacing)
for i in range(3):
    image = structure_image("lmnb1_interphase", (16, 128, 128), seed=i)
    write_ome_tiff(work / "raw" / f"cell{i}.tif", image, spacing)
"""


def cpu_line() -> str:
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"CPU flags: {' '.join(wanted) or 'none of avx2/avx512/amx'}; {os.cpu_count()} "
            f"cores; load average {load:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps")
    parser.add_argument("--size", type=int, nargs=3, default=[32, 256, 256],
                        help="ZYX of the image applied on screen")
    parser.add_argument("--idle-s", type=float, default=10, help="baseline duration")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="apply this checkpoint and skip the training phases")
    parser.add_argument("--dump", type=Path, default=None,
                        help="write every thread's stack to this file at each stall over "
                             "--dump-ms (to see what caused it)")
    parser.add_argument("--dump-ms", type=float, default=100, help="see --dump")
    args = parser.parse_args()

    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from napari.components import ViewerModel

    from seglight.io import read_image
    from seglight.widgets.heartbeat import StallMeter

    work = Path(tempfile.mkdtemp(prefix="napari_stalls_"))
    os.chdir(work)
    os.environ["SEGLIGHT_STATE_DIR"] = str(work / "state")
    # the synthetic images, made in another process (seglight.data loads torch, and napari
    # would not: it reads files)
    subprocess.run([sys.executable, "-c", MAKE_IMAGES, str(work), *map(str, args.size)],
                   check=True)
    rows: list[tuple[str, float, StallMeter, float]] = []
    dump = open(args.dump, "w") if args.dump else None  # noqa: SIM115 (open for the run)

    def spin(until, meter: StallMeter, timeout_s: float = 1800) -> float:
        started = time.perf_counter()
        while not until() and time.perf_counter() - started < timeout_s:
            app.processEvents()
            time.sleep(0.001)
        meter.stop()
        return time.perf_counter() - started

    import gc

    gc_pauses: list[tuple[float, int]] = []  # (ms, generation): a stall may be the collector
    gc_start = [0.0]

    def on_gc(stage: str, info: dict) -> None:
        if stage == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses.append(((time.perf_counter() - gc_start[0]) * 1000, info["generation"]))

    gc.callbacks.append(on_gc)

    def phase(name: str, action, until) -> None:
        gc_pauses.clear()
        if dump is not None:
            print(f"=== phase: {name} (t={time.perf_counter():.1f})", file=dump, flush=True)
        meter = StallMeter(report_ms=args.dump_ms, dump_to=dump).start()
        action()
        seconds = spin(until, meter)
        rows.append((name, seconds, meter, max(gc_pauses, default=(0.0, 0))[0]))

    idle_end = time.perf_counter() + args.idle_s
    phase("idle loop (baseline)", lambda: None, lambda: time.perf_counter() > idle_end)

    open_train = None
    if args.checkpoint is None:
        t0 = time.perf_counter()
        from seglight.widgets.train import TrainWidget

        train = TrainWidget(ViewerModel())
        open_train = time.perf_counter() - t0
        phase("Train widget: loading its modules in the background", lambda: None,
              lambda: train.warm_up.loaded)
        train.limit_combo.setCurrentIndex(train.limit_combo.findData("steps"))
        train.amount.setValue(args.steps)
        train.extra.setText("model.net.width=4 data.demo.n_images=2 "
                            "data.demo.shape_zyx=[16,64,64] data.patch_zyx=[8,32,32] "
                            "data.batch_size=1 data.samples_per_epoch=10 "
                            "data.val_patches_per_image=1 trainer.accelerator=cpu")
        phase(f"training ({args.steps} steps, subprocess + live logs)", train.start,
              lambda: not train.running and not train._reading)
        args.checkpoint = train.best[0]

    t0 = time.perf_counter()
    from seglight.widgets.apply import ApplyWidget

    viewer = ViewerModel()
    image = read_image(work / "cell.tif")
    viewer.add_image(image.data, name="cell", scale=image.spacing_um)
    apply = ApplyWidget(viewer)  # starts the prediction process, which loads torch
    open_apply = time.perf_counter() - t0
    apply.use_checkpoint(args.checkpoint)
    size = "x".join(map(str, args.size))
    phase(f"Apply on a {size} layer, first use (torch loading)", apply.apply_to_layer,
          lambda: not apply.busy)
    phase(f"Apply on the {size} layer again (warm)", apply.apply_to_layer,
          lambda: not apply.busy)
    values = [round(0.05 + 0.9 * i / 24, 3) for i in range(25)]
    drag = QTimer()
    drag.setInterval(20)  # a slider dragged: a new value every 20 ms

    def next_value() -> None:
        apply.threshold_slider.setValue(round(values.pop(0) * 1000))
        if not values:
            drag.stop()

    drag.timeout.connect(next_value)
    phase("re-threshold live (slider dragged: 25 values in 0.5 s)", drag.start,
          lambda: not values and not apply.cutting)
    apply.folder.fields["input"].edit.setText(str(work / "raw"))
    apply.folder.fields["output"].edit.setText(str(work / "seg"))
    phase("apply to a folder (3 images)", apply.folder.run, lambda: not apply.folder.busy)
    idle_end = time.perf_counter() + args.idle_s
    phase("idle loop again (the load may have changed)", lambda: None,
          lambda: time.perf_counter() > idle_end)
    loaded = "torch" in sys.modules
    apply.predictor.close()

    print(cpu_line())
    opened = f"the Train widget {open_train * 1000:.0f} ms, " if open_train else ""
    print(f"opening {opened}the Apply widget {open_apply * 1000:.0f} ms (napari blocks "
          "while it builds a dock widget); torch loaded in this (napari's) process: "
          f"{'yes' if loaded else 'no'}")
    baseline = rows[0][2].max_stall_ms
    print(f"idle baseline (same run): max {baseline:.0f} ms, 99th percentile "
          f"{rows[0][2].percentile(99):.0f} ms")
    print(f"{'phase':56s} {'s':>6s} {'max ms':>7s} {'p99 ms':>7s} {'max/idle':>8s} "
          f"{'GC ms':>6s}  stalls > {args.dump_ms:g} ms")
    for name, seconds, meter, worst_gc in rows:
        worst = meter.max_stall_ms
        ratio = worst / baseline if baseline > 0 else float("nan")
        listed = ", ".join(f"{ms:.0f}" for _, ms in meter.stalls) or "none"
        print(f"{name:56s} {seconds:6.1f} {worst:7.0f} {meter.percentile(99):7.0f} "
              f"{ratio:8.1f} {worst_gc:6.0f}  {listed}")
    print("GC ms: the longest garbage collection in the phase (a stall it does not explain "
          "is napari's or Qt's own work, or the OS)")


if __name__ == "__main__":
    main()
