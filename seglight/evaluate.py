"""``python -m seglight.evaluate pred=DIR gt=DIR [costmap=DIR] [spacing_zyx=[z,y,x]]``.

Scores every predicted mask against its ground truth, matched by name, and prints a table;
writes ``evaluation.csv`` and ``evaluation.png`` to ``out`` (default: the prediction folder).
See ``conf/evaluate.yaml`` for every key (``--help`` prints it) and ``docs/evaluate.md`` for
the definition of every number. The function is :func:`seglight.evaluation.evaluate`.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig, OmegaConf

from seglight.cli import hydra_entry
from seglight.errors import ConfigError
from seglight.evaluation import evaluate


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@hydra_entry("evaluate")
def main(cfg: DictConfig) -> None:
    """Score the folders, print the table and a summary line.

    Exits 1 when a pair could not be scored (the others are), 2 on a configuration error.
    """
    for key in ("pred", "gt"):
        if not cfg[key]:
            raise ConfigError(f"{key}= is missing; python -m seglight.evaluate pred=DIR gt=DIR")
    spacing = cfg.spacing_zyx
    if spacing is not None and OmegaConf.is_list(spacing):
        spacing = list(spacing)
    report = evaluate(cfg.pred, cfg.gt, costmap=cfg.costmap or None, spacing_zyx=spacing,
                      out=cfg.out or cfg.pred, pred_suffix=cfg.pred_suffix,
                      gt_suffix=cfg.gt_suffix, costmap_suffix=cfg.costmap_suffix,
                      connectivity=cfg.connectivity, min_object_size=cfg.min_object_size,
                      log=_stderr)
    if report.scored:
        print(report.table())
    _stderr(f"{report.summary_line()}; {report.csv_path}, {report.png_path}")
    if report.failures or not report.scored:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
