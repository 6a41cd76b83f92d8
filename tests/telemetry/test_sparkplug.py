"""Sparkplug B host: codec round trips, the host state machine, and end to end on Mosquitto."""

from __future__ import annotations

import asyncio
import math
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import aiomqtt
import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sparkplug_edge import EdgeNode, standard_metrics

from conftest import need_service
from sandan.telemetry.sparkplug import sparkplug_b_pb2 as pb
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.client import SparkplugHostClient
from sandan.telemetry.sparkplug.codec import (
    BD_SEQ,
    REBIRTH,
    DataType,
    DecodeError,
    Metric,
    MetricValue,
    decode,
    decode_state,
    encode_data,
    encode_dbirth,
    encode_ddeath,
    encode_nbirth,
    encode_ndeath,
    encode_payload,
    encode_rebirth_command,
    encode_state,
)
from sandan.telemetry.sparkplug.host import (
    Action,
    DataBatch,
    HostState,
    RebirthRequest,
    Reject,
    SparkplugHost,
    Status,
)
from sandan.telemetry.sparkplug.topics import MessageType, StateTopic, Topic, TopicError

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
T0 = 1_700_000_000_000

# --- codec ----------------------------------------------------------------------------------

NUMERIC_CASES: list[tuple[DataType, list[int | float | bool]]] = [
    (DataType.Int8, [-128, -1, 0, 1, 127]),
    (DataType.Int16, [-32768, -2, 0, 300, 32767]),
    (DataType.Int32, [-(2**31), -5, 0, 70_000, 2**31 - 1]),
    (DataType.Int64, [-(2**63), -(2**40), -1, 0, 2**53, 2**63 - 1]),
    (DataType.UInt8, [0, 1, 255]),
    (DataType.UInt16, [0, 65535]),
    (DataType.UInt32, [0, 2**31, 2**32 - 1]),
    (DataType.UInt64, [0, 2**53, 2**64 - 1]),
    (DataType.DateTime, [0, T0]),
    (DataType.Float, [0.0, -1.5, 3.25, 2.0**100, 3.4028234663852886e38]),  # float32-exact
    (DataType.Double, [0.0, -1.5e-300, math.pi, 1e300]),
    (DataType.Boolean, [False, True]),
]


@pytest.mark.parametrize(
    ("datatype", "samples"), NUMERIC_CASES, ids=[dt.name for dt, _ in NUMERIC_CASES]
)
def test_round_trip_every_numeric_type(
    datatype: DataType, samples: list[int | float | bool]
) -> None:
    metrics = [
        Metric(f"m{i}", v, datatype, alias=100 + i, timestamp=T0 + i) for i, v in enumerate(samples)
    ]
    expected = np.array([float(v) for v in samples])

    birth = decode(encode_dbirth(metrics, seq=7, timestamp=T0))
    assert birth.seq == 7 and birth.timestamp == T0
    assert birth.names == [m.name for m in metrics]
    assert birth.aliases.tolist() == [m.alias for m in metrics]
    assert birth.ts_ms.tolist() == [T0 + i for i in range(len(samples))]
    assert birth.datatypes.tolist() == [datatype] * len(samples)
    np.testing.assert_array_equal(birth.values, expected)

    # DATA: by alias, no names, no datatypes; the BIRTH's datatypes restore signedness.
    data_bytes = encode_data(metrics, seq=8, timestamp=T0 + 99)
    raw = pb.Payload.FromString(data_bytes)
    assert all(not m.HasField("name") and not m.HasField("datatype") for m in raw.metrics)
    data = decode(data_bytes, alias_types={m.alias: datatype for m in metrics if m.alias})
    assert data.names == [None] * len(samples)
    assert data.datatypes.tolist() == [datatype] * len(samples)
    np.testing.assert_array_equal(data.values, expected)


