"""Which curated images a run trains on, validates on and holds out for testing.

The split is deterministic (names, or every k-th image by name), so the same folder and
settings always give the same split, and it is recorded: in the run folder as ``split.json``
and in every checkpoint (key :data:`CHECKPOINT_KEY`), so that
``python -m seglight.evaluate ckpt_path=... split=test`` scores a checkpoint on exactly the
images it never saw. The record is plain data (names and numbers), so checkpoints stay
loadable with ``torch.load(weights_only=True)``.

The test images are taken first, spread over the folder like the validation ones but offset
by half a step from them; validation then takes its fraction of the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seglight.errors import ConfigError
from seglight.io.atomic import atomic_path
from seglight.io.curated import Triplet

#: The checkpoint key holding the split record.
CHECKPOINT_KEY = "seglight_split"
#: The run folder's file holding the split record.
SPLIT_FILE = "split.json"
#: The split names ``evaluate split=`` accepts.
SPLITS = ("train", "val", "test", "all")


def pick_named(triplets: Sequence[Triplet], names: Sequence[str],
               key: str) -> tuple[list[Triplet], list[Triplet]]:
    """(the others, the named ones); ``key`` names the setting in the error.

    Raises:
        ConfigError: a name that is not in the folder.
    """
    have = {t.name for t in triplets}
    missing = sorted(set(names) - have)
    if missing:
        raise ConfigError(f"{key} {missing} are not in the curated folder; it has {sorted(have)}")
    return ([t for t in triplets if t.name not in set(names)],
            [t for t in triplets if t.name in set(names)])


def hold_out_test(triplets: Sequence[Triplet], test_fraction: float,
                  test_names: Sequence[str] | None) -> tuple[list[Triplet], list[Triplet]]:
    """Split into (the rest, test) by explicit names or by a fraction.

    Raises:
        ConfigError: a name that is not in the folder, a fraction outside [0, 1), or a test
            set that would leave nothing to train on.
    """
    triplets = list(triplets)
    if not 0 <= float(test_fraction) < 1:
        raise ConfigError(f"data.test_fraction={test_fraction} must be in [0, 1)")
    if test_names:
        test = pick_named(triplets, test_names, "data.test_names")[1]
    elif test_fraction > 0:
        n = len(triplets)
        if n < 2:
            raise ConfigError(f"data.test_fraction={test_fraction} with {n} curated image(s): "
                              "at least two are needed (one to train on, one to test)")
        n_test = min(max(1, round(n * test_fraction)), n - 1)
        # Spread over the folder, half a step off the validation images' positions.
        picks = {min(n - 1, int((i + 0.5) * n / n_test)) for i in range(n_test)}
        test = [t for i, t in enumerate(triplets) if i in picks]
    else:
        return triplets, []
    rest = [t for t in triplets if t not in test]
    if not rest:
        raise ConfigError("data.test_names holds out every curated image; leave some to train on")
    return rest, test


def split_record(path: str | Path, train: Sequence[Triplet], val: Sequence[Triplet],
                 test: Sequence[Triplet], **settings: Any) -> dict[str, Any]:
    """The split as plain data: the folder, the names of each part and the settings."""
    return {"path": str(Path(path).resolve()),
            "train": [t.name for t in train], "val": [t.name for t in val],
            "test": [t.name for t in test], **settings}


def write_split(record: dict[str, Any], folder: str | Path) -> Path:
    """Write ``split.json`` into ``folder`` (atomically); returns its path."""
    path = Path(folder) / SPLIT_FILE
    with atomic_path(path, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def names_of(record: dict[str, Any] | None, split: str, all_names: Sequence[str],
             source: str) -> list[str]:
    """The image names of ``split`` (``train``, ``val``, ``test`` or ``all``) in a record.

    Args:
        record: the split recorded by training (``None`` for a checkpoint without one).
        split: the part to return; ``all`` is every image of the folder (``all_names``).
        all_names: the curated folder's images.
        source: what the record came from, for messages (a checkpoint path).

    Raises:
        ConfigError: an unknown split, no record, or an empty part (with what to do).
    """
    if split not in SPLITS:
        raise ConfigError(f"split={split}: use one of {', '.join(SPLITS)}")
    if split == "all":
        return list(all_names)
    if record is None:
        raise ConfigError(f"{source}: no split recorded (trained before seglight recorded "
                          "splits); use split=all, or retrain")
    names = list(record.get(split) or [])
    if not names:
        hint = ("train with data.test_fraction=0.25 (or data.test_names=[...]) to hold images "
                "out" if split == "test" else "use split=all")
        raise ConfigError(f"{source}: its {split} split is empty; {hint}")
    return names
