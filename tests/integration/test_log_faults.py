"""Fault injection on real record logs: no single damaged byte costs an intact record.

A real run writes a log; then every byte of it is flipped in turn. A flip inside a frame may cost
that frame's record and nothing else; a flip inside the header is a CheckpointError that says
what is wrong and what to do. The same holds for logs of format 1, which are still read and
appended to.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from pathlib import Path

import pytest

from propulate import CheckpointError
from propulate.checkpoint import CheckpointLog, read_log, scan_log
from propulate.log_format import MAGIC_V1, SYNC, Gap, parse_header, scan_frames
from propulate.records import KIND_SESSION, encode_individual

from .local_run import LIMITS_3D, run_local

RECORDS = 12


def _keyed(individuals):
    return [(ind.key, ind.loss) for ind in individuals]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A real log of RECORDS records (format 3: format 2's frames), its records and spans."""
    folder = tmp_path_factory.mktemp("run")
    run_local(1, folder, generations=RECORDS)
    path = folder / "island-0-rank-0.ckpt"
    data = path.read_bytes()
    header, start = parse_header(data, path)
    assert header["format_version"] == 3
    spans = [(first - 8, end + 4) for first, end in scan_frames(data, start, 3)]
    individuals = iter(_keyed(read_log(path)[1]))
    # One entry per frame: the individual's key and loss, None for the run's session record.
    records = [None if data[first + 8] == KIND_SESSION else next(individuals) for first, _ in spans]
    assert len(_only(records)) == len(spans) - 1 == RECORDS and records[0] is None
    return data, start, spans, records


def _only(records):
    """The individuals' entries of ``records`` (without the session's)."""
    return [record for record in records if record is not None]


def _v1_log(data: bytes, start: int, spans: list[tuple[int, int]]) -> tuple[bytes, list]:
    """The same records as a log of format 1 (as Propulate 1.x-era code wrote them)."""
    header = dict(parse_header(data, Path("x"))[0], format_version=1)
    header.pop("layout", None)
    text = json.dumps(header).encode()
    out = bytearray(MAGIC_V1 + struct.pack("<I", len(text)) + text)
    v1_spans = []
    for first, end in spans:
        record = data[first + 8 : end - 4]
        frame_start = len(out)
        out += struct.pack("<I", len(record)) + record + struct.pack("<I", zlib.crc32(record))
        v1_spans.append((frame_start, len(out)))
    return bytes(out), v1_spans


def _flipped(data: bytes, offset: int, mask: int = 0xFF) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= mask
    return bytes(damaged)


def _check_every_flip(path, data, start, spans, records, offsets, caplog):
    for offset in offsets:
        path.write_bytes(_flipped(data, offset))
        if offset < start:
            with pytest.raises(CheckpointError) as raised:
                read_log(path)
            message = str(raised.value)
            assert str(path) in message, message
            assert "header is damaged" in message or "bad magic bytes" in message, message
            assert "Restore the file from a backup" in message, message
            continue
        (hit,) = [i for i, (first, end) in enumerate(spans) if first <= offset < end]
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="propulate"):
            contents = scan_log(path)
        expected = _only(records[:hit] + records[hit + 1 :])
        got = _keyed(contents.individuals)
        # 0 intact records lost: every record whose frame was not touched comes back.
        assert got == expected, (offset, hit, len(got))
        (gap,) = contents.gaps
        assert gap.start == spans[hit][0] and gap.records == 1, (offset, gap)
        if hit < len(spans) - 1:  # the last frame damaged reads as a torn tail
            assert f"{path}: {spans[hit][1] - spans[hit][0]} damaged byte(s) at offset " \
                   f"{spans[hit][0]} skipped; 1 record(s) lost" in caplog.text  # fmt: skip


def test_no_single_flipped_byte_costs_an_intact_record(written, tmp_path, caplog):
    data, start, spans, records = written
    path = tmp_path / "island-0-rank-0.ckpt"
    _check_every_flip(path, data, start, spans, records, range(len(data)), caplog)


