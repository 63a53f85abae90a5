"""The Lightning predict loop as file distributor: each file to exactly one process."""

from __future__ import annotations

from seglight.predict.lightning import FileList, FilesDataModule, StridedSampler


def test_strided_sampler_splits_files_without_repeats_or_padding():
    parts = [list(StridedSampler(10, rank, 4)) for rank in range(4)]
    assert parts == [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]]
    assert sorted(sum(parts, [])) == list(range(10))
    assert [len(StridedSampler(10, rank, 4)) for rank in range(4)] == [3, 3, 2, 2]


def test_the_datamodule_serves_paths_one_at_a_time(tmp_path):
    paths = [tmp_path / "a.tif", tmp_path / "b.tif"]
    assert FileList(paths)[1] == str(paths[1]) and len(FileList(paths)) == 2
    loader = FilesDataModule(paths).predict_dataloader()  # no trainer: one process
    assert list(loader) == [str(p) for p in paths]