def test_signed_values_from_edge_nodes_that_do_not_sign_extend() -> None:
    """Some edge nodes put Int8 -1 as 0xFF (not 0xFFFFFFFF) into the uint32: both decode."""
    msg = pb.Payload(timestamp=T0, seq=0)
    for alias, (dt, raw) in enumerate(
        [(DataType.Int8, 0xFF), (DataType.Int8, 0xFFFF_FFFF), (DataType.Int16, 0xFFFE)]
    ):
        msg.metrics.add(alias=alias, datatype=dt, int_value=raw)
    assert decode(msg.SerializeToString()).values.tolist() == [-1.0, -1.0, -2.0]


def test_nulls_non_numeric_aliases_and_timestamps() -> None:
    payload = encode_payload(
        [
            Metric("a", None, DataType.Double, timestamp=T0 + 5),
            Metric("b", "text", DataType.String),
            Metric("c", b"\x00\x01", DataType.Bytes, alias=0),
            Metric("d", 2.5, DataType.Double),
        ],
        seq=3,
        timestamp=T0,
    )
    d = decode(payload)
    assert len(d) == 4 and d.seq == 3
    assert d.aliases.tolist() == [-1, -1, 0, -1]  # alias 0 is a real alias
    assert d.ts_ms.tolist() == [T0 + 5, T0, T0, T0]
    assert np.isnan(d.values[:3]).all() and d.values[3] == 2.5
    assert d.datatypes.tolist() == [DataType.Double, DataType.String, DataType.Bytes, 10]
    assert d.value_of("d") == 2.5 and d.value_of("zzz") is None
    assert d.message.metrics[1].string_value == "text"  # the rest stays reachable


def test_datatype_guessed_from_the_field_when_unknown() -> None:
    msg = pb.Payload(timestamp=T0)
    msg.metrics.add(name="x", int_value=4_000_000_000)
    msg.metrics.add(name="y", boolean_value=True)
    d = decode(msg.SerializeToString())
    assert d.seq is None
    assert d.datatypes.tolist() == [DataType.UInt32, DataType.Boolean]
    assert d.values.tolist() == [4e9, 1.0]
    # the name → datatype table of a BIRTH wins over the guess
    d = decode(msg.SerializeToString(), name_types={"x": DataType.Int32})
    assert d.values.tolist() == [4_000_000_000 - 2**32, 1.0]


def test_decode_refuses_garbage() -> None:
    with pytest.raises(DecodeError):
        decode(b"\xff\xff\xff\xff not protobuf")
    huge_alias = pb.Payload(timestamp=T0)
    huge_alias.metrics.add(alias=2**64 - 1, double_value=1.0)
    with pytest.raises(DecodeError):
        decode(huge_alias.SerializeToString())


def test_encode_refuses_bad_values() -> None:
    for metric in [
        Metric("x", 128, DataType.Int8),
        Metric("x", -1, DataType.UInt32),
        Metric("x", 1.5, DataType.Int32),
        Metric("x", "7", DataType.Int64),
        Metric("x", "7", DataType.Double),
        Metric("x", {"a": 1}, DataType.Template),  # type: ignore[arg-type]
    ]:
        with pytest.raises(ValueError):
            encode_payload([metric], seq=0)
    assert decode(encode_payload([Metric("x", 3.0, DataType.Int8)], seq=0)).values[0] == 3.0


def test_node_control_payloads() -> None:
    nbirth = decode(encode_nbirth(7, [Metric("Up", 1.0, DataType.Double, alias=1)], timestamp=T0))
    assert nbirth.seq == 0
    assert nbirth.names == [BD_SEQ, REBIRTH, "Up"]
    assert nbirth.datatypes.tolist() == [DataType.Int64, DataType.Boolean, DataType.Double]
    assert nbirth.values.tolist() == [7.0, 0.0, 1.0]

    ndeath = decode(encode_ndeath(7))
    assert ndeath.seq is None and ndeath.names == [BD_SEQ] and ndeath.value_of(BD_SEQ) == 7.0

    ddeath = decode(encode_ddeath(seq=300))
    assert ddeath.seq == 300 % 256 and len(ddeath) == 0

    rebirth = decode(encode_rebirth_command())
    assert rebirth.names == [REBIRTH] and rebirth.values.tolist() == [1.0]
    assert rebirth.datatypes.tolist() == [DataType.Boolean]

    assert decode_state(encode_state(True, T0)) == (True, T0)
    assert orjson.loads(encode_state(False, T0)) == {"online": False, "timestamp": T0}
    for bad in [b"nope", b"[]", b'{"online": 1, "timestamp": 5}', b'{"online": true}']:
        with pytest.raises(DecodeError):
            decode_state(bad)


