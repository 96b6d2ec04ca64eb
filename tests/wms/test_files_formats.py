"""The file codec: what it writes it reads back, in every configured dialect, and a file
it cannot read is named with its line and field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.wms.files.formats import SCHEMAS, Codec, Document, FileFormatError, Format, Message

ORDER = SCHEMAS[Message.ORDERS]
# Field text as warehouses see it: any printable text, Nordic letters included, stripped.
TEXT = st.text(
    st.characters(codec="latin-1", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20
).map(str.strip)
CODECS = st.builds(
    Codec,
    format=st.sampled_from(list(Format)),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252"]),
    decimal_separator=st.sampled_from([".", ","]),
)


@given(
    codec=CODECS,
    header=st.fixed_dictionaries({name: TEXT for name in ORDER.header}),
    lines=st.lists(st.fixed_dictionaries({name: TEXT for name in ORDER.lines}), min_size=1),
)
def test_every_document_reads_back_as_written(
    codec: Codec, header: dict[str, str], lines: list[dict[str, str]]
) -> None:
    header["GoodsOwnerOrderNumber"] = header["GoodsOwnerOrderNumber"] or "1-1"
    try:
        data = codec.encode(ORDER, Document(header=header, lines=lines))
    except UnicodeEncodeError:
        return  # cp1252 lacks a few latin-1 control-like letters; not a reading question
    read = codec.decode(ORDER, "f.csv", data)
    assert read.header == header
    assert read.lines == lines


@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=3),
    mark=st.sampled_from([".", ","]),
)
def test_numbers_read_back_with_either_decimal_mark(value: Decimal, mark: str) -> None:
    codec = Codec(decimal_separator=mark)
    assert codec.parse_number(codec.number(value), "f", 2, "NumberOfItems") == value


def test_a_truncated_csv_names_its_line() -> None:
    header = "GoodsOwnerOrderNumber;ExternalOrderLineCode;ArticleNumber;NumberOfItems"
    data = f"{header}\r\n1-1;L1;A;2\r\n1-1;L2\r\n"
    with pytest.raises(
        FileFormatError, match=r"file o\.csv, line 3: 2 fields where the header has 4"
    ):
        Codec().decode(ORDER, "o.csv", data.encode())


def test_a_missing_column_is_named() -> None:
    with pytest.raises(FileFormatError, match="line 1, field ArticleNumber: column missing"):
        Codec().decode(ORDER, "o.csv", b"GoodsOwnerOrderNumber;ExternalOrderLineCode\r\n1-1;L1\r\n")


def test_renamed_headers_are_read_by_their_new_names() -> None:
    codec = Codec(delimiter=",", headers={"orders": {"ArticleNumber": "sku"}})
    data = b"GoodsOwnerOrderNumber,ExternalOrderLineCode,sku\r\n1-1,L1,SHIRT\r\n"
    assert codec.decode(ORDER, "o.csv", data).lines[0]["ArticleNumber"] == "SHIRT"


def test_xml_with_an_entity_is_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Order>&e;</Order>'
    with pytest.raises(FileFormatError, match=r"refused XML|not well-formed"):
        Codec(format=Format.XML).decode(ORDER, "o.xml", data)


def test_a_bom_is_accepted_on_utf8() -> None:
    data = "\ufeffGoodsOwnerOrderNumber;ExternalOrderLineCode;ArticleNumber\r\n1-1;L1;Å\r\n"
    assert Codec().decode(ORDER, "o.csv", data.encode()).lines[0]["ArticleNumber"] == "Å"