def test_other_flips_of_the_length_and_the_sync_marker_cost_one_record(written, tmp_path):
    data, _, spans, records = written
    path = tmp_path / "island-0-rank-0.ckpt"
    first = spans[4][0]
    for offset in range(first, first + 8):  # the sync marker and the length
        for mask in (0x01, 0x80, 0x10):
            path.write_bytes(_flipped(data, offset, mask))
            assert _keyed(read_log(path)[1]) == _only(records[:4] + records[5:]), (offset, mask)


def test_format_1_logs_are_read_resynchronized_and_appended_to(written, tmp_path, caplog):
    data, start, spans, records = written
    old, old_spans = _v1_log(data, start, spans)
    old_start = old_spans[0][0]
    path = tmp_path / "island-0-rank-0.ckpt"
    path.write_bytes(old)
    assert _keyed(read_log(path)[1]) == _only(records)
    # Every byte of the header and of three frames (the first, a middle and the last one).
    offsets = [*range(old_start), *(o for i in (0, 5, RECORDS - 1) for o in range(*old_spans[i]))]
    _check_every_flip(path, old, old_start, old_spans, records, offsets, caplog)

    # Appending to a format-1 log with a torn tail keeps its format and its bytes.
    path.write_bytes(old[:-5])
    store = CheckpointLog(tmp_path, _space(), 0, 0)
    individuals = read_log(path)[1]
    store.open()
    store.append_record(encode_individual(individuals[0]))
    store.close()
    assert path.read_bytes().startswith(old[:-5])
    contents = scan_log(path)
    assert contents.version == 1
    individuals = _only(records)
    assert _keyed(contents.individuals) == individuals[:-1] + individuals[:1]
    assert len(contents.sessions) == 2  # the first run's and the appending one's


def _space():
    from propulate.search_space import SearchSpace

    return SearchSpace(LIMITS_3D)


def test_a_damaged_header_length_is_an_error_not_a_restart_at_generation_0(tmp_path):
    run_local(1, tmp_path, generations=6)
    path = tmp_path / "island-0-rank-0.ckpt"
    data = path.read_bytes()
    length_at = data.index(b"\n") + 1  # the u32 after the magic bytes
    for offset, mask in [(length_at, 0x01), (length_at + 1, 0xFF), (length_at + 3, 0x01)]:
        damaged = _flipped(data, offset, mask)
        path.write_bytes(damaged)
        with pytest.raises(CheckpointError, match="header is damaged"):
            run_local(1, tmp_path, generations=10)
        assert path.read_bytes() == damaged  # nothing truncated, nothing rewritten


def test_a_torn_tail_is_kept_and_the_records_appended_after_it_are_read(tmp_path, caplog):
    run_local(1, tmp_path, generations=5)
    path = tmp_path / "island-0-rank-0.ckpt"
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # a crash in the middle of the last write
    with caplog.at_level(logging.WARNING, logger="propulate"):
        propulators = run_local(1, tmp_path, generations=8)
    assert "ends with an incomplete record" in caplog.text
    assert path.read_bytes().startswith(data[:-7])  # opened for appending only
    contents = scan_log(path)
    assert [ind.generation for ind in contents.individuals] == list(range(8))
    assert len(propulators[0].population) == 8
    (gap,) = contents.gaps
    assert isinstance(gap, Gap) and not gap.at_end and gap.records == 1
    assert data[gap.start : gap.start + 4] == SYNC


def test_logs_of_the_expected_space_are_read_without_parsing_their_space(
    written, tmp_path, monkeypatch
):
    """At start every rank reads every log of its island: comparing the header's space text
    is enough there (parsing it cost about 1 ms per log: 4 s per rank at 4,096 ranks)."""
    data, _, _, records = written
    path = tmp_path / "island-0-rank-0.ckpt"
    path.write_bytes(data)
    space = read_log(path)[1][0].search_space

    def no_parsing(*args, **kwargs):
        raise AssertionError("the header's search space was parsed")

    monkeypatch.setattr("propulate.checkpoint.SearchSpace", no_parsing)
    assert _keyed(scan_log(path, space).individuals) == _only(records)
    log = CheckpointLog(tmp_path, space, island=0, rank=1)
    assert _keyed(log.load_island()) == _only(records)
    monkeypatch.undo()
    other = type(space)({**LIMITS_3D, "a": (-6.0, 5.0)})
    with pytest.raises(CheckpointError, match="was written for the search space"):
        scan_log(path, other)