def test_a_hundred_aliased_metrics_of_mixed_types_decode_to_columns() -> None:
    """The hot path: 100 metrics by alias, as DDATA arrives (its speed is in benchmarks/)."""
    kinds = [DataType.Double, DataType.Float, DataType.Int32, DataType.Int64, DataType.Boolean]
    metrics = [
        Metric(alias=i, datatype=kinds[i % 5], value=i % 2 if kinds[i % 5] == 11 else -i)
        for i in range(100)
    ]
    payload = encode_data(metrics, seq=1, timestamp=T0)
    types = {i: int(kinds[i % 5]) for i in range(100)}
    data = decode(payload, alias_types=types)
    assert data.seq == 1 and len(data) == 100
    assert data.aliases.tolist() == list(range(100))
    assert data.ts_ms.tolist() == [T0] * 100
    assert data.datatypes.tolist() == [int(kinds[i % 5]) for i in range(100)]
    expected = [float(i % 2) if kinds[i % 5] == DataType.Boolean else float(-i) for i in range(100)]
    np.testing.assert_array_equal(data.values, expected)


# --- topics ---------------------------------------------------------------------------------


def test_topics() -> None:
    assert topics.parse("spBv1.0/G/NDATA/E") == Topic("G", MessageType.NDATA, "E")
    assert topics.parse("spBv1.0/G/DDATA/E/D") == Topic("G", MessageType.DDATA, "E", "D")
    assert topics.parse("spBv1.0/STATE/host-1") == StateTopic("host-1")
    assert str(Topic("G", MessageType.NCMD, "E")) == "spBv1.0/G/NCMD/E"
    for bad in [
        "spBv1.0/G/NDATA/E/D",  # node message with a device
        "spBv1.0/G/DDATA/E",  # device message without one
        "spBv1.0/G/XDATA/E",
        "spBv1.0/G//E",
        "spAv1.0/G/NDATA/E",
        "spBv1.0/STATE",
        "spBv1.0/STATE/a/b",
        "spBv1.0/G/DDATA/E/D/X",
    ]:
        with pytest.raises(TopicError):
            topics.parse(bad)
    with pytest.raises(TopicError):
        topics.topic("STATE", MessageType.NDATA, "E")
    with pytest.raises(TopicError):
        topics.topic("G", MessageType.DDATA, "E")
    with pytest.raises(TopicError):
        topics.topic("G+", MessageType.NDATA, "E")


# --- host state machine ---------------------------------------------------------------------

G, E, D = "G1", "edge1", "dev1"
NBIRTH, NDEATH, NDATA = (f"spBv1.0/{G}/{t}/{E}" for t in ("NBIRTH", "NDEATH", "NDATA"))
DBIRTH, DDEATH, DDATA = (f"spBv1.0/{G}/{t}/{E}/{D}" for t in ("DBIRTH", "DDEATH", "DDATA"))
DEVICE_METRICS = [
    Metric("Temperature", 20.0, DataType.Double, alias=1),
    Metric("Level", -5, DataType.Int32, alias=2),
    Metric("Running", True, DataType.Boolean, alias=3),
]


def of(kind: type[Action], actions: list[Action]) -> list[Action]:
    return [a for a in actions if isinstance(a, kind)]


def born(host: SparkplugHost, *, bd_seq: int = 0, now: float = 0.0) -> list[Action]:
    """NBIRTH (seq 0, one node metric by alias 50) then DBIRTH (seq 1)."""
    node_metrics = [Metric("Uptime", 1.0, DataType.Double, alias=50)]
    out = host.handle(NBIRTH, encode_nbirth(bd_seq, node_metrics, timestamp=T0), now)
    out += host.handle(DBIRTH, encode_dbirth(DEVICE_METRICS, seq=1, timestamp=T0), now)
    return out


