"""Who may open what, through the app (AppTest): the sign-in page, the lockout, sign-out and a
changed password, two consultants kept apart on every page whatever the session state or the
address says, participants on facilitator pages, the sidebar, the Users page, and OIDC."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, ROOT, add_consultant, open_workshop_as, sign_in_as
from streamlit.testing.v1 import AppTest
from test_app import texts

from app_pages.common import OPEN_KEY, SESSION_KEY
from assessment.demo import DEMO_CLIENT, ensure_demo
from assessment.questionnaire import load_shipped

TIMEOUT = 60
UNICODE_PASSWORD = "Zürich-Ωmega-密码"
WORKSHOP_PAGES = ["app_pages/facilitator.py", "app_pages/projector.py", "app_pages/results.py",
                  "app_pages/plan.py"]
CONSULTANT_PAGES = [*WORKSHOP_PAGES, "app_pages/clients.py", "app_pages/compare.py",
                    "app_pages/users.py"]


def app(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def visit(at: AppTest, page: str | None = None) -> AppTest:
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def everything(at: AppTest) -> str:
    """Every text on the page, widgets' labels and options included."""
    parts = [texts(at)]
    for kind in ("selectbox", "multiselect", "radio"):
        for w in getattr(at, kind):
            parts += [str(w.label), *map(str, w.options)]
    parts += [str(d.value) for d in at.dataframe]
    return "\n".join(parts)


def sidebar(at: AppTest) -> list[str]:
    return [e.proto.label for e in at.sidebar if e.type == "page_link"]


@pytest.fixture
def firm(db):
    """Two consultants with a client and a workshop each, and the demo."""
    ensure_demo(db, load_shipped())
    made = {}
    for name, client in (("ann", "Acme Ferries"), ("bob", "Bolt Mining")):
        user = add_consultant(db, name)
        owned = db.create_client_for(user, client, sector="Transport")
        made[name] = db.create_workshop_for(user, owned.id, f"{client} offsite", ["commitment"])
    return made


# ---------------------------------------------------------------- signing in

def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not at.exception, at.exception
    return at


def test_a_non_ascii_password_signs_in_and_a_wrong_one_is_refused(db):
    db.add_user("anna", UNICODE_PASSWORD)  # at the real cost
    at = visit(app(), "app_pages/signin.py")
    sign_in(at, "anna", "Zurich-Omega-密码")
    assert "Wrong username or password." in texts(at)
    assert SESSION_KEY not in at.session_state
    sign_in(at, "anna", UNICODE_PASSWORD)
    assert db.session_user(at.session_state[SESSION_KEY]).username == "anna"


def test_after_ten_failures_the_right_password_is_refused_and_the_wait_is_stated(db):
    add_consultant(db, "anna")
    at = visit(app(), "app_pages/signin.py")
    waits = []
    db.sleep = waits.append  # this store records the waits instead of sleeping
    for _ in range(10):
        assert db.authenticate("anna", "a wrong password", "10.0.0.1") is None
    assert waits == [1.0, 2.0, 3.0, 4.0, 5.0]
    sign_in(at, "anna", PASSWORD)
    assert "Too many failed attempts: try again in 15 minutes" in texts(at)
    assert SESSION_KEY not in at.session_state


def test_a_page_of_the_app_without_any_account_says_how_to_make_one(db):
    at = visit(app(), "app_pages/signin.py")
    assert "python -m assessment user add NAME --admin" in texts(at)
    assert "make run" in texts(at)


def test_signing_out_ends_the_session_for_good(db, firm):
    at = app()
    sign_in_as(at, db, "ann")
    visit(at, "app_pages/signin.py")
    token = at.session_state[SESSION_KEY]
    at.button(key="sign_out").click().run()
    assert db.session_user(token) is None
    assert at.text_input(key="signin_username")  # the sign-in form again
    again = app()
    again.session_state[SESSION_KEY] = token  # the old token, brought back
    visit(again, "app_pages/facilitator.py")
    assert "Sign in first" in texts(again) and "Acme" not in everything(again)


