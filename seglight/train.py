"""Train a segmentation network: ``python -m seglight.train [overrides]``.

Examples::

    python -m seglight.train                                  # tiny U-Net on the demo data
    python -m seglight.train model=unet_xy data=lamin data.path=/my/curated/lamin
    python -m seglight.train trainer.max_steps=200 trainer.limit_val_batches=2
    python -m seglight.train ckpt_path=runs/train/<time>/checkpoints/last.ckpt   # resume
    python -m seglight.train -m model.optimizer.lr=1e-3,3e-4  # a sweep, one folder per job
    python -m seglight.train hparams_search=optuna            # Optuna maximizes val/dice
    python -m seglight.train plan=plan.yaml                   # a plan (python -m seglight.plan)
    python -m seglight.train experiment=auto data.path=DIR    # plan from the data, then train
    python -m seglight.train --help                           # config groups and options

The work is done in :mod:`seglight.training`; from Python, call ``seglight.train(...)``.
"""

import sys

from seglight.cli import hydra_entry
from seglight.errors import exit_on_user_error
from seglight.training import train

_train = hydra_entry("train")(train)


def main():
    """``plan=`` and ``experiment=auto`` become overrides first (:mod:`seglight.planning`)."""
    from seglight.planning.auto import train_arguments

    sys.argv[1:] = exit_on_user_error(train_arguments)(sys.argv[1:])
    return _train()


if __name__ == "__main__":
    main()
