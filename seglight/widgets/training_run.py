"""What the Train widget offers and runs, without Qt: the choices (from ``conf/``), the
``python -m seglight.train`` command line, the run folder, the progress in its output, and
the curves and image panels in its TensorBoard logs.

A run started from the widget is the command line shown in it, run in a subprocess; this
module is how that command is built and how its results are read back, so it can be tested
(and reused by a script) without a display.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seglight import CONF_DIR

#: Model configs listed first where they exist: the named sizes and the data plan.
PREFERRED_MODELS = ("plan", "unet_s", "unet_m", "unet_l")
#: The checkpoint Lightning writes when a run is interrupted (Cancel, Ctrl-C, a crash):
#: ``OnExceptionCheckpoint`` in ``conf/callbacks/default.yaml``.
INTERRUPTED = "interrupted.ckpt"

_EPOCH_LINE = re.compile(r"Epoch (\d+)(?:/\d+)?:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")
_BEST_LINE = re.compile(r"best checkpoint: (.+?) \((\S+) ([-\d.naninf]+)\)\s*$")


def model_options(conf_dir: Path = CONF_DIR) -> list[str]:
    """The trainable models: ``conf/model/*.yaml`` without the shared parts (``_*``) and the
    classic workflows, the named sizes and ``plan`` first."""
    names = sorted(p.stem for p in (conf_dir / "model").glob("*.yaml")
                   if not p.name.startswith("_"))
    first = [n for n in PREFERRED_MODELS if n in names]
    return first + [n for n in names if n not in first]


def data_options(conf_dir: Path = CONF_DIR) -> list[str]:
    """The data configs (``conf/data/*.yaml`` without ``_*``), ``lamin`` (a curated folder
    of any structure) first."""
    names = sorted(p.stem for p in (conf_dir / "data").glob("*.yaml")
                   if not p.name.startswith("_"))
    return sorted(names, key=lambda n: n != "lamin")


def train_keys(conf_dir: Path = CONF_DIR) -> set[str]:
    """The top-level keys of ``conf/train.yaml`` (``budget``, ``init_from`` where the trainer
    has them)."""
    from omegaconf import OmegaConf

    return {str(k) for k in OmegaConf.load(conf_dir / "train.yaml") if k != "defaults"}


@dataclass
class TrainRequest:
    """What the user chose in the widget.

    Attributes:
        data_path: the curated folder; ``None`` with ``data="demo"``: the embedded demo.
        model: a ``conf/model`` option.
        data: a ``conf/data`` option.
        limit: what ends the run: ``epochs`` (``trainer.max_epochs``), ``steps``
            (``trainer.max_steps``), ``minutes`` of wall time (``trainer.max_time``) or
            ``budget`` (the trainer's own ``budget=``, where it has one).
        amount: how many (0: the config's default).
        init_from: fine-tune from this checkpoint's weights (where the trainer has it).
        ckpt_path: resume this run (weights, optimizer, epoch).
        log_dir: where runs go (``paths.log_dir``).
        extra: more overrides, as typed on a command line.
    """

    data_path: str | None = None
    model: str = "unet_xy_tiny"
    data: str = "demo"
    limit: str = "epochs"
    amount: float = 0
    init_from: str | None = None
    ckpt_path: str | None = None
    log_dir: str | None = None
    extra: Sequence[str] = field(default_factory=list)


def command(request: TrainRequest, python: str = sys.executable) -> list[str]:
    """The ``python -m seglight.train`` command line of ``request`` (argv, no shell)."""
    args = [python, "-m", "seglight.train", f"model={request.model}", f"data={request.data}"]
    if request.data_path:
        args.append(f"data.path={request.data_path}")
    args += limit_overrides(request.limit, request.amount)
    if request.init_from:
        args.append(f"init_from={request.init_from}")
    if request.ckpt_path:
        args.append(f"ckpt_path={request.ckpt_path}")
    if request.log_dir:
        args.append(f"paths.log_dir={request.log_dir}")
    args += [a for a in request.extra if a]
    return args


def limit_overrides(limit: str, amount: float) -> list[str]:
    """The overrides that end a run after ``amount`` epochs, steps, minutes or budget units
    (a step or time limit lifts the config's epoch limit, so it is the one that ends it)."""
    if not amount:
        return []
    if limit == "epochs":
        return [f"trainer.max_epochs={int(amount)}"]
    if limit == "steps":
        return [f"trainer.max_steps={int(amount)}", "trainer.max_epochs=-1"]
    if limit == "minutes":
        days, rest = divmod(max(1, round(amount * 60)), 86400)
        clock = f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        return [f"trainer.max_time={clock}", "trainer.max_epochs=-1"]
    if limit == "budget":
        return [f"budget={amount:g}"]
    raise ValueError(f"limit={limit!r}: use epochs, steps, minutes or budget")


def shell_line(argv: Sequence[str]) -> str:
    """``argv`` as one line to paste into a POSIX shell."""
    return shlex.join(argv)


def runs_of(log_dir: Path, task: str = "train") -> set[Path]:
    """The run folders under ``log_dir/<task>`` (each has a ``.hydra`` folder)."""
    return {p.parent for p in (Path(log_dir) / task).glob("*/.hydra")}


def new_run(log_dir: Path, before: set[Path], task: str = "train") -> Path | None:
    """The folder where the run started since ``before`` (:func:`runs_of`) writes, once it
    writes: its own, or the run it resumes (its ``continues`` link), if any yet."""
    for folder in sorted(runs_of(log_dir, task) - before, reverse=True):
        if (folder / "continues").exists():
            return (folder / "continues").resolve()
        if (folder / "tensorboard").exists() or (folder / "checkpoints").exists():
            return folder
    return None