def test_changing_my_password_keeps_me_signed_in_here_and_signs_out_elsewhere(db, firm):
    here, elsewhere = app(), app()
    sign_in_as(here, db, "ann")
    sign_in_as(elsewhere, db, "ann")
    other_token = elsewhere.session_state[SESSION_KEY]
    visit(here, "app_pages/signin.py")
    db.scrypt_n = 2**4  # (the page's store hashes at the real cost; this only speeds setup)
    here.text_input(key="password_current").input(PASSWORD)
    here.text_input(key="password_new").input(UNICODE_PASSWORD)
    here.text_input(key="password_again").input(UNICODE_PASSWORD)
    here.button(key="FormSubmitter:change_password-Change my password").click().run()
    assert "Password changed" in texts(here)
    assert db.session_user(here.session_state[SESSION_KEY]).username == "ann"
    assert db.session_user(other_token) is None
    assert db.authenticate("ann", UNICODE_PASSWORD).username == "ann"


# ---------------------------------------------------------------- participants and strangers

@pytest.mark.parametrize("page", CONSULTANT_PAGES)
def test_a_participant_on_a_consultant_page_is_asked_to_sign_in_and_sees_no_client(
        db, firm, page):
    person, token = db.join(firm["ann"].code, "Pat", "manager")
    at = app(query={"p": token})
    at.session_state[OPEN_KEY] = firm["ann"].id  # even with an id in the session state
    visit(at, page)
    shown = everything(at)
    assert "Sign in first" in shown
    for name in ("Acme", "Bolt", DEMO_CLIENT, firm["ann"].code):
        assert name not in shown, (page, name)
    assert sidebar(at) == ["Home", "Answer", "Sign in"]


def test_the_sidebar_shows_consultant_pages_only_when_signed_in_and_users_only_to_admins(
        db, firm):
    assert sidebar(visit(app())) == ["Home", "Answer", "Sign in"]
    at = app()
    sign_in_as(at, db, "ann")
    assert sidebar(visit(at)) == ["Home", "Answer", "Account", "Facilitator", "Projector",
                                  "Results", "Change plan", "My clients", "Side by side"]
    root = app()
    sign_in_as(root, db, "root", admin=True)
    assert "Users" in sidebar(visit(root))


# ---------------------------------------------------------------- two consultants

def test_the_facilitator_page_lists_my_clients_and_the_demo_marked_but_no_one_elses(db, firm):
    at = app()
    sign_in_as(at, db, "bob")
    visit(at, "app_pages/facilitator.py")
    assert at.selectbox(key="open_client").options == [
        "Bolt Mining", f"{DEMO_CLIENT} (demo: invented data)"]
    assert at.selectbox(key="new_client_choice").options == ["A new client…", "Bolt Mining"]
    assert "Acme" not in everything(at)


@pytest.mark.parametrize("page", WORKSHOP_PAGES)
@pytest.mark.parametrize("how", ["session state", "address"])
def test_another_consultants_workshop_is_refused_by_session_state_or_address(db, firm, page,
                                                                            how):
    acme = firm["ann"]
    at = app(query={"workshop": str(acme.id)} if how == "address" else None)
    sign_in_as(at, db, "bob")
    if how == "session state":
        at.session_state[OPEN_KEY] = acme.id
    visit(at, page)
    shown = everything(at)
    assert "No workshop of yours has that id" in shown
    assert "Acme" not in shown and acme.code not in shown
    assert OPEN_KEY not in at.session_state and "workshop" not in at.query_params


@pytest.mark.parametrize("forged", ["999999", "-1", "abc", "1 OR 1=1", "1e999"])
def test_a_forged_workshop_id_gets_the_same_refusal(db, firm, forged):
    at = app(query={"workshop": forged})
    sign_in_as(at, db, "bob")
    visit(at, "app_pages/results.py")
    assert "No workshop of yours has that id" in texts(at)


def test_my_own_workshop_opens_by_address_after_a_reload(db, firm):
    at = app(query={"workshop": str(firm["ann"].id)})
    sign_in_as(at, db, "ann")
    visit(at, "app_pages/facilitator.py")
    assert "Acme Ferries offsite" in texts(at) and firm["ann"].code in texts(at)


def test_my_clients_and_side_by_side_never_show_another_consultants_client(db, firm):
    acme = firm["ann"].client_id
    for page, state in (("app_pages/clients.py", {"clients_open": acme}),
                        ("app_pages/compare.py", {"compare_clients": [acme]})):
        at = app()
        sign_in_as(at, db, "bob")
        for key, value in state.items():
            at.session_state[key] = value
        visit(at, page)
        assert "Acme" not in everything(at), page


