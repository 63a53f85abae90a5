"""``python -m seglight.evaluate pred=DIR gt=DIR [costmap=DIR] [spacing_zyx=[z,y,x]]``, or
``python -m seglight.evaluate ckpt_path=<ckpt | [a,b] | sweep folder> [data.path=DIR] split=test``.

The first scores every predicted mask against its ground truth, matched by name, and prints a
table; writes ``evaluation.csv`` and ``evaluation.png`` to ``out`` (default: the prediction
folder). The second predicts the held-out images of each checkpoint's recorded split and
scores them: one table with a row per checkpoint. See ``conf/evaluate.yaml`` for every key
(``--help`` prints it) and ``docs/evaluate.md`` for the definition of every number. The
functions are :func:`seglight.evaluation.evaluate` and
:func:`seglight.evaluation.evaluate_checkpoints`.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig, OmegaConf

from seglight.cli import hydra_entry
from seglight.errors import ConfigError
from seglight.evaluation import evaluate, evaluate_checkpoints


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@hydra_entry("evaluate")
def main(cfg: DictConfig) -> None:
    """Score the folders, print the table and a summary line.

    Exits 1 when a pair could not be scored (the others are), 2 on a configuration error.
    """
    if cfg.ckpt_path:
        return _checkpoints(cfg)
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


def _checkpoints(cfg: DictConfig) -> None:
    """``ckpt_path=``: predict each checkpoint's split and print a row per checkpoint."""
    if cfg.pred or cfg.gt:
        raise ConfigError("ckpt_path= predicts and scores by itself; drop pred=/gt= (or "
                          "ckpt_path= to score existing masks)")
    spec = cfg.ckpt_path
    spec = [str(p) for p in spec] if OmegaConf.is_list(spec) else str(spec)
    report = evaluate_checkpoints(spec, data_path=cfg.data.path or None, split=cfg.split,
                                  out=cfg.out or None, device=cfg.device, log_line=_stderr)
    print(report.table(), flush=True)
    n_ok = sum(not m.get("error") for m in report.models)
    _stderr(f"{len(report.models)} checkpoint(s) on the {cfg.split} images, "
            f"{len(report.models) - n_ok} with problems; {report.csv_path}, {report.png_path}")
    if n_ok < len(report.models):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
