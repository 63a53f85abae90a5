"""Lightning's predict loop as the file distributor.

``trainer.predict`` over a dataset of file paths: with ``trainer.devices=4`` or
``trainer.num_nodes=2`` (DDP), each process takes every ``world_size``-th file, so each
output is written by exactly one process (a ``DistributedSampler`` would pad the last round
with repeated files). Lightning moves the network to each process's device.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from seglight.predict.runner import PredictRunner
from seglight.summary import Summary


class FileList(Dataset):
    """The input files, as strings (collated one at a time)."""

    def __init__(self, paths: Sequence[str | Path]):
        self.paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> str:
        return self.paths[index]


class StridedSampler(Sampler[int]):
    """Indices ``rank, rank + world_size, ...``: a split without repeats or padding."""

    def __init__(self, n: int, rank: int, world_size: int):
        self.indices = list(range(rank, n, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def _first(batch: list[str]) -> str:
    return batch[0]


class FilesDataModule(L.LightningDataModule):
    """Serves the input files to the predict loop, split across processes."""

    def __init__(self, paths: Sequence[str | Path]):
        super().__init__()
        self.files = FileList(paths)

    def predict_dataloader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        return DataLoader(self.files, batch_size=1, sampler=StridedSampler(len(self.files),
                          rank, world), collate_fn=_first, num_workers=0)


class StopRequested(Exception):
    """SIGTERM arrived (``kill``, a scheduler's time limit): the run stops between files."""


class BinarizerModule(L.LightningModule):
    """Runs a :class:`PredictRunner` on each file of the predict loop.

    A network binarizer's network is registered as a submodule, so Lightning puts it on the
    process's device; a classic binarizer has none and runs on the CPU.
    """

    def __init__(self, runner: PredictRunner):
        super().__init__()
        self.runner = runner
        net = getattr(runner.binarizer, "net", None)
        self.net = net if isinstance(net, nn.Module) else None
        self.summary = Summary()

    def predict_step(self, path: str, batch_idx: int) -> None:
        # Lightning catches SIGTERM and only raises a flag, which its predict loop ignores;
        # without this check a `kill` or a SLURM time limit would not stop the run. The file
        # in progress when the signal came has been finished (its outputs written whole).
        if self.trainer.received_sigterm:
            raise StopRequested
        self.summary.add(self.runner.process_file(path))

    def on_predict_epoch_end(self) -> None:
        local = torch.tensor([self.summary.written, self.summary.skipped, self.summary.failed],
                             dtype=torch.float64, device=self.device)
        total = self.trainer.strategy.reduce(local, reduce_op="sum")
        self.total = Summary(*(int(v) for v in total.tolist()))
