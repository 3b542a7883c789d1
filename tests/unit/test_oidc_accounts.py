"""Staff sign-in with the identity provider, offline: the group mapping file, accounts from groups, the cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.config.settings import Settings
from bot.staff.auth import authenticate, create_agent
from bot.staff.models import Agent, StaffAudit
from bot.staff.oidc import Identity, OidcError, Pending, seal, unseal
from bot.staff.oidc_accounts import sign_in, username_from
from bot.staff.oidc_groups import GroupMapping, GroupMappingError

DEPARTMENTS = ["buergerservice", "ordnungsamt"]
AGENCIES = ["musterstadt", "landkreis"]
MAPPING = """
groups:
  /Auskunft/Bürgerservice:
    departments: [buergerservice]
    agencies: [musterstadt]
  /Auskunft/Ordnungsamt:
    departments: [ordnungsamt, buergerservice]
    agencies: [musterstadt]
  /Auskunft/Leitung:
    roles: [manager]
    agencies: [musterstadt, landkreis]
  /Auskunft/Redaktion:
    roles: [editor]
    agencies: [landkreis]
"""


def _mapping(tmp_path: Path, text: str = MAPPING, agencies: tuple = tuple(AGENCIES)) -> GroupMapping:
    path = tmp_path / "oidc-groups.yml"
    path.write_text(text, encoding="utf-8")
    return GroupMapping.load(path, DEPARTMENTS, agencies)


def _person(*groups: str, sub: str = "f3a1", username: str = "j.weiss", name: str = "Jürgen Weiß") -> Identity:
    return Identity(subject=f"https://login.example/realms/stadt {sub}", username=username, display_name=name,
                    groups=groups)


def test_the_rights_are_the_union_of_the_mapped_groups(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    assert mapping.rights(["/Andere/Gruppe"]) is None and mapping.rights([]) is None
    both = mapping.rights(["/Auskunft/Bürgerservice", "/Auskunft/Ordnungsamt", "/Fremd"])
    assert both is not None
    assert both.departments == ("buergerservice", "ordnungsamt") and both.agencies == ("musterstadt",)
    assert not both.manager and not both.editor
    boss = mapping.rights(["/Auskunft/Leitung"])
    assert boss is not None and boss.manager and boss.agencies == ("musterstadt", "landkreis")
    single = _mapping(tmp_path, "groups:\n  g:\n    roles: [manager]\n", ("musterstadt",)).rights(["g"])
    assert single is not None and single.agencies is None  # one agency: no agencies named = every agency


def test_with_several_agencies_every_group_names_its_agencies(tmp_path: Path) -> None:
    with pytest.raises(GroupMappingError, match="group 'g': this deployment serves several agencies"):
        _mapping(tmp_path, "groups:\n  g:\n    roles: [manager]\n")


@pytest.mark.parametrize("text, message", [
    ("groups: {}", "expected a 'groups:' map"),
    ("- a\n- b", "expected a 'groups:' map"),
    ("groups:\n  g:\n    departments: [bauamt]", "group 'g': unknown department 'bauamt'; one of buergerservice"),
    ("groups:\n  g:\n    agencies: [musterstadt]", "give at least one department or role"),
    ("groups:\n  g:\n    roles: [admin]", "unknown role 'admin'; one of manager, editor"),
    ("groups:\n  g:\n    agencies: [x]\n    roles: [editor]", "unknown agency 'x'"),
    ("groups:\n  g:\n    rollen: [editor]", "unknown key 'rollen'"),
    ("groups:\n  g:\n    departments: buergerservice", "departments must be a list"),
    ("groups: [", "not valid YAML"),
])
def test_a_bad_mapping_file_is_refused_with_a_message_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GroupMappingError, match="oidc_groups_file") as refused:
        _mapping(tmp_path, text)
    assert message in str(refused.value)


def test_a_missing_mapping_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GroupMappingError, match="cannot be read"):
        GroupMapping.load(tmp_path / "fehlt.yml", DEPARTMENTS, AGENCIES)


@pytest.mark.parametrize("hint, name", [("Jürgen Weiß", "juergen.weiss"), ("j.weiss@stadt.de", "j.weiss.stadt.de"),
                                        ("ab", "staff.ab"), ("日本", "staff"), ("../../etc", "etc"),
                                        ("x" * 80, "x" * 34), ("Anna-Lena_Ö", "anna-lena_oe")])
def test_user_names_are_made_safe(hint: str, name: str) -> None:
    assert username_from(hint) == name


def test_first_sign_in_creates_the_account_and_later_ones_update_it(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mapping = _mapping(tmp_path)
    agent = sign_in(session, _person("/Auskunft/Bürgerservice"), mapping)
    assert (agent.username, agent.display_name, agent.departments, agent.agencies) == (
        "j.weiss", "Jürgen Weiß", ["buergerservice"], ["musterstadt"])
    assert not agent.is_manager and agent.external_subject == "https://login.example/realms/stadt f3a1"
    again = sign_in(session, _person("/Auskunft/Leitung", "/Auskunft/Redaktion", name="Dr. Jürgen Weiß"), mapping)
    assert again.id == agent.id and again.is_manager and again.is_editor and again.departments == []
    assert again.agencies == ["musterstadt", "landkreis"] and again.display_name == "Dr. Jürgen Weiß"
    same = sign_in(session, _person("/Auskunft/Leitung", "/Auskunft/Redaktion", name="Dr. Jürgen Weiß"), mapping)
    assert same.id == agent.id
    audit = session.execute(select(StaffAudit.actor, StaffAudit.action, StaffAudit.detail)).all()
    assert [(a, b) for a, b, _ in audit] == [("oidc", "created"), ("oidc", "updated")]  # no change: no row
    assert audit[1][2] == {"departments": [], "agencies": ["musterstadt", "landkreis"], "roles": ["manager", "editor"],
                           "display_name": "changed"}


def test_a_taken_user_name_gets_a_number_and_the_password_login_refuses_provider_accounts(session,  # type: ignore[no-untyped-def]
                                                                                          tmp_path: Path) -> None:
    from bot.tickets.departments import Departments

    known = Departments.load(Path(__file__).resolve().parents[2] / "departments.yml")
    mapping = GroupMapping.load(_mapping_file(tmp_path, known.keys()[0]), known.keys(), ["musterstadt"])
    create_agent(session, "j.weiss", "Lokales Konto", "ein-langes-passwort-123", [known.keys()[0]], known=known)
    first = sign_in(session, _person("g", sub="1"), mapping)
    second = sign_in(session, _person("g", sub="2"), mapping)
    assert (first.username, second.username) == ("j.weiss-2", "j.weiss-3")
    first.password_hash = session.execute(select(Agent.password_hash).where(Agent.username == "j.weiss")).scalar()
    assert authenticate(session, "j.weiss", "ein-langes-passwort-123") is not None
    assert authenticate(session, "j.weiss-2", "ein-langes-passwort-123") is None  # same hash, but a provider account


def _mapping_file(tmp_path: Path, department: str) -> Path:
    path = tmp_path / "groups.yml"
    path.write_text(f"groups:\n  g:\n    departments: [{department}]\n", encoding="utf-8")
    return path


def test_no_mapped_group_or_a_disabled_account_is_refused(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mapping = _mapping(tmp_path)
    with pytest.raises(OidcError) as refused:
        sign_in(session, _person("/Andere/Gruppe"), mapping)
    assert refused.value.code == "no_group"
    assert session.execute(select(Agent)).first() is None
    agent = sign_in(session, _person("/Auskunft/Leitung"), mapping)
    agent.active = False
    session.commit()
    with pytest.raises(OidcError) as refused:
        sign_in(session, _person("/Auskunft/Leitung"), mapping)
    assert refused.value.code == "disabled"


def test_the_pending_cookie_is_signed_and_expires() -> None:
    pending = Pending(state="s", nonce="n", verifier="v", next_url="/inbox", started=1000)
    value = seal(pending, b"k" * 32)
    assert unseal(value, b"k" * 32, now=1100) == pending
    body, _, signature = value.partition(".")
    for forged, key, now in ((value, b"x" * 32, 1100), (body + ".0" + signature[1:], b"k" * 32, 1100),
                             (value, b"k" * 32, 1000 + 601), (None, b"k" * 32, 1100), ("", b"k" * 32, 1100)):
        with pytest.raises(OidcError) as refused:
            unseal(forged, key, now=now)
        assert refused.value.code == "state"


def test_the_settings_name_a_bad_or_incomplete_provider_configuration(tmp_path: Path) -> None:
    groups = tmp_path / "g.yml"
    groups.write_text("groups: {}", encoding="utf-8")
    cases = [({"oidc_issuer": "http://login.example/realms/x"}, "oidc_issuer: 'http://login.example/realms/x'"),
             ({"oidc_issuer": "https://login.example/x?a=1"}, "is not an https:// URL"),
             ({"oidc_issuer": "https://login.example/x"}, "oidc_client_id: empty"),
             ({"oidc_issuer": "https://login.example/x", "oidc_client_id": "auskunft"}, "oidc_client_secret: not set"),
             ({"oidc_issuer": "https://login.example/x", "oidc_client_id": "auskunft", "oidc_client_secret": "geheim",
               "oidc_groups_file": tmp_path / "fehlt.yml"}, "fehlt.yml' does not exist")]
    for values, message in cases:
        with pytest.raises(ValidationError) as refused:
            Settings(**values)
        assert message in str(refused.value) and "geheim" not in str(refused.value)
    ok = Settings(oidc_issuer="https://login.example/x", oidc_client_id="auskunft", oidc_client_secret="geheim",
                  oidc_groups_file=groups)
    assert "geheim" not in repr(ok) and ok.oidc_client_secret is not None


def test_two_first_sign_ins_at_the_same_moment_make_one_account(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.db.engine import make_engine, session_factory
    from bot.staff import oidc_accounts

    engine = make_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}")
    sessions = session_factory(engine)
    mapping = _mapping(tmp_path)
    person = _person("/Auskunft/Bürgerservice")
    free_username = oidc_accounts._free_username
    raced: list = []

    def meanwhile(session, hint):  # type: ignore[no-untyped-def]
        if not raced:  # after this sign-in found no account, the other tab's sign-in creates it
            raced.append(True)
            with sessions() as other:
                raced.append(sign_in(other, person, mapping).username)
        return free_username(session, hint)

    monkeypatch.setattr(oidc_accounts, "_free_username", meanwhile)
    with sessions() as session:
        agent = sign_in(session, person, mapping)
        assert agent.username == raced[1] == "j.weiss"
        assert session.execute(select(Agent)).scalars().all() == [agent]
    engine.dispose()
