"""Previews: a few rows computed when an offer is published, from the provider's own data
through the same reads a pull uses, never wider than the terms (fields, resolution) allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sharing_world import constraint, plant_with_readings, use

from conftest import Context, World
from sandan.sharing import policy as odrl
from sandan.sharing.service import previews

API = "/api/v1/sharing"


def _policy(*constraints: dict[str, Any], prohibitions: list[Any] | None = None) -> dict[str, Any]:
    return {
        "uid": "urn:sandan:policy:preview",
        "permissions": [use(*constraints)],
        "prohibitions": prohibitions or [],
    }


def _publish(
    client: TestClient, world: World, selection: dict[str, Any], terms: dict[str, Any], **more: Any
) -> dict[str, Any]:
    made = client.post(
        f"{API}/offers",
        json={"title": "Preview me", "selection": selection, "contract_policy": terms, **more},
        headers=world.headers("admin_a"),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_product_preview_shows_the_latest_rows_of_the_permitted_fields(
    client: TestClient, ctx: Context, world: World
) -> None:
    plant = plant_with_readings(ctx, world, client)
    selection = {"type": "product", "product": "line_hourly", "line_id": plant["line"]}
    terms = _policy(constraint("fields", "is_any_of", ["hour", "kwh", "oee"]))
    offer = _publish(client, world, selection, terms)
    rows = offer["preview"]
    assert len(rows) == 5
    assert all(set(r) == {"hour", "kwh", "oee"} for r in rows)
    assert rows[-1]["kwh"] == pytest.approx(60.0)  # 60 kW for the hour before the end
    last = datetime.fromisoformat(rows[-1]["hour"].replace("Z", "+00:00"))
    assert last == plant["end"] - timedelta(hours=1)
    # B sees the same preview in the catalogue detail.
    seen = client.get(f"{API}/offers/{offer['id']}", headers=world.headers("admin_b")).json()
    assert seen["preview"] == rows


def test_a_telemetry_preview_is_no_finer_than_the_terms(
    client: TestClient, ctx: Context, world: World
) -> None:
    plant = plant_with_readings(ctx, world, client)
    power = plant["machine"].tags["power"]
    raw = {"type": "telemetry", "tag_ids": [power], "resolution": 0}
    # Raw readings offered and allowed: the last five raw readings.
    free = _publish(client, world, raw, _policy())
    assert [set(r) for r in free["preview"]] == [{"tag_id", "ts", "value"}] * 5
    assert free["preview"][-1]["value"] == pytest.approx(60.0)
    # Raw offered but the terms say hourly or coarser: the preview shows hourly rollups.
    hourly = _publish(client, world, raw, _policy(constraint("resolution", "gteq", 3600)))
    stamps = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in hourly["preview"]]
    assert stamps and all(s.minute == 0 for s in stamps)
    assert all("value" not in r and r["avg"] == pytest.approx(60.0) for r in hourly["preview"])
    assert len(hourly["preview"]) == 5


def test_a_device_gone_quiet_still_previews_its_last_rows(
    client: TestClient, ctx: Context, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window ends at the newest reading, not at the clock: three hours (or a minute
    past the hour) after the last reading the preview still shows the last five rows."""
    plant = plant_with_readings(ctx, world, client)
    power = plant["machine"].tags["power"]
    later = plant["end"] + timedelta(hours=3, minutes=59)
    monkeypatch.setattr(previews, "utcnow", lambda: later)
    raw = {"type": "telemetry", "tag_ids": [power], "resolution": 0}
    rows = _publish(client, world, raw, _policy())["preview"]
    stamps = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in rows]
    assert len(rows) == 5 and stamps[-1] == plant["end"] - timedelta(minutes=1)
    hourly = {**raw, "resolution": 3600}
    rows = _publish(client, world, hourly, _policy())["preview"]
    assert [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in rows][-1] == (
        plant["end"] - timedelta(hours=1)
    )


