"""A big export read block by block: the same bytes, hash and line ends as the file read whole, UTF-8 checked
across block ends, and the readers' results unchanged while the file is never held whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridx_nb.core.errors import InputError
from hybridx_nb.demo.tenant import generate, write_exports
from hybridx_nb.sources import stream, text
from hybridx_nb.sources.files.exports import read_exports


def test_count_newlines_agrees_with_bytes_count_across_steps_and_ranges() -> None:
    rng = np.random.default_rng(15)
    data = rng.choice(np.frombuffer(b"ab\n\r", np.uint8), size=(1 << 24) + 4099).tobytes()  # a step and a bit
    for start, stop in ((0, None), (1, None), (5, 9), ((1 << 24) - 3, (1 << 24) + 7), (100, 50), (0, 0)):
        want = data.count(b"\n", start, len(data) if stop is None else stop)
        assert stream.count_newlines(data, start, stop) == want
    assert stream.count_newlines(b"") == 0 and stream.count_newlines(b"\n") == 1


#: Characters of one to four bytes in UTF-8, and line ends.
TEXT = st.text(alphabet=st.sampled_from(["a", ",", "\n", "\r", "ß", "€", "😀"]), max_size=200)


def _read_all(reader: stream.Reader, sizes: list[int]) -> bytes:
    out, i = b"", 0
    while (block := reader.read(sizes[i % len(sizes)])).size:
        out += block.to_pybytes()
        i += 1
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=TEXT, block=st.integers(1, 17), skip=st.integers(0, 3),
       sizes=st.lists(st.sampled_from([-1, 1, 5, 64]), min_size=1, max_size=4))
def test_reader_gives_the_bytes_hash_and_line_ends_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                content: str, block: int, skip: int,
                                                                sizes: list[int]) -> None:
    data = content.encode("utf-8")
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    monkeypatch.setattr(stream, "BLOCK", block)
    digests: list[str] = []
    reader = stream.Reader(path, skip, lines=True, done=digests.append)
    out = _read_all(reader, sizes)
    try:
        data[skip:].decode("utf-8")
    except UnicodeDecodeError:  # the skip cut a character: what is left is not UTF-8
        assert reader.failed and not digests
        return
    assert not reader.failed and out == data[skip:]
    assert digests == [hashlib.sha256(data).hexdigest()]
    assert reader.newlines == data[skip:].count(b"\n") and reader.last_byte == data[skip:][-1:]


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3(", b"\xe2\x82", b"\xed\xa0\x80", b"\x80", b"\xf0\x9f\x98"])
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_reader_finds_bytes_that_are_not_utf8_wherever_a_block_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    bad: bytes, where: str) -> None:
    good = "ß€😀a\n".encode() * 5
    data = {"start": bad + good, "middle": good + bad + good, "end": good + bad}[where]
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    for block in range(1, 9):
        monkeypatch.setattr(stream, "BLOCK", block)
        reader = stream.Reader(path)
        _read_all(reader, [-1])
        assert reader.failed, (block, data)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo tenant's AD CSV and Graph JSON (2,000 users: tens of kilobytes each)."""
    files = write_exports(generate(users=2000, seed=5), tmp_path_factory.mktemp("exports"))
    return {"ad": Path(files["ad"]), "entra": Path(files["entra"])}


def test_big_files_are_streamed_never_held_whole_and_read_the_same(exports, monkeypatch) -> None:
    whole = read_exports(**exports)
    monkeypatch.setattr(stream, "BLOCK", 4096)  # every file is "big" now
    monkeypatch.setattr(text, "_read_whole", lambda path: pytest.fail(f"{path.name} was read whole"))
    streamed = read_exports(**exports)
    assert set(whole.tables) == set(streamed.tables)
    for name in whole.tables:
        pd.testing.assert_frame_equal(whole.tables[name], streamed.tables[name])
    assert whole.files == streamed.files == {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                             for p in exports.values()}


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_streamed_file_that_is_not_utf8_is_refused_with_its_line(exports, tmp_path, monkeypatch, bom) -> None:
    lines = exports["ad"].read_bytes().split(b"\n")
    lines[700] = lines[700].replace(b"CN=", b"CN=Ren\xe9 ", 1)  # Windows-1252 é, far past the first blocks
    path = tmp_path / "ad.csv"
    path.write_bytes(bom + b"\n".join(lines))
    messages = []
    for block in (1 << 26, 4096):  # in memory, then streamed
        monkeypatch.setattr(stream, "BLOCK", block)
        with pytest.raises(InputError) as caught:
            read_exports(ad=path, entra=exports["entra"])
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "line 701" in messages[0] and "Windows-1252" in messages[0]