def test_a_workshop_given_to_a_colleague_opens_for_them_until_taken_back(db, firm):
    ann = db.user("ann")
    db.grant(ann, firm["ann"].client_id, "bob")
    at = app()
    open_workshop_as(at, db, firm["ann"], username="bob")
    visit(at, "app_pages/facilitator.py")
    assert "Acme Ferries offsite" in texts(at)
    db.revoke(ann, firm["ann"].client_id, "bob")
    at.run()
    assert "No workshop of yours has that id" in texts(at) and "Acme" not in texts(at)


def test_the_demo_opens_for_every_consultant_marked_and_read_only(db, firm):
    demo = next(w for w in db.workshops() if w.is_demo)
    at = app()
    sign_in_as(at, db, "bob")
    at.session_state[OPEN_KEY] = demo.id
    visit(at, "app_pages/facilitator.py")
    assert "Demo workshop" in texts(at)
    assert at.button(key="reopen_answering").disabled


def test_a_new_workshop_for_a_new_client_is_mine_alone(db, firm):
    at = app()
    sign_in_as(at, db, "bob")
    visit(at, "app_pages/facilitator.py")
    at.text_input(key="new_client_name").input("Cobalt Bank")
    at.button(key="FormSubmitter:new_workshop-Create workshop").click().run()
    assert "Cobalt Bank · Leadership workshop" in texts(at)
    assert [c.name for c in db.visible_clients(db.user("ann")) if not c.is_demo] == [
        "Acme Ferries"]


# ---------------------------------------------------------------- admins

def test_consultants_never_see_the_users_page(db, firm):
    at = app()
    sign_in_as(at, db, "ann")
    visit(at, "app_pages/users.py")
    assert "Only admins manage users" in texts(at) and not at.dataframe


def test_an_admin_adds_disables_and_gives_a_client_on_the_users_page(db, firm):
    at = app()
    sign_in_as(at, db, "root", admin=True)
    visit(at, "app_pages/users.py")
    assert list(at.dataframe[0].value["Username"]) == ["ann", "bob", "root"]
    at.text_input(key="add_username").input("cy")
    at.text_input(key="add_password").input(UNICODE_PASSWORD)
    at.text_input(key="add_again").input(UNICODE_PASSWORD)
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert db.user("cy").username == "cy"
    token = db.start_session(db.user("bob"))
    at.selectbox(key="users_chosen").set_value("bob").run()
    at.button(key="users_disable").click().run()
    assert db.user("bob").disabled and db.session_user(token) is None
    at.selectbox(key="users_client").set_value(firm["ann"].client_id).run()
    at.selectbox(key="users_grant_to").set_value("cy").run()
    at.button(key="users_grant").click().run()
    assert db.client_users(firm["ann"].client_id) == ["ann", "cy"]


def test_a_user_just_added_is_in_the_table_of_users_at_once_with_the_message(db, firm):
    at = app()
    sign_in_as(at, db, "root", admin=True)
    visit(at, "app_pages/users.py")
    at.text_input(key="add_username").input("cy")
    at.text_input(key="add_password").input(UNICODE_PASSWORD)
    at.text_input(key="add_again").input(UNICODE_PASSWORD)
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["Username"]) == ["ann", "bob", "cy", "root"]
    assert any(m.value.startswith("Added cy.") for m in at.success)
    at.run()  # the message is said once
    assert not any(m.value.startswith("Added cy.") for m in at.success)


# ---------------------------------------------------------------- OIDC

def test_with_an_identity_provider_configured_the_sign_in_page_offers_it_instead_of_passwords(
        db):
    at = app()
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "app",
                          "client_secret": "s", "server_metadata_url":
                          "https://idp.example.com/.well-known/openid-configuration"}
    visit(at, "app_pages/signin.py")
    assert at.button(key="oidc_login").label == "Sign in with your account"
    assert not at.text_input  # no password form


def test_authlib_is_installed_at_a_version_streamlits_login_accepts():
    from streamlit.auth_util import is_authlib_installed

    assert is_authlib_installed()  # requirements.txt pins it: st.login works when configured
