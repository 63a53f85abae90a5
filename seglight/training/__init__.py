"""The training library: everything ``python -m seglight.train`` runs.

- :mod:`~seglight.training.fit`: compose, check and fit (``fit``, ``train``, ``TrainResult``);
- :mod:`~seglight.training.checks`: the config checks that run before any data is read;
- :mod:`~seglight.training.module`: the LightningModule (``SegmentationModule``);
- :mod:`~seglight.training.losses`: costmap-weighted losses and their multi-head sum;
- :mod:`~seglight.training.metrics`: masked Dice / IoU over a validation epoch;
- :mod:`~seglight.training.precision`: bf16 / fp16 / fp32 auto-selection;
- :mod:`~seglight.training.schedules`: warm-up + poly / cosine learning-rate schedules.

The data side (patches, augmentation, the DataModule) is :mod:`seglight.data`; the networks
are :mod:`seglight.networks`; checkpoints are read with :mod:`seglight.io.checkpoint`.
"""

from seglight.training.fit import TrainResult, fit, train

__all__ = ["TrainResult", "fit", "train"]