def resume_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint to resume ``run_dir`` from: the newer of ``last.ckpt`` (end of the
    last epoch) and ``interrupted.ckpt`` (where a cancelled run stopped)."""
    folder = Path(run_dir) / "checkpoints"
    found = [p for p in (folder / "last.ckpt", folder / INTERRUPTED) if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


@dataclass
class Progress:
    """Where a run is, from its progress bar: epoch (from 0), batch in the epoch, batches
    per epoch."""

    epoch: int = 0
    batch: int = 0
    batches: int = 0

    @property
    def step(self) -> int:
        return self.epoch * self.batches + self.batch


def parse_output(text: str, progress: Progress | None = None) -> tuple[Progress | None, list]:
    """Read a chunk of the run's output: the last training progress seen (or the given
    one), and ``(path, metric, value)`` for each "best checkpoint" line."""
    best = []
    for line in re.split(r"[\r\n]+", text):
        match = _EPOCH_LINE.search(line)
        if match:
            progress = Progress(*(int(g) for g in match.groups()))
        found = _BEST_LINE.search(line)
        if found:
            best.append((Path(found[1]), found[2], float(found[3])))
    return progress, best


@dataclass
class RunLogs:
    """The curves and the latest image panel of a run, as read from its TensorBoard logs.

    Attributes:
        loss: ``(step, value)`` of the training loss per logged step.
        loss_epoch: ``(step, value)`` of the training loss per epoch.
        dice: ``(epoch, value)`` of the validation Dice.
        panel: the latest validation panel (PNG bytes), and its epoch.
    """

    loss: list[tuple[int, float]] = field(default_factory=list)
    loss_epoch: list[tuple[int, float]] = field(default_factory=list)
    dice: list[tuple[int, float]] = field(default_factory=list)
    panel: bytes | None = None
    panel_epoch: int | None = None

    @property
    def best_dice(self) -> float | None:
        return max(v for _, v in self.dice) if self.dice else None


class LogReader:
    """Reads a run's TensorBoard event files incrementally (each :meth:`read` loads only
    what was appended since the last one). The Train widget calls it in its child process
    (:class:`LogHandler`)."""

    def __init__(self, run_dir: Path):
        self.folder = Path(run_dir) / "tensorboard"
        self._accumulator = None

    def read(self) -> RunLogs:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        logs = RunLogs()
        if self._accumulator is None:
            if not any(self.folder.glob("events.out.tfevents.*")):
                return logs
            self._accumulator = EventAccumulator(
                str(self.folder), size_guidance={"images": 1, "scalars": 0})
        acc = self._accumulator
        acc.Reload()
        tags = acc.Tags()
        scalars = set(tags.get("scalars", ()))

        def series(tag: str) -> list[tuple[int, float]]:
            return [(e.step, float(e.value)) for e in acc.Scalars(tag)] if tag in scalars else []

        logs.loss, logs.loss_epoch = series("train/loss_step"), series("train/loss_epoch")
        epochs = {step: int(value) for step, value in series("epoch")}
        logs.dice = [(epochs.get(step, step), value) for step, value in series("val/dice")]
        panels = sorted(t for t in tags.get("images", ()) if t.startswith("val/panel"))
        if panels:
            event = acc.Images(panels[0])[-1]
            logs.panel, logs.panel_epoch = event.encoded_image_string, int(event.step)
        return logs


def render_chart(logs: RunLogs, width_px: int = 420, height_px: int = 220) -> bytes:
    """The loss and validation Dice curves as a PNG (matplotlib's Agg, no GUI: the Train
    widget draws them in its child process, so drawing never holds up the viewer)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    loss_axis, dice_axis = figure.subplots(1, 2)
    for points, style, label in ((logs.loss, "-", "per step"), (logs.loss_epoch, "o-", "epoch")):
        if points:
            loss_axis.plot(*zip(*points, strict=True), style, ms=3, lw=1, label=label)
    loss_axis.set(title="training loss", xlabel="step")
    if logs.loss or logs.loss_epoch:
        loss_axis.legend(fontsize=7)
    if logs.dice:
        dice_axis.plot(*zip(*logs.dice, strict=True), "o-", ms=3, lw=1, color="tab:green")
    dice_axis.set(title="validation Dice", xlabel="epoch", ylim=(0, 1))
    for axis in (loss_axis, dice_axis):
        axis.title.set_fontsize(9)
        axis.tick_params(labelsize=7)
        axis.xaxis.label.set_fontsize(8)
    figure.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.88, wspace=0.25)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class LogHandler:
    """What the Train widget's child process does (:mod:`seglight.widgets.service`): read a
    run's TensorBoard logs and draw the curves there, never in napari's interpreter (parsing
    the logs and drawing with matplotlib are long pure-Python work that a thread would share
    with the GUI). Built in the child: loads TensorBoard and matplotlib and draws once.

    Answers ``("read", run folder, width px, height px, redraw)`` with ``(RunLogs, chart
    PNG)``, or ``None`` when nothing changed since the last answer for that run and
    ``redraw`` is false.
    """

    def __init__(self):
        import tensorboard.backend.event_processing.event_accumulator  # noqa: F401

        render_chart(RunLogs())  # loads what matplotlib loads on first use
        self.readers: dict[str, LogReader] = {}
        self.last: dict[str, RunLogs] = {}

    def __call__(self, conn, kind: str, run_dir: str, width: int, height: int,
                 redraw: bool = False):
        if kind != "read":
            raise ValueError(f"unknown request {kind!r}")
        reader = self.readers.setdefault(run_dir, LogReader(Path(run_dir)))
        logs = reader.read()
        if not redraw and self.last.get(run_dir) == logs:
            return None
        self.last[run_dir] = logs
        return logs, render_chart(logs, width, height)
