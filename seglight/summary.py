"""The counts a batch run ends with: the predict runner and the Curator report the same way."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Summary:
    """Counts of a run over many images.

    Attributes:
        written: images whose outputs were written.
        skipped: images left alone (outputs existed, or a person skipped or rejected them).
        failed: images that could not be processed.
        failures: one line per failure, naming the file and what to do.
        already_done: images done in an earlier session (the Curator's resumed sessions).
    """

    written: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    already_done: int = 0

    def add(self, other: Summary) -> None:
        """Add the counts of ``other`` (another file, another process) to these."""
        self.written += other.written
        self.skipped += other.skipped
        self.failed += other.failed
        self.failures.extend(other.failures)
        self.already_done += other.already_done

    def line(self) -> str:
        """``N written, M skipped, K failed`` (and the earlier sessions' count, if any)."""
        line = f"{self.written} written, {self.skipped} skipped, {self.failed} failed"
        if self.already_done:
            line += f" ({self.already_done} already done in an earlier session)"
        return line

    def __str__(self) -> str:
        return self.line()
