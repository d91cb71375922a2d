"""CIFAR-10 and cats-vs-dogs loaders on small files in the true formats, and the checksummed download path."""

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import warnings
import zipfile

import numpy as np
import pytest
from formats import cifar_records, write_cifar, write_pets

from toposcope.datasets import (
    Archive,
    ChecksumError,
    cats_vs_dogs,
    cifar10,
    download_cifar10,
    read_cifar_bin,
)
from toposcope.datasets.archives import extract, fetch
from toposcope.datasets.formats import write_cifar10_batch


def test_cifar10_reads_binary_batches_in_order(tmp_path):
    folder, pixels = write_cifar(tmp_path)
    color = cifar10(tmp_path, "train", grayscale=False, normalize=False)
    X, y = color.tensors
    assert X.shape == (20, 3, 32, 32) and y.tolist()[:4] == [1, 2, 3, 4]
    np.testing.assert_allclose(X.numpy(), pixels / 255.0, atol=1e-6)  # channel-major planes, row-major
    gray = cifar10(folder, "train", normalize=False).tensors[0]  # the batches folder itself works too
    luma = (0.299 * pixels[:, 0] + 0.587 * pixels[:, 1] + 0.114 * pixels[:, 2]) / 255.0
    np.testing.assert_allclose(gray[:, 0].numpy(), luma, atol=1e-5)
    assert cifar10(tmp_path, "test").tensors[0].shape == (6, 1, 32, 32)


def test_cifar10_cat_dog_subset_relabelled(tmp_path):
    write_cifar(tmp_path)
    X, y = cifar10(tmp_path, "test", classes=("cat", "dog")).tensors
    assert y.tolist() == [0, 1, 0, 1] and len(X) == 4
    assert cifar10(tmp_path, "test", classes=(5, 3)).tensors[1].tolist() == [1, 0, 1, 0]
    with pytest.raises(ValueError, match="unknown CIFAR-10 class"):
        cifar10(tmp_path, "test", classes=("cat", "wolf"))


