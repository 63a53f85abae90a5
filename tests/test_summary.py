"""One summary of a batch run, for predict and curate alike."""

from __future__ import annotations

from seglight.summary import Summary


def test_summaries_add_up_and_read_as_one_line():
    total = Summary()
    total.add(Summary(written=2, skipped=1))
    total.add(Summary(failed=1, failures=["a.tif: broken"], already_done=3))
    assert (total.written, total.skipped, total.failed, total.already_done) == (2, 1, 1, 3)
    assert total.failures == ["a.tif: broken"]
    assert str(total) == total.line() == (
        "2 written, 1 skipped, 1 failed (3 already done in an earlier session)")
    assert Summary(1, 0, 0).line() == "1 written, 0 skipped, 0 failed"