def ddata(seq: int, temperature: float = 21.0, level: int = -6, running: bool = False) -> bytes:
    values = {1: (DataType.Double, temperature), 2: (DataType.Int32, level)}
    values[3] = (DataType.Boolean, running)
    return encode_data(
        [Metric(alias=a, datatype=dt, value=v) for a, (dt, v) in values.items()],
        seq=seq,
        timestamp=T0 + seq,
    )


def test_births_bring_the_node_and_device_online_with_their_values() -> None:
    host = SparkplugHost()
    out = born(host, bd_seq=3)
    assert of(Status, out) == [
        Status(G, E, None, True, "NBIRTH"),
        Status(G, E, D, True, "DBIRTH"),
    ]
    node_batch, device_batch = of(DataBatch, out)
    assert isinstance(node_batch, DataBatch) and isinstance(device_batch, DataBatch)
    assert node_batch.birth and node_batch.device is None
    assert node_batch.as_dict() == {BD_SEQ: 3.0, REBIRTH: 0.0, "Uptime": 1.0}
    assert device_batch.device == D
    assert device_batch.as_dict() == {"Temperature": 20.0, "Level": -5.0, "Running": 1.0}
    node = host.node(G, E)
    assert node is not None and node.online and node.bd_seq == 3 and node.next_seq == 2
    assert node.devices[D].online and node.devices[D].metrics.alias_names[2] == "Level"


def test_ddata_aliases_resolve_to_birth_names() -> None:
    host = SparkplugHost()
    born(host)
    (batch,) = host.handle(DDATA, ddata(2, 22.5, -7, True), 0.0)
    assert isinstance(batch, DataBatch)
    assert (batch.group, batch.edge_node, batch.device, batch.seq) == (G, E, D, 2)
    assert batch.names == ["Temperature", "Level", "Running"]
    assert batch.values.tolist() == [22.5, -7.0, 1.0]  # Int32 sign from the DBIRTH datatype
    assert batch.ts_ms.tolist() == [T0 + 2] * 3
    assert not batch.birth

    # node metrics by alias, and by name (an alias-less metric)
    payload = encode_data(
        [Metric(alias=50, datatype=DataType.Double, value=9.0), Metric("Extra", 1.0)], seq=3
    )
    (node_batch,) = host.handle(NDATA, payload, 0.0)
    assert isinstance(node_batch, DataBatch) and node_batch.device is None
    assert node_batch.as_dict() == {"Uptime": 9.0, "Extra": 1.0}


def test_seq_wraps_from_255_to_0_without_a_rebirth() -> None:
    host = SparkplugHost()
    born(host)
    seqs = [*range(2, 256), 0, 1, 2]
    batches = []
    for seq in seqs:
        out = host.handle(DDATA, ddata(seq, temperature=seq), 0.0)
        assert not of(RebirthRequest, out), seq
        batches += of(DataBatch, out)
    assert len(batches) == len(seqs)
    assert [b.seq for b in batches if isinstance(b, DataBatch)][-4:] == [255, 0, 1, 2]
    node = host.node(G, E)
    assert node is not None and node.next_seq == 3 and not node.stale


def test_seq_gap_asks_for_a_rebirth_and_drops_data_until_it_comes() -> None:
    host = SparkplugHost(rebirth_interval_ms=1000)
    born(host)
    assert of(DataBatch, host.handle(DDATA, ddata(2), 0.0))
    out = host.handle(DDATA, ddata(4), 10.0)  # seq 3 lost
    (request,) = out
    assert isinstance(request, RebirthRequest)
    assert (request.group, request.edge_node) == (G, E)
    assert "expected 3" in request.reason
    assert request.topic == f"spBv1.0/{G}/NCMD/{E}"
    command = decode(request.payload)
    assert command.names == [REBIRTH] and command.values.tolist() == [1.0]

    # in step again, but stale: dropped, and no second request before the interval ends
    assert host.handle(DDATA, ddata(5), 20.0) == []
    again = host.handle(DDATA, ddata(6), 1500.0)
    assert len(of(RebirthRequest, again)) == 1 and not of(DataBatch, again)

    # the rebirth: NBIRTH voids the device, DBIRTH brings it back, data flows
    out = born(host, now=1600.0)
    assert of(Status, out)[0] == Status(G, E, D, False, "NBIRTH")
    (batch,) = host.handle(DDATA, ddata(2, 30.0), 1700.0)
    assert isinstance(batch, DataBatch) and batch.values[0] == 30.0