def test_no_preview_when_opted_out_or_the_terms_forbid_use(
    client: TestClient, ctx: Context, world: World
) -> None:
    plant = plant_with_readings(ctx, world, client)
    selection = {"type": "product", "product": "line_hourly", "line_id": plant["line"]}
    opted_out = _publish(client, world, selection, _policy(), preview=False)
    assert opted_out["preview"] == []
    assert opted_out["selection"]["preview"] is False
    barred = _publish(
        client, world, selection, _policy(prohibitions=[{"action": "use", "constraints": []}])
    )
    assert barred["preview"] == []
    # A product the terms only allow coarser than it is made: no preview either.
    daily_only = _publish(
        client, world, selection, _policy(constraint("resolution", "gteq", 86_400))
    )
    assert daily_only["preview"] == []


def test_no_data_yet_means_an_empty_preview_not_an_error(client: TestClient, world: World) -> None:
    quiet = {"type": "telemetry", "tag_ids": [world.tags["A"]], "resolution": 3600}
    offer = _publish(client, world, quiet, _policy())
    assert offer["status"] == "published" and offer["preview"] == []


# --- the rule itself, without a database ---------------------------------------------------


def _odrl(*constraints: dict[str, Any], prohibitions: list[Any] | None = None) -> odrl.Policy:
    return odrl.Policy.model_validate(_policy(*constraints, prohibitions=prohibitions))


def test_fields_every_permission_allows_and_no_prohibition_bars() -> None:
    listed = _odrl(constraint("fields", "is_any_of", ["a", "b"]))
    assert previews.allows(listed, 3600, frozenset({"a", "b"}))
    assert not previews.allows(listed, 3600, frozenset({"a", "c"}))
    two = odrl.Policy.model_validate(
        {
            "uid": "urn:p:two",
            "permissions": [
                use(constraint("fields", "is_any_of", ["a", "b"])),
                use(constraint("fields", "is_none_of", ["b"])),
            ],
        }
    )
    assert previews.allows(two, 0, frozenset({"a"}))
    assert not previews.allows(two, 0, frozenset({"b"}))  # one permission keeps b back
    barred_pair = _odrl(
        prohibitions=[
            {"action": "use", "constraints": [constraint("fields", "is_all_of", ["a", "b"])]}
        ]
    )
    assert previews.allows(barred_pair, 0, frozenset({"a"}))
    assert not previews.allows(barred_pair, 0, frozenset({"a", "b"}))
    # Who may use it is the access policy's business; a recipient prohibition is no bar here.
    by_industry = _odrl(
        prohibitions=[
            {"action": "use", "constraints": [constraint("recipient_industry", "eq", "C20")]}
        ]
    )
    assert previews.allows(by_industry, 0, frozenset({"a"}))


def test_resolution_bounds_and_unknown_resolution() -> None:
    hourly = _odrl(constraint("resolution", "gteq", 3600))
    assert previews.allows(hourly, 3600, frozenset({"a"}))
    assert not previews.allows(hourly, 60, frozenset({"a"}))
    assert not previews.allows(hourly, None, frozenset({"a"}))  # a file without times: fail closed
    assert previews.allows(_odrl(), None, frozenset({"a"}))
    distribute_only = odrl.Policy.model_validate(
        {"uid": "urn:p:d", "permissions": [{"action": "distribute"}]}
    )
    assert not previews.allows(distribute_only, 0, frozenset({"a"}))


def test_the_preview_window_stays_inside_the_offer_coverage() -> None:
    from sandan.sharing.models import Offer

    end = datetime(2026, 1, 10, tzinfo=UTC)
    offer = Offer(temporal_start=end - timedelta(hours=3), temporal_end=end)
    start, stop = previews.window(offer, timedelta(days=2), 3600, "Asia/Seoul")
    assert (start, stop) == (end - timedelta(hours=3), end)
    now = datetime.now(UTC)
    _, whole_day = previews.window(Offer(), timedelta(days=8), 86_400, "Asia/Seoul")
    assert whole_day.astimezone(ZoneInfo("Asia/Seoul")).hour == 0 and whole_day <= now
