"""Logins, throttling, sessions, API tokens and device keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import PASSWORD, World
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal

LOGIN = "/api/v1/auth/login"


def test_cookie_login_me_and_logout(client: TestClient, world: World) -> None:
    r = client.post(LOGIN, json={"email": "Admin_A@test.example", "password": PASSWORD})
    assert r.status_code == 200
    assert "sandan_session" in r.cookies
    assert "httponly" in r.headers["set-cookie"].lower()
    me = client.get("/api/v1/auth/me").json()
    assert me["email"] == "admin_a@test.example" and me["company_id"] == world.companies["A"]
    assert "registry:write" in me["scopes"] and "import:write" not in me["scopes"]
    cookie = client.cookies.get("sandan_session")
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.set("sandan_session", cookie)  # replaying the old cookie does not work
    assert client.get("/api/v1/auth/me").status_code == 401


def test_forged_cookie_is_rejected(client: TestClient, world: World) -> None:
    client.cookies.set("sandan_session", "forged.value.sig")
    r = client.get("/api/v1/companies")
    assert r.status_code == 401 and r.json()["error"] == "NotAuthenticated"


def test_repeated_failures_throttle_the_account(client: TestClient, world: World) -> None:
    for _ in range(5):
        r = client.post(LOGIN, json={"email": "member_a@test.example", "password": "wrong-pass"})
        assert r.status_code == 401
    r = client.post(LOGIN, json={"email": "member_a@test.example", "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["error"] == "Throttled" and int(r.headers["retry-after"]) > 0
    other = client.post(LOGIN, json={"email": "member_b@test.example", "password": PASSWORD})
    assert other.status_code == 200  # only that account is throttled


def test_unknown_user_and_wrong_password_look_the_same(client: TestClient, world: World) -> None:
    a = client.post(LOGIN, json={"email": "nobody@test.example", "password": "x"})
    b = client.post(LOGIN, json={"email": "admin_a@test.example", "password": "x"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_token_scopes_limit_and_revocation(client: TestClient, world: World) -> None:
    client.post(LOGIN, json={"email": "admin_a@test.example", "password": PASSWORD})
    too_much = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["audit:read"]})
    assert too_much.status_code == 422 and too_much.json()["fields"][0]["field"] == "scopes"
    made = client.post("/api/v1/tokens", json={"name": "reader", "scopes": ["registry:read"]})
    assert made.status_code == 201
    token = made.json()["token"]
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/companies/{world.companies['A']}", headers=auth).status_code == 200
    write = client.patch(
        f"/api/v1/companies/{world.companies['A']}", headers=auth, json={"address": "x"}
    )
    assert write.status_code == 403  # the token lacks registry:write though its owner has it
    mint = client.post("/api/v1/tokens", headers=auth, json={"name": "y", "scopes": ["tokens"]})
    assert mint.status_code == 403
    client.post(LOGIN, json={"email": "admin_a@test.example", "password": PASSWORD})
    assert client.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 200
    client.cookies.clear()
    gone = client.get("/api/v1/companies", headers=auth)
    assert gone.status_code == 401 and "revoked" in gone.json()["detail"]


def test_device_key_acts_as_the_device_only(client: TestClient, world: World) -> None:
    r = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    assert r.status_code == 201
    key = r.json()["token"]
    assert key.startswith("sdd_")
    auth = {"Authorization": f"Bearer {key}"}
    # A device may send readings (next module) but never read the registry.
    assert client.get("/api/v1/companies", headers=auth).status_code == 403
    rotated = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    assert rotated.status_code == 201
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 401  # old key revoked


def test_device_principal_resolves(ctx: Context, world: World) -> None:
    with ctx.db.unit(Principal.system("t")) as s:
        _, key = identity.issue_device_secret(
            s, device_id=world.devices["B"], company_id=world.companies["B"], name="gw"
        )
    with ctx.db.unit() as s:
        principal = identity.principal_for_bearer(s, key)
    assert principal.kind == "device" and principal.device_id == world.devices["B"]
    assert principal.company_id == world.companies["B"] and principal.actor.startswith("device:")


def test_deactivated_user_loses_tokens_and_login(client: TestClient, world: World) -> None:
    r = client.patch(
        f"/api/v1/users/{world.users['member_a']}",
        json={"active": False},
        headers=world.headers("admin_a"),
    )
    assert r.status_code == 200
    assert client.get("/api/v1/companies", headers=world.headers("member_a")).status_code == 401
    login = client.post(LOGIN, json={"email": "member_a@test.example", "password": PASSWORD})
    assert login.status_code == 401


def test_company_admin_cannot_grant_complex_roles(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/users",
        headers=world.headers("admin_a"),
        json={
            "email": "sneaky@a.example",
            "name": "S",
            "password": "long-enough-pw",
            "role": "complex_operator",
        },
    )
    assert r.status_code in (403, 422)
    r = client.patch(
        f"/api/v1/users/{world.users['member_a']}",
        headers=world.headers("admin_a"),
        json={"role": "auditor"},
    )
    assert r.status_code in (403, 422)


def test_a_device_key_is_not_a_user(client: TestClient, world: World) -> None:
    key = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    ).json()["token"]
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403 and r.json()["error"] == "PermissionDenied"


def test_bad_emails_are_refused_by_the_service(ctx: Context, world: World) -> None:
    import pytest

    from sandan.core.errors import ValidationFailed

    system = Principal.system("t")
    with pytest.raises(ValidationFailed) as caught, ctx.db.unit(system) as s:
        identity.create_user(
            s, system, email="not-an-email", name="x", password="long-enough-pw", role="auditor"
        )
    assert caught.value.problems[0].field == "email"


def test_own_password_needs_a_session_and_the_current_password(
    client: TestClient, world: World
) -> None:
    uid = world.users["member_a"]
    by_token = client.patch(
        f"/api/v1/users/{uid}",
        headers=world.headers("member_a"),
        json={"password": "a-new-long-password"},
    )
    assert by_token.status_code == 403  # a leaked token cannot take over the account
    client.post(LOGIN, json={"email": "member_a@test.example", "password": PASSWORD})
    wrong = client.patch(
        f"/api/v1/users/{uid}",
        json={"password": "a-new-long-password", "current_password": "guess"},
    )
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "current_password"
    right = client.patch(
        f"/api/v1/users/{uid}",
        json={"password": "a-new-long-password", "current_password": PASSWORD},
    )
    assert right.status_code == 200
    client.cookies.clear()
    again = client.post(
        LOGIN, json={"email": "member_a@test.example", "password": "a-new-long-password"}
    )
    assert again.status_code == 200
