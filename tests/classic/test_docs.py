"""docs/classic-steps.md is the definition the classic modules' docstrings point to: it
lists every workflow with the chain its config file states."""

from __future__ import annotations

from seglight import CONF_DIR
from seglight.classic import list_workflows
from tests.helpers.cli_utils import REPO

STEPS_DOC = REPO / "docs" / "classic-steps.md"


def _config_header(name: str) -> str:
    """The leading comment lines of ``conf/model/classic/<name>.yaml``, joined."""
    lines = []
    for line in (CONF_DIR / "model" / "classic" / f"{name}.yaml").read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return " ".join(lines)


def test_every_workflow_is_listed_with_its_config_header():
    text = STEPS_DOC.read_text()
    missing = [name for name in list_workflows()
               if f"- `{name}`: {_config_header(name)}" not in text]
    assert not missing, f"docs/classic-steps.md lacks (or states otherwise) {missing}"


def test_every_notation_of_the_headers_is_defined():
    text = STEPS_DOC.read_text()
    defined = text.split("## The 26 workflows")[0]
    for token in ("N[a, b]", "N[v]", "N4[a, b, c, d]", "G3(sigma)", "G2(sigma)", "EPS",
                  "F3(sigma, cutoff)", "F2(sigma, cutoff)", "S3(sigma, cutoff)",
                  "S2(sigma, cutoff)", "MO(method", "SF(n)", "SF2D(n)", "Watershed cut",
                  "Middle slice", "thinning", "AT(method, adjust)"):
        assert token in defined, token


def test_the_modules_point_to_it():
    for module in ("classic/filters.py", "classic/morphology.py", "classic/blocks.py",
                   "classic/workflows/objects.py", "classic/workflows/filament_spot.py",
                   "normalization.py"):
        assert "docs/classic-steps.md" in (REPO / "seglight" / module).read_text(), module
