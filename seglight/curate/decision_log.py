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
- ``exclude``, ``merge``: polygons (see :func:`seglight.curate.regions.parse_polygons`);
- ``raw``: the raw image's absolute path (the key: two folders may share file names);
- ``mode``, ``time``, ``message``: for people reading the log;
- ``fingerprint``: the raw file's content fingerprint (:func:`fingerprint`), so an image is
  still recognised after its folder was moved or renamed;
- ``uncertainty``: the image's uncertainty score when the session ordered images by it
  (``order=uncertainty``, :mod:`seglight.curate.uncertainty`), else empty.

An image is looked up by its absolute path first, then by its fingerprint: a raw folder
copied to a cluster, renamed or mounted elsewhere resumes where it stopped, and a moved
image that was written is never written again under a new number. A file whose content is
identical to an image logged earlier (a byte-for-byte copy under another name) counts as
that image, and is done if it is. Logs written before the fingerprint column existed still
work by path; the first :meth:`DecisionLog.upgrade` (done by the Curator on opening)
rewrites them with the column, filled in for the raw files still at their logged paths
(and with an empty ``uncertainty`` column).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from seglight.errors import SeglightError

#: Statuses after which an image is never processed again.
FINAL_STATUSES = ("written", "rejected")

DECISIONS = ("good", "bad", "skip", "take")

_MIB = 1 << 20
#: Files up to this size are hashed whole.
WHOLE_FILE_BYTES = 16 * _MIB
#: Bytes hashed at each end of a larger file (headers and metadata live there).
END_BYTES = 4 * _MIB
#: Windows of ``INNER_BYTES`` each, spread evenly between the ends of a larger file.
INNER_WINDOWS = 8
INNER_BYTES = _MIB


def fingerprint(path: str | Path) -> str:
    """A content fingerprint of a raw image file, cheap on multi-GB files.

    The fingerprint is ``"<size in bytes>:<BLAKE2b-128 hex digest>"``. A file of up to
    16 MiB is hashed whole; a larger one by its first and last 4 MiB and 8 windows of 1 MiB
    spread evenly in between, so at most 16 MiB is read whatever the file size (a 20 GB
    stack costs the same as a 16 MiB one).

    Why sampling is enough to tell raw images apart: two different files get the same
    fingerprint only if they have the same size *and* agree byte for byte on all 16 sampled
    MiB (an accidental BLAKE2b-128 collision is ~2^-64 even among billions of files). The
    sampled ends hold the file's header and metadata (OME-XML, with acquisition time and
    UUID, sits at the start or the end of an OME-TIFF), and the sampled windows hold
    millions of voxels of camera noise, which two acquisitions never share. What sampling
    cannot see is an edit confined to the unsampled middle of one large file (a few voxels
    painted over in place); such a file counts as the image it was.

    Args:
        path: the file.

    Returns:
        The fingerprint.

    Raises:
        OSError: the file cannot be read.
    """
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        if size <= WHOLE_FILE_BYTES:
            for block in iter(lambda: f.read(_MIB), b""):
                digest.update(block)
        else:
            inner = size - 2 * END_BYTES  # > 8 MiB, so the windows below never overlap
            step = (inner - INNER_BYTES) // (INNER_WINDOWS - 1)
            windows = [(0, END_BYTES)]
            windows += [(END_BYTES + k * step, INNER_BYTES) for k in range(INNER_WINDOWS)]
            windows += [(size - END_BYTES, END_BYTES)]
            for offset, length in windows:
                f.seek(offset)
                digest.update(f.read(length))
    return f"{size}:{digest.hexdigest()}"


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
    fingerprint: str = ""
    uncertainty: str = ""


COLUMNS = [f.name for f in fields(Entry)]


