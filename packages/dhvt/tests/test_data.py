"""Datasets and augmentation: layouts, the restricted unpickler, the vectorised crop/flip."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from pkg_dhvt.data import digits, light_augment, load_images
from pkg_shared.data import DataError, DatasetMissing
from pkg_shared.errors import UserError


def test_digits_is_upsampled_rgb():
    split = digits()
    assert split.x_train.shape[1:] == (3, 32, 32) and split.x_train.dtype == torch.uint8
    assert split.num_classes == 10 and len(split.y_train) + len(split.y_test) == 1797
    assert split.x_train.max() > 200


def _write_batch(path, n, labels_key=b"labels", seed=0):
    rng = np.random.default_rng(seed)
    d = {
        labels_key: rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
    }
    path.write_bytes(pickle.dumps(d, protocol=2))


def test_cifar10_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        _write_batch(folder / f"data_batch_{i}", 4, seed=i)
    _write_batch(folder / "test_batch", 3)
    split = load_images(str(tmp_path))
    assert split.x_train.shape == (20, 3, 32, 32) and split.x_test.shape == (3, 3, 32, 32)
    assert split.num_classes == 10


def test_cifar100_python_files(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _write_batch(folder / "train", 5, b"fine_labels")
    _write_batch(folder / "test", 2, b"fine_labels")
    split = load_images(str(folder))
    assert split.num_classes == 100 and split.x_train.shape == (5, 3, 32, 32)


def test_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match="refusing"):
        load_images(str(tmp_path))


def test_image_folder_layout(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for c in ("cat", "dog"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (40, 40), (i * 50, 0, 0)).save(tmp_path / split / c / f"{i}.png")
    split = load_images(str(tmp_path), size=32)
    assert split.x_train.shape == (6, 3, 32, 32) and split.num_classes == 2


def test_image_folder_with_a_damaged_image(tmp_path):
    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
        Image.new("RGB", (32, 32)).save(tmp_path / split / "cat" / "0.png")
    data = (tmp_path / "train" / "cat" / "0.png").read_bytes()
    (tmp_path / "train" / "cat" / "0.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="0.png"):
        load_images(str(tmp_path))


def test_wrong_layout_says_what_is_expected(tmp_path):
    (tmp_path / "random.txt").write_text("x")
    with pytest.raises(UserError, match="expected one of"):
        load_images(str(tmp_path))
    with pytest.raises(UserError, match="unknown dataset"):
        load_images(str(tmp_path / "absent"))


def test_light_augment_is_a_shifted_or_flipped_crop():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    out = light_augment(x, g, pad=2)
    assert out.shape == x.shape
    g = torch.Generator().manual_seed(0)
    off = torch.randint(0, 5, (2, 2), generator=g)
    flip = torch.rand(2, generator=g) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):
        crop = padded[b, :, off[0, b] : off[0, b] + 8, off[1, b] : off[1, b] + 8]
        if flip[b]:
            crop = crop.flip(-1)
        assert torch.equal(out[b], crop)


@pytest.mark.data
def test_data_root_subsets(data_dir):
    c10 = load_images("cifar10-subset", data_dir)
    assert c10.x_train.shape == (5000, 3, 32, 32) and c10.x_test.shape == (2000, 3, 32, 32)
    fm = load_images("fashion-mnist-subset", data_dir)
    assert fm.x_train.shape == (12000, 3, 32, 32) and fm.x_train[:, :, :2].max() == 0


def _cifar100_root(root, n_train=64, n_test=32, bad_label=False):
    """A tiny copy of CIFAR-100's public layout: cifar-100-python/{train,test,meta} (python pickles)."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 100, n).tolist()
        if bad_label:
            labels[3] = 100
        d = {
            b"filenames": [b"x.png"] * n,
            b"fine_labels": labels,
            b"coarse_labels": [0] * n,
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        }
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))
    meta = {b"fine_label_names": [f"c{i}".encode() for i in range(100)], b"coarse_label_names": []}
    (folder / "meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


@pytest.fixture
def small_cifar100(monkeypatch):
    """The loader checks the public file sizes (50,000 / 10,000); the tiny copies hold 64 / 32."""
    import pkg_dhvt.data

    monkeypatch.setattr(pkg_dhvt.data, "CIFAR100_SIZES", {"train": 64, "test": 32})


def test_cifar100_from_the_data_root(tmp_path, small_cifar100):
    _cifar100_root(tmp_path)
    split = load_images("cifar100", tmp_path)
    assert split.num_classes == 100 and split.x_train.shape == (64, 3, 32, 32) and split.name == "cifar100"


def test_cifar100_checks(tmp_path, monkeypatch):
    # absent: the message names the files expected and the public source
    with pytest.raises(DatasetMissing, match="cifar-100-python.tar.gz"):
        load_images("cifar100", tmp_path)
    _cifar100_root(tmp_path)
    with pytest.raises(DataError, match="the public file holds 50000"):  # the real sizes are checked
        load_images("cifar100", tmp_path)


def test_cifar100_label_out_of_range(tmp_path, small_cifar100):
    _cifar100_root(tmp_path, bad_label=True)
    with pytest.raises(DataError, match=r"train.*label 100 at row 3"):
        load_images("cifar100", tmp_path)


def test_reproduce_reads_cifar100_and_refuses_a_truncated_copy(tmp_path, small_cifar100, run_cli):
    from pkg_dhvt.cli import main
    from pkg_shared.testing import read_results

    _cifar100_root(tmp_path / "root")
    argv = ["reproduce", "--scale", "smoke", "--dataset", "cifar100", "--data-dir", tmp_path / "root"]
    code, _, err = run_cli(main, *argv, "--out", tmp_path / "runs", "--quiet", "--device", "cpu")
    assert code == 0, err
    assert read_results(tmp_path / "runs", "dhvt")["measured"]["dataset"] == "cifar100"
    for name in ("train", "meta"):
        path = tmp_path / "root" / "cifar-100-python" / name
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        code, _, err = run_cli(main, *argv, "--out", tmp_path / "runs2", "--quiet", "--device", "cpu")
        assert code == 2 and f"cifar-100-python/{name}" in err and len(err.strip().splitlines()) == 1, err
        path.write_bytes(data)


def test_unpickler_refuses_object_arrays(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    d = {b"fine_labels": [0], b"data": np.array([object()], dtype=object)}
    (folder / "train").write_bytes(pickle.dumps(d, protocol=2))
    (folder / "test").write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(DataError):
        load_images(str(folder))
