"""The decision log: every curation decision, one CSV row, appended as it is made.

The log is what makes a curation session resumable: an image whose last row says
``written`` or ``rejected`` is done and is not shown or processed again; an image that was
``deferred`` (Skip), ``failed``, or never reached comes back next time. A row is flushed
and synced to disk before the next image starts, so closing napari or killing a script
loses at most the image on screen.

The log is also a valid *decisions file* for the headless Curator: its ``image``,
``decision``, ``exclude`` and ``merge`` columns are exactly the ones a hand-written
decisions file has, so a napari session can be replayed from a script.

Columns:

- ``image``: the raw image's file name;
- ``decision``: ``good`` | ``bad`` | ``skip`` (``take`` in take-all mode);
- ``status``: ``writing`` | ``written`` | ``rejected`` | ``deferred`` | ``failed``;
- ``output``: the triplet name (``img_12``) for ``writing`` / ``written``;
- ``exclude``, ``merge``: polygons (see :func:`seglight.curate.engine.parse_polygons`);
- ``raw``: the raw image's absolute path (the key: two folders may share file names);
- ``mode``, ``time``, ``message``: for people reading the log.
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from seglight.errors import SeglightError

#: Statuses after which an image is never processed again.
FINAL_STATUSES = ("written", "rejected")

DECISIONS = ("good", "bad", "skip", "take")


@dataclass
class Entry:
    """One row of the decision log."""

    image: str
    decision: str
    status: str
    raw: str = ""
    output: str = ""
    exclude: str = ""
    merge: str = ""
    mode: str = ""
    message: str = ""
    time: str = ""


COLUMNS = [f.name for f in fields(Entry)]


class DecisionLog:
    """Append-only CSV of decisions, keyed by the raw image's absolute path.

    Args:
        path: the CSV file; created with its header on the first :meth:`append`.

    Raises:
        SeglightError: the file exists but is not a decision log (no ``image``/``status``
            columns), naming the file.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._last: dict[str, Entry] = {}
        if self.path.exists():
            for entry in _read_rows(self.path, required=("image", "decision", "status")):
                self._last[entry.raw or entry.image] = entry

    def last(self, raw: str | Path) -> Entry | None:
        """The latest entry for a raw image, or ``None`` if it was never reached."""
        return self._last.get(str(Path(raw).resolve()))

    def is_done(self, raw: str | Path) -> bool:
        """Whether the image was written or rejected (so it is not curated again)."""
        entry = self.last(raw)
        return entry is not None and entry.status in FINAL_STATUSES

    def entries(self) -> list[Entry]:
        """The latest entry of every image in the log."""
        return list(self._last.values())

    def append(self, entry: Entry) -> None:
        """Append one row and sync it to disk before returning."""
        entry.raw = str(Path(entry.raw).resolve()) if entry.raw else entry.raw
        entry.time = entry.time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(asdict(entry))
            f.flush()
            os.fsync(f.fileno())
        self._last[entry.raw or entry.image] = entry


def read_decisions(path: str | Path) -> dict[str, Entry]:
    """Read a decisions file: the last row per image, keyed by the image's file stem.

    A decisions file is a CSV with at least the columns ``image`` (file name or stem of a
    raw image) and ``decision`` (``good``, ``bad`` or ``skip``), and optionally ``exclude``
    and ``merge`` (polygons). A decision log written by the Curator is one.

    Raises:
        SeglightError: missing file or columns, or an unknown decision, naming the file and
            the line.
    """
    from seglight.io.image import image_stem, is_image_file

    path = Path(path)
    if not path.is_file():
        raise SeglightError(f"{path}: no such decisions file; check decisions=")
    decisions: dict[str, Entry] = {}
    for entry in _read_rows(path, required=("image", "decision")):
        if entry.decision not in DECISIONS:
            raise SeglightError(
                f"{path}, image {entry.image}: decision {entry.decision!r} is not one of "
                f"good, bad, skip"
            )
        # "cell.01" is a stem, not a file "cell" with suffix ".01".
        stem = image_stem(entry.image) if is_image_file(entry.image) else entry.image
        decisions[stem] = entry
    return decisions


def _read_rows(path: Path, required: tuple[str, ...]) -> list[Entry]:
    # utf-8-sig: spreadsheet programs start their CSV files with a byte-order mark.
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in required if c not in columns]
        if missing:
            raise SeglightError(
                f"{path}: missing column(s) {missing} (found {columns}); a decisions file is a "
                "CSV with a header line: image,decision[,exclude,merge]"
            )
        known = set(COLUMNS)
        rows = []
        for row in reader:
            values = {
                k.strip(): (v or "").strip() for k, v in row.items() if k and k.strip() in known
            }
            if not values.get("image"):
                continue
            values.setdefault("status", "")
            values["decision"] = values.get("decision", "").lower()
            rows.append(Entry(**values))
    return rows