def test_unknown_alias_data_before_birth_and_unknown_device_ask_for_rebirth() -> None:
    host = SparkplugHost(rebirth_interval_ms=0)
    (request,) = host.handle(DDATA, ddata(5), 0.0)  # never born
    assert isinstance(request, RebirthRequest) and "before NBIRTH" in request.reason

    born(host)
    payload = encode_data([Metric(alias=99, datatype=DataType.Double, value=1.0)], seq=2)
    (request,) = host.handle(DDATA, payload, 1.0)
    assert isinstance(request, RebirthRequest) and "99" in request.reason

    born(host)
    other_device = f"spBv1.0/{G}/DDATA/{E}/other"
    (request,) = host.handle(other_device, ddata(2), 2.0)
    assert isinstance(request, RebirthRequest) and "other" in request.reason


def test_ndeath_with_a_stale_bdseq_is_ignored() -> None:
    host = SparkplugHost()
    born(host, bd_seq=5)
    assert host.handle(NDEATH, encode_ndeath(4), 0.0) == []  # the will of an older session
    node = host.node(G, E)
    assert node is not None and node.online and node.devices[D].online

    out = host.handle(NDEATH, encode_ndeath(5), 0.0)
    assert out == [Status(G, E, D, False, "NDEATH"), Status(G, E, None, False, "NDEATH")]
    assert not node.online and not node.devices[D].online
    assert host.handle(NDEATH, encode_ndeath(5), 0.0) == []  # already offline
    # data after the death asks for a rebirth
    assert of(RebirthRequest, host.handle(DDATA, ddata(2), 0.0))


def test_ddeath_marks_the_device_offline() -> None:
    host = SparkplugHost()
    born(host)
    assert host.handle(DDEATH, encode_ddeath(seq=2), 0.0) == [Status(G, E, D, False, "DDEATH")]
    node = host.node(G, E)
    assert node is not None and node.online and not node.devices[D].online
    (request,) = host.handle(DDATA, ddata(3), 0.0)  # data from a dead device
    assert isinstance(request, RebirthRequest)


def test_malformed_input_is_rejected_not_raised() -> None:
    host = SparkplugHost()
    cases: list[tuple[str, bytes]] = [
        ("not/sparkplug", b""),
        ("spBv1.0/G/NDATA/E/extra", b""),
        (NBIRTH, b"\xff\xff garbage"),
        ("spBv1.0/STATE/h1", b"{not json"),
    ]
    for topic, payload in cases:
        (reject,) = host.handle(topic, payload, 0.0)
        assert isinstance(reject, Reject) and reject.topic == topic and reject.reason
    born(host)
    (reject,) = host.handle(DDATA, b"\x0a\xff", 0.0)
    assert isinstance(reject, Reject)
    nameless = encode_payload([Metric(alias=1, value=1.0)], seq=2, with_names=False)
    out = host.handle(DBIRTH, nameless, 0.0)
    assert of(Reject, out) and not of(DataBatch, out)


@settings(max_examples=300, deadline=None)
@given(
    topic=st.sampled_from([NBIRTH, NDEATH, NDATA, DBIRTH, DDEATH, DDATA, "spBv1.0/STATE/h"])
    | st.text(max_size=40),
    payload=st.binary(max_size=200)
    | st.builds(
        lambda base, cut, junk: base[:cut] + junk,
        st.sampled_from([ddata(2), encode_nbirth(1, DEVICE_METRICS), encode_ndeath(0)]),
        st.integers(0, 120),
        st.binary(max_size=12),
    ),
)
def test_the_host_never_raises(topic: str, payload: bytes) -> None:
    host = SparkplugHost(rebirth_interval_ms=0)
    born(host)
    for action in host.handle(topic, payload, 0.0):
        assert isinstance(action, DataBatch | RebirthRequest | Status | Reject | HostState)


