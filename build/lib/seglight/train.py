"""Train a segmentation network: ``python -m seglight.train [overrides]``.

Examples::

    python -m seglight.train                                  # tiny U-Net on the demo data
    python -m seglight.train model=unet_xy data=lamin data.path=/my/curated/lamin
    python -m seglight.train trainer.max_steps=200 trainer.limit_val_batches=2
    python -m seglight.train ckpt_path=runs/train/<time>/checkpoints/last.ckpt   # resume
    python -m seglight.train -m model.optimizer.lr=1e-3,3e-4  # a sweep, one folder per job
    python -m seglight.train hparams_search=optuna            # Optuna maximizes val/dice
    python -m seglight.train --help                           # config groups and options

The work is done in :mod:`seglight.training`; from Python, call ``seglight.train(...)``.
"""

from seglight.cli import hydra_entry
from seglight.training import train

main = hydra_entry("train")(train)

if __name__ == "__main__":
    main()
