"""Plan a training run from the data: ``python -m seglight.plan data.path=DIR [budget=30min]``.

Fingerprints the curated folder, decides every training setting with a one-line reason
(timing a few real training steps on this machine), writes ``plan.yaml`` and prints it as a
table. ``python -m seglight.train plan=plan.yaml`` trains it. The work is done in
:mod:`seglight.planning`; docs/plan.md explains the rules.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig, OmegaConf

from seglight.cli import hydra_entry
from seglight.errors import ConfigError


@hydra_entry("plan")
def main(cfg: DictConfig) -> None:
    import logging

    from seglight.planning import make_plan, plan_table, save_plan

    if not cfg.data.path:
        raise ConfigError("data.path= is missing; python -m seglight.plan data.path=DIR")
    logging.getLogger("seglight.plan").setLevel(logging.INFO)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    spacing = OmegaConf.to_container(cfg.spacing_um) if cfg.spacing_um else None
    plan = make_plan(cfg.data.path, budget=cfg.budget, device=cfg.device,
                     memory_gb=cfg.memory_gb, spacing_um=spacing, clock=cfg.clock)
    command = "python -m seglight.plan " + " ".join(sys.argv[1:])
    path = save_plan(plan, cfg.out, command)
    print(plan_table(plan))
    for note in plan.notes:
        print(f"note: {note}")
    print(f"\nwrote {path}; train it with: python -m seglight.train plan={path}")


if __name__ == "__main__":
    main()
