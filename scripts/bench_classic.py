"""Benchmark seglight's classic workflows against the reference Allen Cell Structure Segmenter.

Each workflow runs in the reference (``aicssegmentation==0.5.3``, installed by
``scripts/install_oracles.sh``) and in seglight on the same image in one process: by
default each workflow's structure-like image (``seglight/data/structures.py``); with
``--image PATH`` one real image (TIFF, HDF5, .npy) for all 25; with ``--synthetic`` one of
the parity matrix images of ``seglight/data/structures.py`` (bright hiPSC-like nuclei, a dim yeast
mitochondria-like stack). The table shows the seconds of each, the speed-up and the masks'
Dice. The targets are checked per row (never slower; at least 3x where the reference takes
more than 1 s; Dice >= 0.99) and overall (median speed-up at least 10x); the exit code is
1 when any target fails. A workflow that the reference refuses (it raises) passes when
seglight refuses too, and is left out of the median.

The reference runs in a worker process whose address space is capped (``--ref-memory-gb``,
``resource.setrlimit(RLIMIT_AS)``) and whose every call has a limit of CPU seconds
(``--ref-timeout``, ``RLIMIT_CPU``: load from other jobs does not count against it):
where the reference blows up (LMNB1 interphase on the ovule stack fills 24 GB and never
returns) the row says "reference failed (out of memory)" or "(timeout)", the worker is
replaced, and the benchmark goes on; such rows are left out of the median. With
``--repeats N`` the two sides alternate (reference, seglight, reference, ...) and the
fastest of each counts, so a burst of load from other jobs hits both. The reference's
time is measured inside its worker (wall-clock or CPU seconds, like seglight's).

Both sides are warmed up once on a tiny image first (imports, ITK, torch start-up), so the
times are those of the computation. The full run on 64x512x512 takes ~10 minutes on 2 cores,
nearly all of it in the reference.

Usage:
    python scripts/bench_classic.py                       # all 25, 64x512x512
    python scripts/bench_classic.py --workflows tomm20,fbl --shape 32x256x256 --repeats 3
    python scripts/bench_classic.py --cpu-time            # on a busy shared machine
    python scripts/bench_classic.py --workflows son --steps  # where seglight's time goes
    python scripts/bench_classic.py --image stack.tif --cpu-time   # one real image, all 25
    python scripts/bench_classic.py --image cells.h5 --dataset raw
    python scripts/bench_classic.py --synthetic nuclei --shape 60x256x256
    python scripts/bench_classic.py --image ovule.h5 --ref-memory-gb 6 --ref-timeout 120
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from seglight.classic import list_reference_workflows, run_workflow
from seglight.classic.reference import ReferenceMissing, reference_workflow
from seglight.data.structures import (
    BENCH_SHAPE,
    dim_mitochondria,
    hipsc_nuclei,
    structure_image,
)
from seglight.errors import SeglightError

SYNTHETIC = {"nuclei": hipsc_nuclei, "dim_mito": dim_mitochondria}

MIN_MEDIAN_SPEEDUP = 10.0
MIN_SPEEDUP_SLOW = 3.0
SLOW_REFERENCE_S = 1.0
MIN_DICE = 0.99
WARMUP_SHAPE = (16, 64, 64)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two masks (1.0 when both are empty)."""
    a, b = a > 0, b > 0
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def _reference_worker(conn, memory_bytes: int | None, cpu_limit_s: float) -> None:
    """Serve reference runs in this (capped) process: receive ``(name, image, cpu_time)``,
    send ``("ok", seconds, mask)``, ``("refused", seconds, message)`` (the reference raised)
    or ``("oom", seconds, message)``."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    clock_of = {True: time.process_time, False: time.perf_counter}
    while True:
        try:
            name, image, cpu_time = conn.recv()
        except EOFError:
            return
        clock = clock_of[cpu_time]
        if cpu_limit_s:
            # Past this many more CPU seconds the kernel ends the worker (SIGXCPU).
            used = resource.getrusage(resource.RUSAGE_SELF)
            budget = int(used.ru_utime + used.ru_stime + cpu_limit_s) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.RLIM_INFINITY))
        try:
            workflow = reference_workflow(name)
        except ReferenceMissing as missing:
            conn.send(("missing", 0.0, str(missing)))
            continue
        # As the reference's command line does, the workflow gets a float32 image; the cast
        # is timed with it, as seglight's own cast is. It prints its progress: keep the
        # table readable.
        start = clock()
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                mask = np.asarray(workflow(image.astype(np.float32), output_type="array"))
            reply = ("ok", clock() - start, mask)
        except MemoryError as err:
            reply = ("oom", clock() - start, f"{err!r:.60}")
        except Exception as err:  # noqa: BLE001 - a refusal is a result to compare
            reply = ("refused", clock() - start, f"{err!r:.60}")
        mask = None
        conn.send(reply)


class ReferenceFailed(Exception):
    """The reference ran out of its memory cap or time limit (not a refusal of the image)."""


class Reference:
    """The reference in a worker process with a memory cap; each call has a time limit."""

    def __init__(self, memory_gb: float | None, timeout_s: float):
        self.memory_bytes = int(memory_gb * 2**30) if memory_gb else None
        self.timeout_s = timeout_s
        self.context = multiprocessing.get_context("spawn")
        self.process = None

    def _start(self) -> None:
        self.conn, child = self.context.Pipe()
        self.process = self.context.Process(
            target=_reference_worker, args=(child, self.memory_bytes, self.timeout_s),
            daemon=True
        )
        self.process.start()
        child.close()

    def _restart(self) -> None:
        self.close()
        self._start()

    def run(self, name: str, image: np.ndarray, cpu_time: bool):
        """``(seconds, mask)``; the mask is the exception when the reference refused the
        image. Raises ReferenceFailed on out of memory, time-out or a crashed worker."""
        if self.process is None:
            self._start()
        self.conn.send((name, image, cpu_time))
        # The CPU limit ends a runaway call; this wall-clock limit only guards against a
        # worker that hangs without computing.
        if not self.conn.poll(max(3600.0, 30 * self.timeout_s)):
            self._restart()
            raise ReferenceFailed("no answer (hung)")
        try:
            status, seconds, result = self.conn.recv()
        except EOFError:
            self.process.join(10)
            code = self.process.exitcode
            self._restart()
            reasons = {-signal.SIGXCPU: f"timeout, over {self.timeout_s:g} CPU s",
                       -signal.SIGKILL: "out of memory (killed)"}
            raise ReferenceFailed(reasons.get(code, f"worker died, exit code {code}")) from None
        if status == "missing":
            raise SystemExit(f"bench_classic: {result}")
        if status == "oom":
            # The worker's heap may be fragmented after a failed allocation: start afresh.
            self._restart()
            raise ReferenceFailed("out of memory")
        return seconds, (RuntimeError(result) if status == "refused" else result)

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None


def timed(fn, image: np.ndarray, clock):
    """Seconds of one run of ``fn(image)`` by ``clock``, and its result (the exception, when
    the run raised one)."""
    start = clock()
    try:
        result = fn(image)
    except Exception as err:  # noqa: BLE001 - a refusal is a result to compare
        result = err
    return clock() - start, result


def read_image(path: Path, dataset: str | None) -> np.ndarray:
    """A ZYX image from a TIFF (first series), an HDF5 dataset or a .npy file."""
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        import h5py

        with h5py.File(path, "r") as f:
            key = dataset or next(k for k in f if isinstance(f[k], h5py.Dataset))
            return f[key][:]
    if suffix == ".npy":
        return np.load(path)
    import tifffile

    return tifffile.imread(path)


def step_times(name: str, image: np.ndarray) -> list[tuple[str, float]]:
    """Seconds seglight spends before each recorded step (the last entry runs to the end)."""
    marks = [("start", time.perf_counter())]
    run_workflow(name, image, record=lambda step, _array: marks.append((step, time.perf_counter())))
    marks.append(("(to the end)", time.perf_counter()))
    return [(step, t - marks[i][1]) for i, (step, t) in enumerate(marks[1:])]


def parse_shape(text: str) -> tuple[int, int, int]:
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"--shape {text!r}: write it as ZxYxX, e.g. 64x512x512")
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", default="all",
                        help="comma-separated workflow names (default: the reference's 25)")
    parser.add_argument("--shape", type=parse_shape, default=BENCH_SHAPE,
                        help="image shape ZxYxX (default: 64x512x512)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per side; the fastest counts (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic images")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by the process's CPU seconds instead of wall-clock: steadier "
                             "on a machine shared with other jobs, but it adds up all threads, "
                             "so it understates the speed-up of multi-threaded code")
    parser.add_argument("--image", type=Path,
                        help="run all workflows on this image (TIFF, HDF5 or .npy, ZYX)")
    parser.add_argument("--dataset", help="the HDF5 dataset of --image (default: the first)")
    parser.add_argument("--synthetic", choices=sorted(SYNTHETIC),
                        help="run all workflows on this matrix image, of --shape")
    parser.add_argument("--steps", action="store_true",
                        help="also print where seglight's time goes, step by recorded step")
    parser.add_argument("--ref-memory-gb", type=float, default=8.0,
                        help="address-space cap of the reference's worker, GiB (default: 8; "
                             "0: none)")
    parser.add_argument("--ref-timeout", type=float, default=300.0,
                        help="CPU seconds one reference call may take (default: 300)")
    args = parser.parse_args(argv)

    names = (list_reference_workflows() if args.workflows == "all"
             else args.workflows.split(","))
    unknown = [n for n in names if n not in list_reference_workflows()]
    if unknown:
        parser.error(f"workflow(s) {unknown}: not a workflow the reference has; choose from "
                     f"{list_reference_workflows()}")

    fixed = None
    if args.image is not None:
        fixed = read_image(args.image, args.dataset)
        source = f"{args.image.name} {fixed.dtype} {fixed.min()}..{fixed.max()}"
    elif args.synthetic:
        fixed = SYNTHETIC[args.synthetic](args.shape, args.seed)
        source = f"synthetic {args.synthetic}"
    else:
        source = "structure-like images"
    shape = "x".join(map(str, args.shape if fixed is None else fixed.shape))
    clock = time.process_time if args.cpu_time else time.perf_counter
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"classic workflows on {source}, {shape}, best of {args.repeats} (alternating), "
          f"{'CPU' if args.cpu_time else 'wall-clock'} seconds, "
          f"seglight vs aicssegmentation 0.5.3; load average {load}")
    header = f"{'workflow':<17} {'ref s':>8} {'seglight s':>10} {'ratio':>7} {'dice':>7}  result"
    print(header)
    print("-" * len(header))
    ratios, all_pass = [], True
    reference = Reference(args.ref_memory_gb, args.ref_timeout)
    for name in names:
        warmup = structure_image(name, WARMUP_SHAPE, args.seed)
        image = structure_image(name, args.shape, args.seed) if fixed is None else fixed
        try:
            reference.run(name, warmup, args.cpu_time)
            ref_times, ours_times = [], []
            run_workflow(name, warmup)
            # Alternate the two sides, so that load from other jobs falls on both.
            for _ in range(args.repeats):
                seconds, ref_mask = reference.run(name, image, args.cpu_time)
                ref_times.append(seconds)
                with contextlib.redirect_stderr(io.StringIO()):  # the out-of-range warning
                    seconds, mask = timed(lambda img, n=name: run_workflow(n, img), image,
                                          clock)
                ours_times.append(seconds)
        except ReferenceFailed as failure:
            with contextlib.redirect_stderr(io.StringIO()):
                ours_s, mask = timed(lambda img, n=name: run_workflow(n, img), image, clock)
            verdict = f"- (reference failed: {failure})"
            if isinstance(mask, Exception):
                verdict = f"FAIL (seglight: {mask!r:.60}; reference failed: {failure})"
                all_pass = False
            print(f"{name:<17} {'-':>8} {ours_s:10.3f} {'-':>7} {'-':>7}  {verdict}", flush=True)
            continue
        ref_s, ours_s = min(ref_times), min(ours_times)
        ratio = ref_s / ours_s
        if isinstance(ref_mask, Exception) or isinstance(mask, Exception):
            both = isinstance(ref_mask, Exception) and isinstance(mask, SeglightError)
            verdict = "PASS (both refuse)" if both else (
                f"FAIL (reference: {ref_mask!r:.60}; seglight: {mask!r:.60})")
            all_pass &= both
            print(f"{name:<17} {ref_s:8.2f} {ours_s:10.3f} {'-':>7} {'-':>7}  {verdict}",
                  flush=True)
            continue
        score = dice(mask, ref_mask)
        failures = []
        if ratio < 1.0:
            failures.append("slower")
        elif ref_s > SLOW_REFERENCE_S and ratio < MIN_SPEEDUP_SLOW:
            failures.append(f"<{MIN_SPEEDUP_SLOW:g}x")
        if score < MIN_DICE:
            failures.append(f"dice<{MIN_DICE}")
        all_pass &= not failures
        ratios.append(ratio)
        verdict = "PASS" if not failures else "FAIL (" + ", ".join(failures) + ")"
        print(f"{name:<17} {ref_s:8.2f} {ours_s:10.3f} {ratio:6.1f}x {score:7.4f}  {verdict}",
              flush=True)
        if args.steps:
            for step, seconds in step_times(name, image):
                print(f"    {seconds:8.3f} s  up to {step}", flush=True)
    reference.close()

    median = statistics.median(ratios)
    median_ok = median >= MIN_MEDIAN_SPEEDUP
    print("-" * len(header))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average at the end {load}")
    print(f"median speed-up {median:.1f}x (target >= {MIN_MEDIAN_SPEEDUP:g}x): "
          f"{'PASS' if median_ok else 'FAIL'}")
    overall = all_pass and median_ok
    print(f"overall: {'PASS' if overall else 'FAIL'}")
    return 0 if overall else 1


if __name__ == "__main__":
    sys.exit(main())
