"""Sparkplug B (spBv1.0, Sparkplug 3.0) host application.

- `codec`: payloads to columns (`decode`) and the `encode_*` helpers an edge node uses;
- `topics`: topic names, parsed and built;
- `host`: `SparkplugHost`, a state machine without I/O that turns (topic, payload) into
  actions (`DataBatch`, `RebirthRequest`, `Status`, `Reject`, `HostState`);
- `client`: `SparkplugHostClient`, the asyncio/aiomqtt runner around it;
- `columns`: many payloads decoded at once into columns with numpy (the ingest hot path);
- `worker`: `SparkplugIngest`, the ingest worker that stores metrics as registry tags.

`sparkplug_b_pb2.py` is generated from `sparkplug_b.proto` by `gen_pb2.sh`.
"""
