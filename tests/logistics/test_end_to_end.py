"""The acceptance path of the shared warehouse through the HTTP API: two tenants announce
deliveries and book the one dock (a clash is refused with a reason), goods are received with
one short line and put away by the rules, orders reserve only their owner's stock, a wave is
picked in walking order with one short pick, packed, shipped with a back order and a
delivery note, and the month's bill matches a hand calculation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from wms_world import SEOUL, L, build_floor, item, local, ok

from conftest import World


def test_two_tenants_from_asn_to_invoice(client: TestClient, world: World) -> None:
    floor = build_floor(client, world)
    op, a, b = world.headers("operator"), world.headers("admin_a"), world.headers("admin_b")
    ca, cb = world.companies["A"], world.companies["B"]
    w = floor.warehouse_id
    ok(
        client.put(
            f"{L}/tariffs",
            headers=op,
            json={"pallet_day_krw": 1000, "inbound_line_krw": 3000, "outbound_line_krw": 4000},
        )
    )

    # Items: A's bolts (10 a pallet) and lot-tracked grease (50 a pallet); B's housings.
    bolts = item(client, a, "BOLT-M8", units_per_pallet=10, gtin="8801234567893")
    grease = item(client, a, "GREASE", units_per_pallet=50, tracking="lot")
    housing = item(client, b, "HOUSING", units_per_pallet=20)
    bad = client.post(
        f"{L}/items", headers=a, json={"sku": "X", "name": "x", "gtin": "8801234567890"}
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "gtin"

    # ASNs.
    asn_a = ok(
        client.post(
            f"{L}/asns",
            headers=a,
            json={
                "warehouse_id": w,
                "ref": "PO-A-1",
                "expected_at": local(1, "10:00"),
                "lines": [
                    {"item_id": bolts, "qty_expected": 30},
                    {
                        "item_id": grease,
                        "qty_expected": 50,
                        "lot_code": "G-LATE",
                        "expiry": "2099-12-31",
                    },
                    {
                        "item_id": grease,
                        "qty_expected": 50,
                        "lot_code": "G-SOON",
                        "expiry": "2099-01-31",
                    },
                ],
            },
        ),
        201,
    )
    asn_b = ok(
        client.post(
            f"{L}/asns",
            headers=b,
            json={
                "warehouse_id": w,
                "ref": "PO-B-1",
                "expected_at": local(1, "10:00"),
                "lines": [{"item_id": housing, "qty_expected": 40}],
            },
        ),
        201,
    )
    assert client.get(f"{L}/asns/{asn_a['id']}", headers=b).status_code == 404  # B cannot see A's

    # Dock booking: B wants the slot A holds and is refused with the reason.
    booking = {"dock_id": floor.dock_id, "truck_plate": "12가 3456", "truck_class": "5t"}
    appt_a = ok(
        client.post(
            f"{L}/appointments",
            headers=a,
            json={
                **booking,
                "asn_id": asn_a["id"],
                "starts_at": local(1, "10:00"),
                "ends_at": local(1, "10:30"),
            },
        ),
        201,
    )
    assert appt_a["truck_plate"] == "12가3456"
    clash = client.post(
        f"{L}/appointments",
        headers=b,
        json={
            **booking,
            "truck_plate": "34나5678",
            "starts_at": local(1, "10:00"),
            "ends_at": local(1, "11:00"),
        },
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["error"] == "DockClash"
    assert "dock D1 is full from 10:00–10:30" in clash.json()["detail"]
    ok(
        client.post(
            f"{L}/appointments",
            headers=b,
            json={
                **booking,
                "truck_plate": "34나5678",
                "asn_id": asn_b["id"],
                "starts_at": local(1, "11:00"),
                "ends_at": local(1, "11:30"),
            },
        ),
        201,
    )
    assert (
        client.post(
            f"{L}/appointments",
            headers=b,
            json={
                **booking,
                "truck_plate": "1234",
                "starts_at": local(1, "12:00"),
                "ends_at": local(1, "12:30"),
            },
        ).status_code
        == 422
    )
    slots = ok(
        client.get(
            f"{L}/docks/{floor.dock_id}/slots", headers=a, params={"day": local(1, "00:00")[:10]}
        )
    )
    assert [s["booked"] for s in slots[4:7]] == [1, 0, 1]  # 10:00, 10:30, 11:00

    # Receiving: A's G-SOON line comes 10 short; B's blind-free receipt is complete.
    lines = {(x["item_id"], x["lot_code"]): x["id"] for x in asn_a["lines"]}
    got = ok(
        client.post(
            f"{L}/receipts",
            headers=op,
            json={
                "warehouse_id": w,
                "asn_id": asn_a["id"],
                "appointment_id": appt_a["id"],
                "lines": [
                    {"asn_line_id": lines[(bolts, "")], "qty_good": 30},
                    {"asn_line_id": lines[(grease, "G-LATE")], "qty_good": 50},
                    {"asn_line_id": lines[(grease, "G-SOON")], "qty_good": 40},
                ],
            },
        ),
        201,
    )
    short = {(x["lot_code"]): (x["qty_short"], x["qty_over"]) for x in got["asn"]["lines"]}
    assert short == {"": (0, 0), "G-LATE": (0, 0), "G-SOON": (10, 0)}
    assert (
        client.post(
            f"{L}/receipts",
            headers=a,
            json={"warehouse_id": w, "asn_id": asn_b["id"], "lines": [{"qty_good": 1}]},
        ).status_code
        == 403
    )
    b_line = asn_b["lines"][0]["id"]
    ok(
        client.post(
            f"{L}/receipts",
            headers=op,
            json={
                "warehouse_id": w,
                "asn_id": asn_b["id"],
                "lines": [{"asn_line_id": b_line, "qty_good": 40}],
            },
        ),
        201,
    )

    # Putaway by the rules: B into its own zone, A into the closest general bins with room.
    plan = ok(client.get(f"{L}/warehouses/{w}/putaway", headers=op))
    placed = [
        (p["owner_company_id"], p["item_id"], p["to_bin_code"], p["qty"], p["rule"]) for p in plan
    ]
    assert placed == [
        (ca, bolts, "S-01-01-1", 20, "closest bin with room"),
        (ca, bolts, "S-01-01-2", 10, "closest bin with room"),
        (ca, grease, "S-01-01-2", 50, "closest bin with room"),
        (ca, grease, "S-01-02-1", 40, "closest bin with room"),
        (cb, housing, "B-01-01-1", 40, "owner zone"),
    ]
    for p in plan:
        body = {
            k: p[k]
            for k in ("item_id", "lot_id", "owner_company_id", "from_bin_id", "to_bin_id", "qty")
        }
        ok(client.post(f"{L}/putaway", headers=op, json=body), 201)
    crowd = client.post(
        f"{L}/putaway",
        headers=op,
        json={
            **body,
            "from_bin_id": body["to_bin_id"],
            "to_bin_id": floor.bins["S-01-01-1"],
            "qty": 1,
        },
    )
    assert crowd.status_code == 409 and "another tenant" in crowd.json()["detail"]

    # Orders: A's cannot name B's item, and reserves only A's stock (FEFO for the grease).
    when = {
        "warehouse_id": w,
        "ship_to": "대구 공장",
        "address": "대구 달서구",
        "lat": 35.83,
        "lon": 128.53,
        "ship_date": local(0, "00:00")[:10],
        "window_start": local(0, "13:00"),
        "window_end": local(0, "17:00"),
    }
    foreign = client.post(
        f"{L}/orders",
        headers=a,
        json={**when, "ref": "SO-X", "lines": [{"item_id": housing, "qty": 1}]},
    )
    assert foreign.status_code == 422 and foreign.json()["fields"][0]["field"] == "lines.0.item_id"
    order = ok(
        client.post(
            f"{L}/orders",
            headers=a,
            json={
                **when,
                "ref": "SO-1",
                "lines": [{"item_id": bolts, "qty": 25}, {"item_id": grease, "qty": 10}],
            },
        ),
        201,
    )
    reserved = ok(client.post(f"{L}/orders/{order['id']}/reserve", headers=a))
    assert reserved["status"] == "reserved" and [x["qty_reserved"] for x in reserved["lines"]] == [
        25,
        10,
    ]
    greedy = ok(
        client.post(
            f"{L}/orders",
            headers=a,
            json={**when, "ref": "SO-2", "lines": [{"item_id": bolts, "qty": 10}]},
        ),
        201,
    )
    partial = ok(client.post(f"{L}/orders/{greedy['id']}/reserve", headers=a))
    assert partial["status"] == "open" and partial["lines"][0]["qty_reserved"] == 5
    assert client.post(f"{L}/orders/{greedy['id']}/reserve", headers=b).status_code == 404
    b_stock = ok(client.get(f"{L}/stock", headers=b))
    assert [(q["owner_company_id"], q["on_hand"], q["reserved"]) for q in b_stock] == [(cb, 40, 0)]

    # Wave, pick list in walking order, one short pick.
    wave = ok(
        client.post(f"{L}/waves", headers=op, json={"warehouse_id": w, "order_ids": [order["id"]]}),
        201,
    )
    tasks = ok(client.get(f"{L}/waves/{wave['id']}/picklist", headers=op))["tasks"]
    assert [(t["bin_code"], t["sku"], t["lot_code"], t["qty"]) for t in tasks] == [
        ("S-01-01-1", "BOLT-M8", tasks[0]["lot_code"], 20),
        ("S-01-01-2", "BOLT-M8", tasks[1]["lot_code"], 5),
        ("S-01-02-1", "GREASE", "G-SOON", 10),
    ]
    for t in tasks:
        qty = 3 if t["bin_code"] == "S-01-01-2" else t["qty"]
        ok(
            client.post(
                f"{L}/picks", headers=op, json={"reservation_id": t["reservation_id"], "qty": qty}
            )
        )
    shipment = ok(
        client.post(f"{L}/orders/{order['id']}/pack", headers=op, json={"packages": 2}), 201
    )
    assert (shipment["weight_kg"], shipment["status"]) == (165.0, "ready")  # 33 units × 5 kg
    assert ok(client.get(f"{L}/shipments", headers=b)) == []
    shipped = ok(client.post(f"{L}/shipments/{shipment['id']}/ship", headers=op))
    backorder = ok(client.get(f"{L}/orders/{shipped['backorder_id']}", headers=a))
    assert [(x["item_id"], x["qty"]) for x in backorder["lines"]] == [(bolts, 2)]
    note = client.get(f"{L}/shipments/{shipment['id']}/delivery-note.pdf", headers=a)
    assert note.status_code == 200 and note.content.startswith(b"%PDF")
    assert (
        client.get(f"{L}/shipments/{shipment['id']}/delivery-note.pdf", headers=b).status_code
        == 404
    )

    # Stock and ledger agree; the bill matches the hand calculation.
    assert ok(client.get(f"{L}/reconcile", headers=op))["ok"] is True
    left = {
        (q["bin_code"], q["sku"], q["lot_code"]): q["on_hand"]
        for q in ok(client.get(f"{L}/stock", headers=a))
    }
    assert {k[:2]: v for k, v in left.items() if k[1] == "BOLT-M8"} == {("S-01-01-2", "BOLT-M8"): 7}
    period = f"{datetime.now(SEOUL):%Y-%m}"
    bill = ok(client.get(f"{L}/invoices/{ca}/{period}", headers=a))
    # End of today: S-01-01-2 holds 7 bolts (1 pallet) + 50 grease (1); S-01-02-1 30 grease
    # (1) = 3 pallets × 1 day × 1,000. Received lines 3 × 3,000; shipped lines 2 × 4,000.
    amounts = {x["kind"]: (x["quantity"], x["amount_krw"]) for x in bill["lines"]}
    assert amounts == {"storage": (3.0, 3000), "inbound": (3, 9000), "outbound": (2, 8000)}
    assert bill["total_krw"] == 20000
    assert client.get(f"{L}/invoices/{ca}/{period}", headers=b).status_code == 404
    csv_text = client.get(f"{L}/invoices/{ca}/{period}/csv", headers=a).text
    assert csv_text.splitlines()[-1].endswith(",20000")
    pdf = client.get(f"{L}/invoices/{ca}/{period}/pdf", headers=op)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    b_bill: Any = ok(client.get(f"{L}/invoices/{cb}/{period}", headers=b))
    assert b_bill["total_krw"] == 2 * 1000 + 3000  # 40 housings = 2 pallets; one line in
