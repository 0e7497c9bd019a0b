"""Tests for model.data: layouts, robust loading, the transforms, deterministic unaligned pairs, workers."""

from __future__ import annotations

import os

import pytest
import torch
from PIL import Image

from core.config import ConfigError
from core.images import load_rgb
from model.data import (
    EpochSampler,
    UnalignedDataset,
    domain_dirs,
    eval_transform,
    first_batch_or_explain,
    list_images,
    make_loader,
    to_image,
    to_tensor,
    train_transform,
)
from tests.support.model_data import make_dataset
from tests.support.model_images import write_awkward


@pytest.mark.parametrize("layout", ["project", "official"])
def test_both_layouts_are_found(tmp_path, layout):
    make_dataset(tmp_path, n_train=2, n_test=1, layout=layout)
    a, b = domain_dirs(tmp_path, "train")
    assert a.name in ("A", "trainA") and len(list_images(a)[0]) == 2 and len(list_images(b)[0]) == 2


def test_missing_split_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="train/A"):
        domain_dirs(tmp_path, "train")


@pytest.mark.parametrize("name", ["odd", "gray", "rgba", "palette", "gray16", "exif"])
def test_any_image_loads_as_rgb(tmp_path, name):
    path = write_awkward(tmp_path)[name]
    im = load_rgb(path)
    assert im.mode == "RGB"
    if name == "exif":
        assert im.size == (20, 48)  # orientation applied
    if name == "rgba":
        assert im.getpixel((0, 0)) == (255, 255, 255)  # alpha 0 at the top-left: composited on white


def test_corrupt_files_are_listed_with_a_reason(tmp_path):
    write_awkward(tmp_path)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    files, skipped = list_images(tmp_path)
    assert len(files) == 6
    assert [s.path.endswith("broken.jpg") for s in skipped] == [True] and skipped[0].reason


@pytest.mark.parametrize(("w", "h", "load", "crop"), [(37, 23, 36, 32), (100, 60, 72, 64), (64, 64, 286, 256)])
def test_train_transform_shapes_and_range(w, h, load, crop):
    im = Image.new("RGB", (w, h), (255, 0, 0))
    t = train_transform(im, load, crop, torch.Generator().manual_seed(0))
    assert t.shape == (3, crop, crop) and t.min() >= -1 and t.max() <= 1
    assert t[0].mean() == pytest.approx(1.0, abs=0.02) and t[1].mean() == pytest.approx(-1.0, abs=0.02)
    assert eval_transform(im, crop).shape == (3, crop, crop)


def test_tensor_image_round_trip():
    im = Image.new("RGB", (5, 3), (10, 200, 99))
    assert to_image(to_tensor(im)).getpixel((2, 1)) == (10, 200, 99)


def test_pairs_are_a_pure_function_of_seed_epoch_index(tmp_path):
    make_dataset(tmp_path, n_train=5, n_test=1, size=(40, 40))
    a, b = domain_dirs(tmp_path, "train")
    ds = UnalignedDataset(list_images(a)[0], list_images(b)[0], 36, 32, seed=3)
    assert torch.equal(ds[(1, 2)]["A"], ds[(1, 2)]["A"]) and torch.equal(ds[(1, 2)]["B"], ds[(1, 2)]["B"])
    assert not torch.equal(ds[(1, 2)]["A"], ds[(2, 2)]["A"]) or not torch.equal(ds[(1, 2)]["B"], ds[(2, 2)]["B"])


def test_sampler_splits_between_ranks_and_skips_on_resume():
    parts = []
    for rank in (0, 1):
        s = EpochSampler(10, num_replicas=2, rank=rank, seed=0)
        s.set_epoch(4)
        parts.append([i for _, i in s])
    assert sorted(parts[0] + parts[1]) == list(range(10))
    s = EpochSampler(10, seed=0, limit=6)
    s.set_epoch(4, skip=2)
    full = EpochSampler(10, seed=0, limit=6)
    full.set_epoch(4)
    assert list(s) == list(full)[2:] and len(s) == 4


def test_workers_load_the_same_batches_as_the_main_process(tmp_path):
    make_dataset(tmp_path, n_train=6, n_test=1, size=(40, 40))
    (tmp_path / "train" / "A" / "gray.png").parent.mkdir(exist_ok=True)
    Image.new("L", (41, 39), 128).save(tmp_path / "train" / "A" / "gray.png")  # mixed modes and sizes in one batch
    a, b = domain_dirs(tmp_path, "train")
    ds = UnalignedDataset(list_images(a)[0], list_images(b)[0], 36, 32, seed=0)
    batches = {}
    for workers in (0, 2):
        sampler = EpochSampler(len(ds), seed=0)
        sampler.set_epoch(1)
        loader = make_loader(ds, sampler, batch_size=3, num_workers=workers, cuda=False)
        batches[workers] = [b["A"] for b in loader]
    assert len(batches[0]) == 3
    assert all(torch.equal(x, y) for x, y in zip(batches[0], batches[2], strict=True))


class _DiesInWorkers(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if torch.utils.data.get_worker_info() is not None:
            os._exit(3)  # the worker process dies, as when it is killed for memory
        return torch.zeros(1)


def test_failing_worker_processes_are_explained():
    loader = make_loader(_DiesInWorkers(), None, batch_size=1, num_workers=1, cuda=False)
    with pytest.raises(RuntimeError, match="DataLoader workers failed.*--num-workers 0"):
        first_batch_or_explain(loader)
    assert first_batch_or_explain(make_loader(_DiesInWorkers(), None, 1, 0, cuda=False))[1] is not None