def test_commands_are_ignored_and_state_is_reported() -> None:
    host = SparkplugHost()
    assert host.handle(f"spBv1.0/{G}/NCMD/{E}", encode_rebirth_command(), 0.0) == []
    assert host.handle(f"spBv1.0/{G}/DCMD/{E}/{D}", encode_rebirth_command(), 0.0) == []
    out = host.handle("spBv1.0/STATE/scada", encode_state(True, T0), 0.0)
    assert out == [HostState("scada", True, T0)]


def test_seq_checking_can_be_turned_off_for_shared_subscriptions() -> None:
    host = SparkplugHost(check_seq=False)
    born(host)
    for seq in (7, 3, 200):
        assert of(DataBatch, host.handle(DDATA, ddata(seq), 0.0))


# --- end to end on Mosquitto ----------------------------------------------------------------


@pytest.fixture
async def broker() -> AsyncIterator[str]:
    parts = urlsplit(URL)
    try:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883, timeout=5):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")
    yield URL


async def _clear_retained(topic: str) -> None:
    parts = urlsplit(URL)
    async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as client:
        await client.publish(topic, b"", qos=1, retain=True)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _next(queue: asyncio.Queue[DataBatch], timeout: float = 10.0) -> DataBatch:
    return await asyncio.wait_for(queue.get(), timeout)


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_end_to_end_seq_gap_rebirth_then_data_flows_again(broker: str) -> None:
    group, host_id = _unique("sp-e2e"), _unique("sandan-host")
    batches: asyncio.Queue[DataBatch] = asyncio.Queue()
    statuses: list[Status] = []

    async def on_batch(batch: DataBatch) -> None:
        await batches.put(batch)

    async def on_status(status: Status) -> None:
        statuses.append(status)

    host = SparkplugHostClient(broker, host_id, on_batch, groups=[group], on_status=on_status)
    try:
        async with host:
            async with EdgeNode(broker, group, "edge-a", "pump-1", standard_metrics()) as edge:
                node_birth, device_birth = await _next(batches), await _next(batches)
                assert node_birth.birth and node_birth.device is None
                assert node_birth.as_dict()[BD_SEQ] == 0.0
                assert device_birth.birth and device_birth.device == "pump-1"
                birth_values = device_birth.as_dict()
                assert birth_values["Level"] == -7.0 and birth_values["Offset"] == -3.0
                assert birth_values["Running"] == 1.0 and math.isnan(birth_values["Label"])

                await edge.ddata({"Temperature": 21.5, "Level": -8, "Running": False})
                first = await _next(batches)
                assert first.names == ["Temperature", "Level", "Running"]
                assert first.values.tolist() == [21.5, -8.0, 0.0] and first.seq == 2

                # lose seq 3: the host drops seq 4 and asks for a rebirth
                sent = await edge.ddata({"Temperature": 999.0}, skip_seq=True)
                assert sent == 4
                await asyncio.wait_for(edge.reborn.wait(), 10)
                assert edge.rebirths == 1 and host.stats.rebirths_requested == 1

                reborn_node, reborn_device = await _next(batches), await _next(batches)
                assert reborn_node.birth and reborn_node.seq == 0
                assert reborn_device.birth and reborn_device.device == "pump-1"

                await edge.ddata({"Temperature": 22.0, "Count": 11, "Offset": -4})
                after = await _next(batches)
                assert after.as_dict() == {"Temperature": 22.0, "Count": 11.0, "Offset": -4.0}
                assert after.seq == 2 and not after.birth
                assert batches.empty()  # the 999.0 of the out-of-step message never came
                assert host.stats.rejected == 0

            # the edge node's NDEATH takes the node and its device offline
            await _until(lambda: len(statuses) >= 7)
        assert statuses == [
            Status(group, "edge-a", None, True, "NBIRTH"),
            Status(group, "edge-a", "pump-1", True, "DBIRTH"),
            Status(group, "edge-a", "pump-1", False, "NBIRTH"),
            Status(group, "edge-a", None, True, "NBIRTH"),
            Status(group, "edge-a", "pump-1", True, "DBIRTH"),
            Status(group, "edge-a", "pump-1", False, "NDEATH"),
            Status(group, "edge-a", None, False, "NDEATH"),
        ]
    finally:
        await _clear_retained(topics.state_topic(host_id))


