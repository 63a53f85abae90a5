"""``python -m seglight.check model=<name> [--config-dir ./myconf]``: check a network config.

Builds the network of ``conf/model/<name>.yaml`` (or of a config folder of one's own, added
with ``--config-dir``) and runs every check of the extension contract
(:func:`seglight.networks.contract.check_network`; docs/extend.md); prints a table and exits
1 if a check failed, 2 if the network cannot be built.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from seglight.cli import hydra_entry
from seglight.networks.contract import build_network, check_network, table


@hydra_entry("check")
def main(cfg: DictConfig) -> None:
    import torch
    from hydra.core.hydra_config import HydraConfig

    torch.manual_seed(0)
    model = HydraConfig.get().runtime.choices.get("model", "?")
    net = build_network(cfg.model.net)
    loss = cfg.model.get("loss") or {}
    weights = list(loss["head_weights"]) if "head_weights" in loss else None
    shapes = OmegaConf.to_container(cfg.shapes) if cfg.shapes else None
    checks = check_network(net, weights, shapes)
    print(table(model, type(net).__name__, checks), flush=True)
    if not all(c.ok for c in checks):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
