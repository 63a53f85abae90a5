from seglight.curate.record import DecisionLog, Entry, read_decisions


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
