"""Where data sets live, and how an official archive is fetched: checksum first, then a safe unpack.

Nothing is half-written: a download goes to a hidden ``.part`` file that becomes the
archive only once its checksum matches, and an archive is unpacked into a hidden
temporary folder that is moved into place only once every member is out.  Members
with absolute paths, ``..`` components, links or device files are refused.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from tqdm.auto import tqdm

__all__ = ["Archive", "ChecksumError", "data_folder", "extract", "fetch"]

_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A downloaded file does not match its published checksum (it is deleted)."""


@dataclass(frozen=True)
class Archive:
    """An official archive: where it is and the checksum its publisher gives.

    Attributes
    ----------
    url : str
        ``https://...``; ``file://`` and ``http://`` work too (tests use them).
    digest : str
        Hex digest of the whole file.
    algorithm : str
        ``"md5"`` or ``"sha256"`` (whichever the publisher states).
    filename : str
        Name of the file once downloaded.
    """

    url: str
    digest: str
    algorithm: str
    filename: str


def data_folder(name: str, root: str | os.PathLike | None, hint: str) -> Path:
    """The folder of data set ``name``: ``root`` if given, else ``$TOPOSCOPE_DATA/<name>``.

    Raises
    ------
    FileNotFoundError
        When neither is given, with ``hint`` (where to get the files).
    """
    if root is not None:
        return Path(root)
    if os.environ.get("TOPOSCOPE_DATA"):
        return Path(os.environ["TOPOSCOPE_DATA"]) / name
    raise FileNotFoundError(
        f"no folder given for {name}: pass root=... or set TOPOSCOPE_DATA (the files are then read from "
        f"$TOPOSCOPE_DATA/{name}). {hint}"
    )


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(archive: Archive, folder: str | os.PathLike, *, progress: bool = True) -> Path:
    """Download ``archive`` into ``folder`` and verify its checksum; return the file's path.

    An existing file with the right checksum is reused.  The download goes to
    ``.<filename>.part`` and is renamed only when its checksum matches.

    Raises
    ------
    ChecksumError
        When the downloaded bytes do not match (the partial file is removed).
    OSError
        When the URL cannot be read (no network, wrong address).
    """
    if archive.algorithm not in ("md5", "sha256"):
        raise ValueError(f"algorithm must be 'md5' or 'sha256'; got {archive.algorithm!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / archive.filename
    if target.is_file() and file_digest(target, archive.algorithm) == archive.digest.lower():
        return target
    part = folder / f".{archive.filename}.part"
    h = hashlib.new(archive.algorithm)
    try:
        with urllib.request.urlopen(archive.url, timeout=60) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=archive.filename, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if h.hexdigest() != archive.digest.lower():
            raise ChecksumError(
                f"{archive.url}: {archive.algorithm} {h.hexdigest()} does not match the published "
                f"{archive.digest}; the download was discarded (a corrupt or tampered file, or a changed archive)"
            )
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return target


def _safe_name(name: str, source: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"{source}: refusing to unpack member {name!r} (absolute path or '..')")
    return path


def extract(archive: str | os.PathLike, folder: str | os.PathLike,
            keep: Callable[[PurePosixPath], bool] = lambda p: True) -> list[Path]:  # fmt: skip
    """Unpack the regular files of a ``.tar(.gz)`` or ``.zip`` archive into ``folder``; return their paths.

    Parameters
    ----------
    archive : path
    folder : path
        Created if needed.  Members land at their path inside the archive.
    keep : callable, optional
        Called with each member's relative path; only members it accepts are
        unpacked (e.g. only the ``.bin`` files of CIFAR-10).

    Raises
    ------
    ValueError
        On a member with an absolute path or ``..`` (path traversal), a link or
        a device file, and on a damaged archive (a zip member's CRC, or the
        gzip/bzip2/xz stream's own check, read to its end before anything is
        kept).  Nothing is written to ``folder`` in that case.
    """
    archive, folder = Path(archive), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=folder))
    written: list[PurePosixPath] = []
    try:
        try:
            _check_integrity(archive)
            written = _unpack(archive, staging, keep)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError) as err:
            raise ValueError(f"cannot unpack {archive}: {err}") from None
        for name in written:  # every member is out: move them into place
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).replace(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in written]


_STREAMS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ": lzma.open}
"""Magic bytes of a compressed tar stream, and the opener that checks it as it reads."""


def _check_integrity(archive: Path) -> None:
    """Raise where the archive's own checks fail: a zip member's CRC, or a compressed stream's CRC read to its end."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            bad = z.testzip()
        if bad is not None:
            raise ValueError(f"{archive}: member {bad!r} fails its CRC check (a damaged download?)")
        return
    head = archive.open("rb").read(6)
    opener = next((o for magic, o in _STREAMS.items() if head.startswith(magic)), None)
    if opener is not None:
        with opener(archive, "rb") as stream:
            while stream.read(_CHUNK):  # the CRC / check is verified at the end of the stream
                pass


def _members(archive: Path) -> Iterator[tuple[str, bool, Callable[[], IO[bytes]]]]:
    """``(name, is a regular file, opener)`` of each member of a zip or tar archive; links and devices refused."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ValueError(f"{archive}: refusing to unpack symbolic link {info.filename!r}")
                yield info.filename, not info.is_dir(), functools.partial(z.open, info)
        return
    with tarfile.open(archive) as t:
        for member in t:
            if member.issym() or member.islnk() or member.isdev():
                raise ValueError(f"{archive}: refusing to unpack link or device {member.name!r}")
            yield member.name, member.isfile(), functools.partial(t.extractfile, member)


def _unpack(archive: Path, staging: Path, keep: Callable[[PurePosixPath], bool]) -> list[PurePosixPath]:
    """Copy the kept regular files of ``archive`` under ``staging``; refuse unsafe members."""
    written: list[PurePosixPath] = []
    for raw_name, regular, open_member in _members(archive):
        name = _safe_name(raw_name, archive)
        if not regular or not keep(name):
            continue
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        with open_member() as src, open(staging / name, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
        written.append(name)
    return written
