import csv

from seglight.curate import decision_log
from seglight.curate.decision_log import (
    COLUMNS,
    DecisionLog,
    Entry,
    fingerprint,
    read_decisions,
)


def test_log_keeps_the_last_entry_per_image_and_survives_reopening(tmp_path):
    log = DecisionLog(tmp_path / "log.csv")
    raw = tmp_path / "raw" / "a.tif"
    assert log.last(raw) is None and not log.is_done(raw)
    log.append(Entry(image="a.tif", raw=str(raw), decision="skip", status="deferred"))
    assert not log.is_done(raw)
    log.append(Entry(image="a.tif", raw=str(raw), decision="good", status="written",
                     output="img_0", exclude="all: 0,0 0,5 5,5"))
    reopened = DecisionLog(tmp_path / "log.csv")
    assert reopened.is_done(raw)
    assert reopened.last(raw).output == "img_0"
    assert reopened.last(raw).exclude == "all: 0,0 0,5 5,5"
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 3  # header + 2 rows


def test_same_file_name_in_two_folders_are_different_images(tmp_path):
    log = DecisionLog(tmp_path / "log.csv")
    log.append(Entry(image="a.tif", raw=str(tmp_path / "one" / "a.tif"), decision="bad",
                     status="rejected"))
    assert log.is_done(tmp_path / "one" / "a.tif")
    assert not log.is_done(tmp_path / "two" / "a.tif")


def test_decisions_from_a_spreadsheet_csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("\ufeffimage,decision,note\ncell.01,GOOD,x\nb.ome.tif,bad,\n,good,\n",
                    encoding="utf-8")
    decisions = read_decisions(path)
    assert sorted(decisions) == ["b", "cell.01"]
    assert decisions["cell.01"].decision == "good"


OLD_HEADER = "image,decision,status,raw,output,exclude,merge,mode,message,time\n"


def test_fingerprint_follows_content_not_name(tmp_path):
    a, b, c = tmp_path / "a.tif", tmp_path / "b.tif", tmp_path / "c.tif"
    a.write_bytes(b"x" * 1000)
    b.write_bytes(b"x" * 1000)
    c.write_bytes(b"x" * 999 + b"y")
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    assert fingerprint(a).startswith("1000:")


def test_fingerprint_of_a_large_file_reads_samples_and_sees_them(tmp_path):
    size = 40 * (1 << 20)
    path = tmp_path / "big.tif"
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: no 40 MiB written
    before = fingerprint(path)

    def poke(offset):
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(b"\x01")
        value = fingerprint(path)
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(b"\x00")
        return value

    assert poke(10) != before  # head
    assert poke(size - 10) != before  # tail
    assert poke(decision_log.END_BYTES + 10) != before  # the first inner window
    # Between two inner windows nothing is read: the documented blind spot.
    log = decision_log
    step = (size - 2 * log.END_BYTES - log.INNER_BYTES) // (log.INNER_WINDOWS - 1)
    assert poke(decision_log.END_BYTES + decision_log.INNER_BYTES + step // 4) == before
    assert fingerprint(path) == before


def test_a_moved_raw_file_is_found_by_content(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    (old / "a.tif").write_bytes(b"raw voxels a")
    (old / "b.tif").write_bytes(b"raw voxels b")
    log = DecisionLog(tmp_path / "log.csv")
    log.append(Entry(image="a.tif", raw=str(old / "a.tif"), decision="good", status="written",
                     output="img_0"))
    log.append(Entry(image="b.tif", raw=str(old / "b.tif"), decision="skip", status="deferred"))
    assert log.last(old / "a.tif").fingerprint == fingerprint(old / "a.tif")
    old.rename(new)
    (new / "a.tif").rename(new / "renamed.tif")
    (new / "fresh.tif").write_bytes(b"raw voxels c")  # same size, new content
    reopened = DecisionLog(tmp_path / "log.csv")
    assert reopened.is_done(new / "renamed.tif")
    assert reopened.last(new / "renamed.tif").output == "img_0"
    assert not reopened.is_done(new / "b.tif")
    assert reopened.last(new / "b.tif").status == "deferred"
    assert reopened.last(new / "fresh.tif") is None
    assert reopened.last(new / "missing.tif") is None


def test_an_old_log_without_fingerprints_resumes_by_path_and_is_upgraded(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.tif").write_bytes(b"raw voxels a")
    path = tmp_path / "log.csv"
    path.write_text(OLD_HEADER + f"a.tif,take,written,{raw / 'a.tif'},img_0,,,takeall,,t0\n"
                    + f"gone.tif,bad,rejected,{tmp_path / 'gone.tif'},,,,sorting,,t1\n")
    log = DecisionLog(path)
    assert log.is_done(raw / "a.tif") and log.is_done(tmp_path / "gone.tif")
    assert read_decisions(path)["a"].decision == "take"  # still a valid decisions file
    log.append(Entry(image="b.tif", raw=str(raw / "b.tif"), decision="skip", status="deferred"))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS
    assert [r["image"] for r in rows] == ["a.tif", "gone.tif", "b.tif"]
    assert rows[0]["output"] == "img_0" and rows[0]["time"] == "t0"
    assert rows[0]["fingerprint"] == fingerprint(raw / "a.tif")
    assert rows[1]["fingerprint"] == ""  # its raw file is gone: nothing to fingerprint
    raw.rename(tmp_path / "moved")
    assert DecisionLog(path).is_done(tmp_path / "moved" / "a.tif")
