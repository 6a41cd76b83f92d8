"""MQTT message decoding: the fast path for the common shape gives exactly what the general
path gives, message by message."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from sandan.telemetry.decode import decode_many

names = st.text(alphabet="abcxyz_/", min_size=1, max_size=6)
values = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
fast = st.fixed_dictionaries(
    {"ts": st.integers(0, 2**42), "values": st.dictionaries(names, values, max_size=4)}
)
general = st.one_of(
    st.fixed_dictionaries({"values": st.dictionaries(names, values, max_size=3)}),  # no ts
    st.fixed_dictionaries(
        {
            "ts": st.integers(0, 2**42),
            "values": st.dictionaries(names, values, max_size=3),
            "units": st.just({}),
        }
    ),
    st.dictionaries(names, values, min_size=1, max_size=3),  # {key: value}
)


def _columns(payloads: list[bytes], prefixes: list[str]) -> tuple[object, ...]:
    columns, bad, origin = decode_many(payloads, prefixes, [1.0e12] * len(payloads))
    return (
        columns.tags.to_pylist(),
        columns.ts.to_pylist(),
        columns.value.to_pylist(),
        columns.problems,
        bad,
        origin,
    )


@given(st.lists(st.one_of(fast, general), max_size=8))
def test_a_batch_decodes_as_its_messages_one_by_one(docs: list[dict[str, object]]) -> None:
    payloads = [orjson.dumps(d) for d in docs]
    prefixes = [f"{i}/" for i in range(len(docs))]
    tags, ts, value, problems, _, origin = _columns(payloads, prefixes)
    offset = 0
    for i, payload in enumerate(payloads):
        one = _columns([payload], [prefixes[i]])
        n = len(one[0])  # type: ignore[arg-type]
        assert tags[offset : offset + n] == one[0]  # type: ignore[index]
        assert ts[offset : offset + n] == one[1]  # type: ignore[index]
        assert value[offset : offset + n] == one[2]  # type: ignore[index]
        assert [(j - offset, f, r) for j, f, r in problems if offset <= j < offset + n] == one[3]
        assert origin[offset : offset + n] == [i] * n  # type: ignore[index]
        offset += n
    assert offset == len(tags)  # type: ignore[arg-type]


def test_the_common_shape_and_its_problems() -> None:
    payloads = [
        orjson.dumps({"ts": 1_700_000_000_000, "values": {"a": 1, "b": "x"}}),
        b"not json",
    ]
    columns, bad, origin = decode_many(payloads, ["7/", "8/"])
    assert columns.tags.to_pylist() == ["7/a", "7/b"]
    assert columns.value.to_pylist() == [1.0, None]
    assert columns.problems == [(1, "value", "not a number")]
    assert [index for index, _ in bad] == [1] and origin == [0, 0]
