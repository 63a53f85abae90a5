"""``python -m seglight.curate key=value ...``: curate training triplets from a script.

See ``conf/curate.yaml`` for every key; ``--help`` prints it.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig
from tqdm import tqdm

from seglight.cli import hydra_entry
from seglight.curate.config import CurateConfig
from seglight.curate.engine import Curator


@hydra_entry("curate")
def main(cfg: DictConfig) -> None:
    """Validate the config, curate every pending image, print a summary.

    Exits 1 when any image failed (the others are written), 2 on a configuration error.
    """
    # Warnings go above the progress bar instead of breaking it.
    curator = Curator(CurateConfig.from_mapping(cfg),
                      log=lambda line: tqdm.write(line, file=sys.stderr))
    summary = curator.run(progress=True)
    print(f"{summary}; triplets in {curator.out}, decisions logged in {curator.decision_log.path}")
    if summary.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