def test_cifar10_bad_files_named(tmp_path):
    folder, _ = write_cifar(tmp_path)
    (folder / "test_batch.bin").write_bytes(cifar_records([1, 2])[0][:-10])  # truncated record
    with pytest.raises(ValueError, match=r"test_batch\.bin.*not a whole number"):
        cifar10(tmp_path, "test")
    (folder / "test_batch.bin").write_bytes(cifar_records([12])[0])  # label out of range
    with pytest.raises(ValueError, match=r"test_batch\.bin: record 0 has label 12"):
        read_cifar_bin(folder / "test_batch.bin")
    (folder / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_3\.bin.*cifar\.html"):
        cifar10(tmp_path, "train")


def test_image_sets_need_a_folder(monkeypatch):
    monkeypatch.delenv("TOPOSCOPE_DATA", raising=False)
    for loader in (cifar10, cats_vs_dogs):
        with pytest.raises(FileNotFoundError, match="TOPOSCOPE_DATA"):
            loader()


def test_toposcope_data_environment_variable(tmp_path, monkeypatch):
    write_cifar(tmp_path / "cifar10")
    monkeypatch.setenv("TOPOSCOPE_DATA", str(tmp_path))
    assert len(cifar10(split="test")) == 6


@pytest.mark.parametrize("layout", ["kaggle", "microsoft"])
def test_cats_vs_dogs_balanced_disjoint_seeded(tmp_path, layout):
    write_pets(tmp_path, layout=layout)
    train = cats_vs_dogs(tmp_path, "train", size=16, n_train=6, n_test=4, normalize=False)
    test = cats_vs_dogs(tmp_path, "test", size=16, n_train=6, n_test=4, normalize=False)
    assert train.tensors[0].shape == (6, 1, 16, 16) and test.tensors[0].shape == (4, 1, 16, 16)
    assert train.tensors[1].tolist() == [0, 0, 0, 1, 1, 1] and test.tensors[1].tolist() == [0, 0, 1, 1]
    cats, dogs = train.tensors[0][:3].mean(), train.tensors[0][3:].mean()
    assert cats < 0.35 < 0.65 < dogs  # cats were drawn dark, dogs light: labels follow the files
    # train and test never share a photo; the same seed gives the same split
    both = {tuple(x.flatten().tolist()) for x in (*train.tensors[0], *test.tensors[0])}
    assert len(both) == 10
    again = cats_vs_dogs(tmp_path, "train", size=16, n_train=6, n_test=4, normalize=False)
    assert (again.tensors[0] == train.tensors[0]).all()


def test_cats_vs_dogs_bad_input(tmp_path):
    write_pets(tmp_path, n=3)
    with pytest.raises(ValueError, match="fewer than the 4 needed"):
        cats_vs_dogs(tmp_path, n_train=4, n_test=4)
    with pytest.raises(ValueError, match="even"):
        cats_vs_dogs(tmp_path, n_train=3, n_test=2)
    (tmp_path / "dog.1.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match=r"dog\.1\.jpg: cannot read"):
        cats_vs_dogs(tmp_path, n_train=4, n_test=2, seed=0)
    write_pets(tmp_path / "more", n=4)
    (tmp_path / "more" / "dog.1.jpg").write_bytes(b"not a jpeg")
    for seed in range(20):  # a seed whose training dogs meet the unreadable one
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = cats_vs_dogs(tmp_path / "more", n_train=4, n_test=2, seed=seed, skip_unreadable=True)
        if caught:
            break
    assert "skipped 1 unreadable" in str(caught[0].message)
    assert data.tensors[1].tolist() == [0, 0, 1, 1]  # the next dog took the unreadable one's place
    with pytest.raises(FileNotFoundError, match="no cat and dog images"):
        cats_vs_dogs(tmp_path / "empty")


def cifar_archive(tmp_path, extra=None):
    source = tmp_path / "source"
    write_cifar(source)
    path = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        t.add(source / "cifar-10-batches-bin", arcname="cifar-10-batches-bin")
        if extra:
            info = tarfile.TarInfo(extra)
            info.size = 3
            t.addfile(info, io.BytesIO(b"bad"))
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_checksum_then_unpacks(tmp_path):
    path, md5 = cifar_archive(tmp_path)
    root = tmp_path / "data"
    archive = Archive(path.as_uri(), md5, "md5", "cifar-10-binary.tar.gz")
    folder = download_cifar10(root, archive, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    assert len(cifar10(root, "test")) == 6


def test_download_over_http_with_wrong_checksum_leaves_nothing(tmp_path):
    path, md5 = cifar_archive(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
        root = tmp_path / "data"
        bad = Archive(url, "0" * 32, "md5", "cifar-10-binary.tar.gz")
        with pytest.raises(ChecksumError, match="does not match"):
            fetch(bad, root, progress=False)
        assert list(root.iterdir()) == []  # no partial file, nothing unpacked
        good = Archive(url, md5, "md5", "cifar-10-binary.tar.gz")
        assert fetch(good, root, progress=False).read_bytes() == path.read_bytes()
    finally:
        server.shutdown()


@pytest.mark.parametrize("member", ["../escape.bin", "/abs/escape.bin"])
def test_unpack_refuses_path_traversal_and_writes_nothing(tmp_path, member):
    path, _ = cifar_archive(tmp_path, extra=member)
    root = tmp_path / "out"
    with pytest.raises(ValueError, match="refusing to unpack"):
        extract(path, root)
    assert list(root.iterdir()) == [] and not (tmp_path / "escape.bin").exists()


def test_unpack_refuses_links_and_reads_zip(tmp_path):
    path = tmp_path / "link.tar"
    with tarfile.open(path, "w") as t:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(ValueError, match="link"):
        extract(path, tmp_path / "out")
    zpath = tmp_path / "pets.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("PetImages/Cat/0.jpg", b"x")
        z.writestr("PetImages/readme.txt", b"y")
    written = extract(zpath, tmp_path / "z", keep=lambda p: p.suffix == ".jpg")
    assert [p.relative_to(tmp_path / "z").as_posix() for p in written] == ["PetImages/Cat/0.jpg"]
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="cannot unpack"):
        extract(tmp_path / "junk.tar.gz", tmp_path / "j")


def test_writers_round_trip_through_the_loaders(tmp_path):
    _, pixels = cifar_records([1, 2, 3])
    write_cifar10_batch(tmp_path / "b.bin", pixels, np.array([1, 2, 3]))
    images, labels = read_cifar_bin(tmp_path / "b.bin")
    assert (images == pixels).all() and labels.tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="labels are 0-9"):
        write_cifar10_batch(tmp_path / "c.bin", pixels, np.array([1, 2, 10]))


def test_pet_images_of_every_depth_read_by_their_true_range(tmp_path):
    """A 16-bit grayscale PNG at mid-grey reads mid-grey (it read white, clipped at 255); a palette by its colours."""
    from PIL import Image

    from toposcope.datasets.pets import _read

    Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16)).save(tmp_path / "deep.png")
    Image.fromarray(np.full((8, 8), 128, dtype=np.uint8)).save(tmp_path / "byte.png")
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 128, 128, 128] + [0] * 762)
    palette.save(tmp_path / "palette.png")
    for name in ("deep.png", "byte.png", "palette.png"):
        assert np.all(np.abs(_read(tmp_path / name, 4).astype(int) - 128) <= 1), name


def test_unreadable_photos_never_let_train_and_test_share_one(tmp_path):
    """Two readable cats of four, three needed: training takes both, so testing would reuse one; refused."""
    write_pets(tmp_path, n=3)
    (tmp_path / "cat.0.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "cat.9.jpg").write_bytes(b"not a jpeg")
    for split in ("train", "test"):
        with pytest.raises(ValueError, match=r"push the train and test splits into each other \(1 photos shared"):
            cats_vs_dogs(tmp_path, split, n_train=4, n_test=2, seed=0, skip_unreadable=True)


def test_unpack_refuses_archives_whose_own_checks_fail(tmp_path):
    path, _ = cifar_archive(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # the gzip trailer's CRC32: the data still inflates, only the check tells
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"cannot unpack .*CRC"):
        extract(bad, tmp_path / "out")
    assert not any((tmp_path / "out").rglob("*.bin"))
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as z:
        z.writestr("data.bin", b"0123456789" * 100)
    raw = bytearray(stored.read_bytes())
    raw[raw.index(b"0123456789") + 5] ^= 0x01  # one flipped bit inside the stored member
    stored.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"data\.bin.*CRC"):
        extract(stored, tmp_path / "out")
