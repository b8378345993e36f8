"""`cssec server install`: no code, no install; each refusal named; nothing half-made."""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.server import START, Desk, ServerFactory, foreign_code

from cssec.core.clock import zone
from cssec.core.codes import MacKey, encode_registration_key
from cssec.core.errors import (
    CssecError,
    ExpiredActivationCode,
    InvalidActivationCode,
    InvalidRegistrationKey,
    RevokedActivationCode,
    UnknownRegistrationKey,
    ValidationFailed,
    VendorUnreachable,
    WrongProduct,
)
from cssec.core.license import LicenseState, Product
from cssec.server.licensing import install as install_module
from cssec.server.licensing.errors import AlreadyInstalled, DataDirNotEmpty
from cssec.server.models import LicenseSlot, ServerInfo, SystemEvent, User
from cssec.server.storage.datadir import DataDir, open_database


def _mistype(code: str, index: int = 8) -> str:
    """Change one symbol (never a hyphen): the check character must catch it."""
    chars = list(code)
    while chars[index] == "-":
        index += 1
    chars[index] = "7" if chars[index] != "7" else "8"
    return "".join(chars)


def _servers_in(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("server"))


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".install-" in p.name)


async def test_online_install_with_registration_key_fills_both_slots(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract(with_dcs=True)
    settings = await servers.install(registration_key=contract.registration_key)

    data = DataDir(settings.data_dir)
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(data.session_secret.stat().st_mode) == 0o600
    assert data.read_vendor_keys(), "the vendor's public key is pinned"
    engine, sessions = open_database(data)
    try:
        with sessions() as session:
            slots = {s.product: s for s in session.scalars(select(LicenseSlot))}
            assert set(slots) == {"CS", "DCS"}
            assert slots["CS"].activation_code == contract.codes["CS"].replace("-", "")
            assert slots["CS"].expires_on == contract.end
            assert slots["CS"].confirmed_online
            assert slots["CS"].last_success == START
            user = session.scalars(select(User)).one()
            assert user.username == "admin"
            assert user.password_hash.startswith("$argon2")
            info = session.get(ServerInfo, 1)
            assert info is not None
            assert info.install_mode == "online"
            kinds = [e.kind for e in session.scalars(select(SystemEvent))]
            assert kinds == ["server.installed", "license.activated", "license.activated"]
    finally:
        engine.dispose()


async def test_online_install_with_activation_code(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract()
    server = servers.open(await servers.install(activation_code=contract.codes["CS"]))
    await server.login()
    body = (await server.client.get("/api/v1/licenses")).json()
    assert body == [
        {
            "product": "CS",
            "product_name": "C/S Sec.",
            "version_type": "製品版",
            "activation_code": contract.codes["CS"],
            "status": "activated",
            "stopped": [],
            "expires_on": contract.end.isoformat(),
            "seats": 25,
            "seats_used": 0,
        }
    ]


async def test_offline_install_checks_structure_and_expiry_only(
    servers: ServerFactory, network: object
) -> None:
    code = foreign_code(expires_on=date(2027, 3, 31))
    settings = await servers.install(activation_code=code, offline=True)
    assert network.requests == []  # type: ignore[attr-defined]
    engine, sessions = open_database(DataDir(settings.data_dir))
    try:
        with sessions() as session:
            slot = session.scalars(select(LicenseSlot)).one()
            assert slot.expires_on == date(2027, 3, 31)
            assert not slot.confirmed_online
            assert slot.grace_days == 30
    finally:
        engine.dispose()
    assert not DataDir(settings.data_dir).read_vendor_keys()


@pytest.mark.parametrize("offline", [True, False])
async def test_mistyped_code_is_invalid_and_nothing_is_made(
    servers: ServerFactory, desk: Desk, tmp_path: Path, offline: bool
) -> None:
    code = desk.contract().codes["CS"]
    with pytest.raises(InvalidActivationCode) as caught:
        await servers.install(activation_code=_mistype(code), offline=offline)
    assert caught.value.fields["reason"] == "check_failed"
    ja, en = caught.value.message("ja"), caught.value.message("en")
    assert "無効なアクティベーションコード" in ja
    assert "法人お問合せ窓口" in ja
    assert "Invalid activation code" in en
    assert "contact corporate support" in en
    assert not (tmp_path / "server1").exists()
    assert _leftovers(tmp_path) == []


async def test_bad_character_says_where(servers: ServerFactory, desk: Desk) -> None:
    code = desk.contract().codes["CS"]
    typo = code[:9] + "#" + code[10:]
    with pytest.raises(InvalidActivationCode) as caught:
        await servers.install(activation_code=typo, offline=True)
    assert caught.value.fields["position"] == 10
    assert "10" in caught.value.message("ja")
    assert "10" in caught.value.message("en")


async def test_lapsed_code_is_expired(servers: ServerFactory, desk: Desk, tmp_path: Path) -> None:
    old = desk.contract(start=date(2024, 1, 1), months=12)  # ended 2024-12-31
    for offline in (True, False):
        with pytest.raises(ExpiredActivationCode) as caught:
            await servers.install(activation_code=old.codes["CS"], offline=offline)
        assert caught.value.fields["expires_on"] == "2024-12-31"
        assert "有効期限が切れています" in caught.value.message("ja")
        assert "expired" in caught.value.message("en")
    assert _servers_in(tmp_path) == []


async def test_code_in_grace_installs_in_grace(servers: ServerFactory) -> None:
    code = foreign_code(expires_on=START.date() - timedelta(days=10))
    server = servers.open(await servers.install(activation_code=code, offline=True))
    await server.login()
    assert (await server.client.get("/api/v1/licenses")).json()[0]["status"] == "grace_period"


async def test_code_for_another_product_is_wrong_product(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract(with_dcs=True)
    with pytest.raises(WrongProduct) as caught:
        await servers.install(activation_code=contract.codes["DCS"], offline=True)
    assert caught.value.fields["expected"] == "CS"
    assert caught.value.fields["actual"] == "DCS"


async def test_registration_key_where_a_code_belongs(servers: ServerFactory, desk: Desk) -> None:
    key = desk.contract().registration_key
    with pytest.raises(InvalidActivationCode) as caught:
        await servers.install(activation_code=key, offline=True)
    assert caught.value.fields["reason"] == "wrong_kind"


async def test_no_code_no_install(servers: ServerFactory, desk: Desk) -> None:
    with pytest.raises(ValidationFailed):
        await servers.install()
    key = desk.contract().registration_key
    with pytest.raises(ValidationFailed):
        await servers.install(registration_key=key, offline=True)


async def test_registration_key_errors(servers: ServerFactory, desk: Desk) -> None:
    key = desk.contract().registration_key
    with pytest.raises(InvalidRegistrationKey):
        await servers.install(registration_key=_mistype(key, 5))
    # Well-formed (check character right) but never issued: the vendor says unknown.
    forged = encode_registration_key(serial=99, key=MacKey(kid=1, secret=b"x" * 32)).formatted
    with pytest.raises(UnknownRegistrationKey):
        await servers.install(registration_key=forged)


async def test_online_refusals(servers: ServerFactory, desk: Desk) -> None:
    with pytest.raises(InvalidActivationCode) as caught:
        await servers.install(activation_code=foreign_code(expires_on=date(2027, 6, 30)))
    assert caught.value.fields["reason"] == "mac_failed"
    contract = desk.contract()
    desk.revoke(contract.codes["CS"])
    with pytest.raises(RevokedActivationCode):
        await servers.install(activation_code=contract.codes["CS"])


async def test_vendor_unreachable_online_install_fails_cleanly(
    servers: ServerFactory, desk: Desk, network: object, tmp_path: Path
) -> None:
    code = desk.contract().codes["CS"]
    network.mode = "down"  # type: ignore[attr-defined]
    with pytest.raises(VendorUnreachable):
        await servers.install(activation_code=code)
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "server1").exists()


async def test_crash_while_building_leaves_nothing(
    servers: ServerFactory, desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = desk.contract().codes["CS"]

    def broken(self: DataDir, keys: object, **_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(DataDir, "write_vendor_keys", broken)
    with pytest.raises(OSError, match="disk full"):
        await servers.install(activation_code=code)
    assert not (tmp_path / "server1").exists()
    assert _leftovers(tmp_path) == []


async def test_refuses_to_install_over_an_installation(servers: ServerFactory, desk: Desk) -> None:
    code = desk.contract().codes["CS"]
    settings = await servers.install(activation_code=code)
    before = sorted(p.name for p in settings.data_dir.iterdir())
    with pytest.raises(AlreadyInstalled):
        await install_module.install_server(
            install_module.InstallRequest(
                data_dir=settings.data_dir,
                vendor_url="http://vendor.test",
                admin_password="another password",
                activation_code=code,
            ),
            clock=servers.clock,
            tz=zone(settings.timezone),
            transport=servers.network,
        )
    assert sorted(p.name for p in settings.data_dir.iterdir()) == before


async def test_refuses_a_non_empty_directory_but_takes_an_empty_one(
    servers: ServerFactory, desk: Desk, tmp_path: Path
) -> None:
    code = desk.contract().codes["CS"]
    (tmp_path / "server1").mkdir()
    (tmp_path / "server1" / "notes.txt").write_text("mine")
    with pytest.raises(DataDirNotEmpty):
        await servers.install(activation_code=code)
    assert (tmp_path / "server1" / "notes.txt").read_text() == "mine"
    (tmp_path / "server2").mkdir()
    settings = await servers.install(activation_code=code)
    assert settings.data_dir.name == "server2"
    assert DataDir(settings.data_dir).is_installed()


async def test_a_code_is_not_used_up(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract(with_dcs=True)
    first = await servers.install(registration_key=contract.registration_key)
    second = await servers.install(registration_key=contract.registration_key)
    third = await servers.install(activation_code=contract.codes["CS"])
    fourth = await servers.install(activation_code=contract.codes["CS"], offline=True)
    for settings in (first, second, third, fourth):
        assert DataDir(settings.data_dir).is_installed()


async def test_short_admin_password_is_refused(servers: ServerFactory, desk: Desk) -> None:
    code = desk.contract().codes["CS"]
    with pytest.raises(ValidationFailed):
        await install_module.install_server(
            install_module.InstallRequest(
                data_dir=servers.tmp_path / "short",
                vendor_url="http://vendor.test",
                admin_password="short",
                activation_code=code,
            ),
            clock=servers.clock,
            tz=zone(None),
            transport=servers.network,
        )


def test_password_file_first_line(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("s3cret-password\nignored\n")
    assert install_module.read_password_file(path) == "s3cret-password"
    path.write_text("short\n")
    with pytest.raises(ValidationFailed):
        install_module.read_password_file(path)
    with pytest.raises(ValidationFailed):
        install_module.read_password_file(tmp_path / "missing")


def test_every_refusal_is_bilingual() -> None:
    for error in (
        AlreadyInstalled(path="/x"),
        DataDirNotEmpty(path="/x"),
        ExpiredActivationCode(expires_on="2026-01-01"),
        WrongProduct(expected="CS", actual="DCS"),
    ):
        assert isinstance(error, CssecError)
        assert error.message("ja") != error.message("en")
        assert "{" not in error.message("ja") + error.message("en")
    assert json.dumps(AlreadyInstalled(path="/x").to_dict("ja"), ensure_ascii=False)


def test_leftover_helper_sees_temp_dirs(tmp_path: Path) -> None:
    (tmp_path / ".server1.install-abc").mkdir()
    assert _leftovers(tmp_path) == [".server1.install-abc"]
    assert Product.CS.value == "CS"
    assert LicenseState.ACTIVATED.value == "activated"


async def test_the_install_brings_the_template_only_with_a_damage_cleanup_license(
    servers: ServerFactory, desk: Desk
) -> None:
    """The Damage Cleanup template comes with the install under the contract's DCS code, so a
    DCS site's clients have it from the start; a C/S Sec.-only site is never sent it."""
    template_dir = "damage_cleanup_template"
    for with_dcs in (True, False):
        contract = desk.contract(with_dcs=with_dcs)
        settings = await servers.install(registration_key=contract.registration_key)
        store = settings.data_dir / "components"
        kinds = sorted(p.name for p in store.iterdir() if any(p.iterdir()))
        assert kinds, "the install holds its components"
        assert (template_dir in kinds) is with_dcs, (with_dcs, kinds)