async def test_host_state_birth_and_death_are_retained(broker: str) -> None:
    host_id = _unique("sandan-host")
    state_topic = topics.state_topic(host_id)
    parts = urlsplit(broker)

    async def retained_state() -> dict[str, object]:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as c:
            await c.subscribe(state_topic, qos=1)
            message = await asyncio.wait_for(anext(aiter(c.messages)), 5)
            assert message.retain
            assert isinstance(message.payload, bytes)
            body = orjson.loads(message.payload)
            assert isinstance(body, dict)
            return body

    async def ignore(batch: DataBatch) -> None:
        pass

    try:
        async with SparkplugHostClient(broker, host_id, ignore, groups=[_unique("g")]) as host:
            birth = await retained_state()
            assert birth == {"online": True, "timestamp": host.birth_timestamp}
        death = await retained_state()
        assert death == {"online": False, "timestamp": birth["timestamp"]}
    finally:
        await _clear_retained(state_topic)


async def test_shared_subscription_splits_data_and_every_member_knows_the_aliases(
    broker: str,
) -> None:
    group, share = _unique("sp-share"), _unique("share")
    received: list[tuple[int, DataBatch]] = []

    def collector(member: int) -> Callable[[DataBatch], Awaitable[None]]:
        async def on_batch(batch: DataBatch) -> None:
            received.append((member, batch))

        return on_batch

    host_ids = [_unique("sandan-host"), _unique("sandan-host")]
    members = [
        SparkplugHostClient(broker, host_id, collector(i), share_group=share, groups=[group])
        for i, host_id in enumerate(host_ids)
    ]
    try:
        async with members[0], members[1]:
            assert not members[0].host.check_seq
            async with EdgeNode(broker, group, "edge-s", "dev", standard_metrics()) as edge:
                await _until(lambda: sum(1 for _, b in received if b.birth) == 4)  # 2 births x 2
                for i in range(20):
                    await edge.ddata({"Temperature": float(i)})
                await _until(lambda: sum(1 for _, b in received if not b.birth) == 20)
                await asyncio.sleep(0.2)  # nothing delivered twice
            data = [(m, b) for m, b in received if not b.birth]
            assert len(data) == 20
            assert sorted(b.values[0] for _, b in data) == [float(i) for i in range(20)]
            assert all(b.names == ["Temperature"] for _, b in data)
            assert {m for m, _ in data} == {0, 1}  # the broker split the load
            assert all(m.stats.rebirths_requested == 0 for m in members)
    finally:
        for host_id in host_ids:
            await _clear_retained(topics.state_topic(host_id))


async def test_values_of_every_type_survive_the_broker(broker: str) -> None:
    group, host_id = _unique("sp-types"), _unique("sandan-host")
    batches: asyncio.Queue[DataBatch] = asyncio.Queue()

    async def on_batch(batch: DataBatch) -> None:
        await batches.put(batch)

    metrics: dict[str, tuple[int, int, MetricValue]] = {
        dt.name: (alias, dt, samples[0]) for alias, (dt, samples) in enumerate(NUMERIC_CASES)
    }
    try:
        async with (
            SparkplugHostClient(broker, host_id, on_batch, groups=[group]),
            EdgeNode(broker, group, "edge-t", "dev", metrics) as edge,
        ):
            await _next(batches)
            await _next(batches)
            await edge.ddata({dt.name: samples[-1] for dt, samples in NUMERIC_CASES})
            batch = await _next(batches)
            assert batch.as_dict() == {dt.name: float(samples[-1]) for dt, samples in NUMERIC_CASES}
            assert batch.datatypes.tolist() == [dt for dt, _ in NUMERIC_CASES]
    finally:
        await _clear_retained(topics.state_topic(host_id))
