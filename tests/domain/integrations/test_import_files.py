"""Reading import files as they arrive: however the bytes are cut, the rows are the same."""

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescore.domain.integrations.import_files import (
    CsvReader,
    InputRow,
    NdjsonReader,
    RecordCounter,
    Unreadable,
)
from salescore.domain.integrations.imports import ImportFormat

cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12)
tables = st.lists(st.lists(cells, min_size=2, max_size=2), min_size=0, max_size=8)


def _read(reader: CsvReader | NdjsonReader, data: bytes, cuts: list[int]) -> list[InputRow]:
    rows: list[InputRow] = []
    start = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        rows += reader.feed(data[start:cut])
        start = cut
    rows += reader.feed(data[start:])
    return rows + reader.finish()


def _csv(rows: list[list[str]], delimiter: str, ending: str) -> bytes:
    out = io.StringIO()
    # A lone CR in a cell must be quoted (RFC 4180), which QUOTE_MINIMAL does only when
    # the line ends in CRLF.
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending,
                        quoting=csv.QUOTE_MINIMAL if ending == "\r\n" else csv.QUOTE_ALL)
    writer.writerow(["name", "note"])
    writer.writerows(rows)
    return out.getvalue().encode()


@given(tables, st.sampled_from([",", ";"]), st.sampled_from(["\n", "\r\n"]),
       st.lists(st.integers(min_value=0, max_value=10_000), max_size=6), st.booleans())
def test_any_cut_of_a_csv_file_reads_as_the_csv_module_reads_it(
        rows: list[list[str]], delimiter: str, ending: str, cuts: list[int], bom: bool):
    data = ("\ufeff".encode() if bom else b"") + _csv(rows, delimiter, ending)
    reader = CsvReader()
    read = _read(reader, data, cuts)
    assert reader.columns == ("name", "note")
    expected = [r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                                      delimiter=delimiter)][1:]
    expected = [r for r in expected if r]
    assert [row.input for row in read] == expected
    assert [row.row for row in read] == list(range(1, len(expected) + 1))


@given(tables, st.sampled_from([",", ";"]))
def test_the_counter_counts_the_records_of_a_file_without_blank_lines(
        rows: list[list[str]], delimiter: str):
    data = _csv(rows, delimiter, "\r\n")
    counter = RecordCounter(ImportFormat.CSV)
    counter.feed(data)
    reader = CsvReader()
    assert counter.rows == len(_read(reader, data, [])) == len(rows)


@given(st.lists(st.dictionaries(cells, cells, max_size=3), max_size=6),
       st.lists(st.integers(min_value=0, max_value=10_000), max_size=6))
def test_any_cut_of_an_ndjson_file_gives_its_objects_with_their_line_numbers(
        objects: list[dict[str, str]], cuts: list[int]):
    data = "".join(json.dumps(o) + "\n" for o in objects).encode()
    read = _read(NdjsonReader(), data, cuts)
    assert [row.values for row in read] == objects
    assert [row.row for row in read] == list(range(1, len(objects) + 1))


def test_the_delimiter_is_the_one_the_header_has_more_of():
    reader = CsvReader()
    rows = reader.feed(b'name;"a,b";amount\nx;y;1,5\n') + reader.finish()
    assert reader.delimiter == ";"
    assert rows[0].values == {"name": "x", "a,b": "y", "amount": "1,5"}


@pytest.mark.parametrize(("data", "said"), [
    (b"", "empty"), (b"name\n\xc3\x28\n", "UTF-8"), (b'name\n"open\n', "never closed"),
    (b"name,name\n", "more than once"), (b"name,\n", "no name"),
])
def test_a_file_that_cannot_be_read_says_why(data: bytes, said: str):
    reader = CsvReader()
    with pytest.raises(Unreadable, match=said):
        reader.feed(data)
        reader.finish()