class DecisionLog:
    """Append-only CSV of decisions, keyed by the raw image's absolute path, then its content.

    Args:
        path: the CSV file; created with its header on the first :meth:`append`.

    Raises:
        SeglightError: the file exists but is not a decision log (no ``image``/``status``
            columns), naming the file.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._last: dict[str, Entry] = {}
        self._by_fingerprint: dict[str, Entry] = {}
        self._sizes: set[str] = set()  # file sizes (as in fingerprints) of logged images
        self._columns: list[str] = []
        # Fingerprints by resolved path, with the (size, mtime) they were computed for.
        self._fingerprints: dict[str, tuple[int, int, str]] = {}
        self._load()

    def _load(self) -> None:
        self._last.clear()
        self._by_fingerprint.clear()
        self._sizes.clear()
        if not self.path.exists():
            return
        rows, self._columns = _read_rows(self.path, required=("image", "decision", "status"))
        for entry in rows:
            self._remember(entry)

    def _remember(self, entry: Entry) -> None:
        self._last[entry.raw or entry.image] = entry
        if entry.fingerprint:
            self._by_fingerprint[entry.fingerprint] = entry
            self._sizes.add(entry.fingerprint.partition(":")[0])

    def fingerprint_of(self, raw: str | Path) -> str:
        """The raw file's :func:`fingerprint` (cached while its size and mtime hold), or
        ``""`` if it cannot be read (the Curator then reports the unreadable file itself)."""
        key = str(Path(raw).resolve())
        try:
            stat = os.stat(key)
            cached = self._fingerprints.get(key)
            if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
                return cached[2]
            value = fingerprint(key)
        except OSError:
            return ""
        self._fingerprints[key] = (stat.st_size, stat.st_mtime_ns, value)
        return value

    def last(self, raw: str | Path) -> Entry | None:
        """The latest entry for a raw image, or ``None`` if it was never reached.

        The image is looked up by its absolute path; if that is not in the log (the folder
        was moved or renamed), by its content fingerprint.
        """
        entry = self._last.get(str(Path(raw).resolve()))
        if entry is not None or not self._by_fingerprint:
            return entry
        try:
            size = os.stat(raw).st_size
        except OSError:
            return None
        # The size is part of the fingerprint: no logged file of this size, nothing to hash.
        if str(size) not in self._sizes:
            return None
        return self._by_fingerprint.get(self.fingerprint_of(raw))

    def is_done(self, raw: str | Path) -> bool:
        """Whether the image was written or rejected (so it is not curated again)."""
        entry = self.last(raw)
        return entry is not None and entry.status in FINAL_STATUSES

    def entries(self) -> list[Entry]:
        """The latest entry of every image in the log."""
        return list(self._last.values())

    def upgrade(self) -> None:
        """Rewrite a log from an older seglight with the current columns.

        Rows keep their order and values; the new ``fingerprint`` column is filled in for
        raw files still at their logged path, so a later move of those folders is
        recognised too (a new ``uncertainty`` column stays empty: it was not scored). The
        file is replaced atomically; a current log is left alone.
        """
        if not self.path.exists() or self._columns == COLUMNS:
            return
        rows, _ = _read_rows(self.path, required=("image", "decision", "status"))
        for entry in rows:
            if entry.raw and not entry.fingerprint:
                entry.fingerprint = self.fingerprint_of(entry.raw)
        partial = self.path.with_name(f".{self.path.name}.upgrade")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(asdict(entry) for entry in rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, self.path)
        self._load()

    def append(self, entry: Entry) -> None:
        """Append one row and sync it to disk before returning."""
        self.upgrade()  # an old header would leave the new column unnamed
        entry.raw = str(Path(entry.raw).resolve()) if entry.raw else entry.raw
        entry.time = entry.time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if entry.raw and not entry.fingerprint:
            entry.fingerprint = self.fingerprint_of(entry.raw)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if new:
                writer.writeheader()
            writer.writerow(asdict(entry))
            f.flush()
            os.fsync(f.fileno())
        self._columns = list(COLUMNS)
        self._remember(entry)


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
    rows, _ = _read_rows(path, required=("image", "decision"))
    for entry in rows:
        if entry.decision not in DECISIONS:
            raise SeglightError(
                f"{path}, image {entry.image}: decision {entry.decision!r} is not one of "
                f"good, bad, skip"
            )
        # "cell.01" is a stem, not a file "cell" with suffix ".01".
        stem = image_stem(entry.image) if is_image_file(entry.image) else entry.image
        decisions[stem] = entry
    return decisions


def _read_rows(path: Path, required: tuple[str, ...]) -> tuple[list[Entry], list[str]]:
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
    return rows, columns
