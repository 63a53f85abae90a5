"""``model=unet_s|unet_m|unet_l``: the named sizes are what docs/train.md says they are."""

from __future__ import annotations

import pytest
from hydra.utils import instantiate

from tests.helpers.hydra_utils import compose_config

#: docs/train.md, "Model sizes": width and parameters (millions, rounded to 0.1).
DOCUMENTED = {"unet_s": (8, 1.1), "unet_m": (16, 4.4), "unet_l": (32, 17.7)}


@pytest.mark.parametrize(("name", "documented"), DOCUMENTED.items())
def test_each_size_is_a_padded_unet_xy_of_the_documented_size(name, documented, tmp_path):
    cfg = compose_config("train", [f"model={name}"], tmp_path)
    net = instantiate(cfg.model.net)
    width, millions = documented
    assert net.width == width and net.padded
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == millions
    assert net.output_shape(list(cfg.data.patch_zyx)) == tuple(cfg.data.patch_zyx)


def test_the_docs_table_names_every_size():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "train.md").read_text()
    section = text.split("## Model sizes", 1)[1].split("\n## ", 1)[0]
    for name, (width, millions) in DOCUMENTED.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{name}`"))
        assert f"| {width} |" in row and f"{millions} M" in row, row
