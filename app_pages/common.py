"""What the pages share: the store, the questionnaires, and the consultant's sign-in."""

from __future__ import annotations

import io
import os
import re
from base64 import b64encode
from urllib.parse import urlsplit

import segno
import streamlit as st

from assessment.actions import load_actions
from assessment.benchmarks import load_shipped_benchmarks
from assessment.questionnaire import load_shipped
from assessment.store import Forbidden, Store, User, Workshop, database_url
from assessment.workshop import Results, results


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    store = Store(url, questionnaires=questionnaires())
    store.create_schema()  # migrates to the latest revision; one process at a time
    return store


def open_store() -> Store:
    """The one Store of this process (its engine is thread-safe), schema created once."""
    return _store(database_url())


@st.cache_resource(show_spinner=False)
def questionnaires() -> dict:
    """The shipped questionnaires, parsed once per process (they are immutable)."""
    return load_shipped()


@st.cache_resource(show_spinner=False)
def benchmarks() -> dict:
    """The benchmark files in benchmarks/, parsed once per process and cross-checked."""
    return load_shipped_benchmarks(questionnaires())


@st.cache_resource(show_spinner=False)
def action_library():
    """The action library, parsed once per process and checked against the dimensions."""
    return load_actions(dimensions={d.id for q in questionnaires().values()
                                    for d in q.dimensions})


SESSION_KEY = "account_session"  # the session token of the signed-in consultant
OPEN_KEY = "open_workshop"  # the id of the workshop the consultant has opened
COOKIE = "cc_session"  # the browser keeps the session token here, so that a reload keeps it
SIGN_IN_PAGE = "app_pages/signin.py"
FACILITATOR_PAGE = "app_pages/facilitator.py"
_COOKIE_READ = "account_cookie_read"  # the cookie is looked at once per browser session
_COOKIE_WRITTEN = "account_cookie_written"  # this session has put a token into the cookie
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")  # what store.start_session hands out


def oidc_enabled() -> bool:
    """Whether sign-in goes through an identity provider (st.login): an [auth] section in
    .streamlit/secrets.toml. Passwords are not offered then."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _cookie_token() -> str | None:
    """The session token the browser sent with this session's websocket handshake."""
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - outside a browser session (AppTest) there are none
        return None
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


_OWNER = "account_owner"  # the account whose work this browser session's state holds


def signed_in_user(store: Store) -> User | None:
    """The consultant signed in on this browser session, if any: a live server-side session
    (from this session's state, else from the cookie a reload brings back), or with OIDC the
    account named by the provider's email address. Checked against the store on every run, so
    a sign-out, a password change or a disabled account takes effect at once.

    When an account is no longer the one signed in (signed out, its session ended, someone else
    signed in on the same tab), everything it left in this session's state goes: a prepared
    workbook, picks, messages and typed text are never shown to the next account."""
    user = _signed_in(store)
    owner = user.id if user else None
    if st.session_state.get(_OWNER) not in (None, owner):
        kept = {SESSION_KEY, _COOKIE_READ, _COOKIE_WRITTEN}
        for key in [k for k in st.session_state if k not in kept]:
            del st.session_state[key]
    st.session_state[_OWNER] = owner
    return user


def _signed_in(store: Store) -> User | None:
    if oidc_enabled():
        if not getattr(st.user, "is_logged_in", False):
            return None
        return store.identity_user(st.user.get("email"), st.user.get("email_verified"))
    if SESSION_KEY not in st.session_state and not st.session_state.get(_COOKIE_READ):
        st.session_state[_COOKIE_READ] = True
        cookie = _cookie_token()
        if cookie:
            st.session_state[SESSION_KEY] = cookie
    token = st.session_state.get(SESSION_KEY)
    if token is None:
        return None
    user = store.session_user(token)
    if user is None:  # ended, expired, or its user disabled: forget it (the cookie goes too)
        st.session_state.pop(SESSION_KEY, None)
        st.session_state.pop(OPEN_KEY, None)
    return user


def sync_cookie() -> None:
    """Keep the browser's cookie in step with this session: the token after a sign-in, removed
    after a sign-out or when the session it held has ended.

    Streamlit cannot set cookies, so a script in the page does it (SameSite=Strict, Path=/,
    Secure on https, for as long as a session can live); the server reads it from the websocket
    handshake (st.context.cookies) when a reload starts a new session. The element is emitted on
    every run while the cookie differs from what the browser sent, so that no rerun can drop it
    before it ran; unchanged, it is not run again. It is hidden and takes no space.
    """
    from assessment.store.accounts import SESSION_LIFETIME

    want = st.session_state.get(SESSION_KEY)
    want = want if isinstance(want, str) and _TOKEN.fullmatch(want) else None
    sent = _cookie_token()
    if want:
        st.session_state[_COOKIE_WRITTEN] = True
    if want == sent or (want is None and sent is None
                        and not st.session_state.get(_COOKIE_WRITTEN)):
        return
    age = int(SESSION_LIFETIME.total_seconds()) if want else 0
    script = ("<script>(function(){var secure=location.protocol==='https:'?'; Secure':'';"
              f"document.cookie='{COOKIE}={want or ''}; Max-Age={age}; Path=/; "
              "SameSite=Strict'+secure;})();</script>")
    st.html("<style>.st-key-account_cookie, [data-testid=stLayoutWrapper]:has("
            "> .st-key-account_cookie) {display: none}</style>")  # no room, no gap
    with st.container(key="account_cookie"):
        st.html(script, unsafe_allow_javascript=True)


def sign_in_prompt(message: str = "This page is for consultants. Sign in first.") -> None:
    """What anyone not signed in sees on a consultant's page: no client, no workshop."""
    st.info(message)
    st.page_link(SIGN_IN_PAGE, label="Sign in", icon=":material/login:")


def consultant_page(store: Store, title: str) -> User:
    """Title, and the signed-in consultant; stops the page with a sign-in prompt for anyone
    else (participants included), showing nothing of any client."""
    user = signed_in_user(store)
    st.title(title)
    if user is None:
        sign_in_prompt()
        st.stop()
    return user


def start_session(store: Store, user: User) -> None:
    """Sign this browser session in (the cookie follows on the next run)."""
    st.session_state[SESSION_KEY] = store.start_session(user)
    st.session_state[_COOKIE_READ] = True


def sign_out(store: Store) -> None:
    """End the session in the store (it can never be used again) and forget it here; the next
    run removes the cookie."""
    store.end_session(st.session_state.pop(SESSION_KEY, None))
    close_workshop()
    st.session_state[_COOKIE_READ] = True  # the cookie still sent holds the ended session
    if oidc_enabled() and getattr(st.user, "is_logged_in", False):
        st.logout()


def open_workshop(workshop_id: int) -> None:
    """Remember the workshop the consultant opened (checked again on every run)."""
    st.session_state[OPEN_KEY] = workshop_id


def close_workshop() -> None:
    st.session_state.pop(OPEN_KEY, None)
    if "workshop" in st.query_params:
        del st.query_params["workshop"]


def opened_workshop(store: Store, user: User) -> Workshop | None:
    """The workshop this consultant opened, checked on every run against who may see it: an id
    forged into the session state or the address (?workshop=ID, which lets a reload reopen it)
    gets the same refusal as someone else's workshop, never its data."""
    wid = st.session_state.get(OPEN_KEY)
    if wid is None:
        wid = st.query_params.get("workshop")
    if wid is None:
        return None
    try:
        workshop = store.workshop_for(user, wid)
    except Forbidden as e:
        close_workshop()
        st.error(sentence(e))
        return None
    st.session_state[OPEN_KEY] = workshop.id
    if st.query_params.get("workshop") != str(workshop.id):
        st.query_params["workshop"] = str(workshop.id)
    return workshop


@st.cache_data(max_entries=128, show_spinner=False)
def _cached_results(url: str, workshop_id: int, questionnaire_id: str, version: tuple,
                    names: tuple) -> Results:
    store = _store(url)
    return results(store.answer_frame(workshop_id, questionnaire_id),
                   questionnaires()[questionnaire_id], dict(names))


def workshop_results(store: Store, workshop_id: int, questionnaire_id: str,
                     names: dict[int, str] | None = None) -> Results:
    """A questionnaire's results, recomputed only when an answer or participant has changed,
    so that reruns (every click on the page) stay instant."""
    return _cached_results(store.url, workshop_id, questionnaire_id,
                           store.answers_version(workshop_id),
                           tuple(sorted((names or {}).items())))


def facilitator_page(store: Store, title: str, what: str, header: bool = True) -> Workshop:
    """The signed-in consultant's opened workshop, with the page's title and the workshop's
    header; stops the page with a sign-in prompt for anyone else, and with a pointer to the
    Facilitator page when no workshop is open."""
    user = signed_in_user(store)
    if user is None:
        st.title(title)
        sign_in_prompt(f"{what} for consultants. Sign in first.")
        st.stop()
    workshop = opened_workshop(store, user)
    if workshop is None:
        st.title(title)
        st.info(f"{what} for the workshop you open. Open one on the Facilitator page first.")
        st.page_link(FACILITATOR_PAGE, label="Go to the facilitator area",
                     icon=":material/co_present:")
        st.stop()
    if header:
        st.title(title)
        st.caption(f"{plain(workshop.client_name)} · {plain(workshop.title)} · "
                   f"code {workshop.code}")
        if workshop.is_demo:
            st.warning("Demo workshop: the client and every answer are invented, to show the "
                       "tool. It is read-only: create a workshop of your own to record scores "
                       "and plans.")
    return workshop


def client_filters(store: Store, user: User, prefix: str) -> tuple[str, dict[str, str]]:
    """A search box and sector, size band and region filters over the user's clients: the text
    searched and the chosen values ("" for any)."""
    facets = store.client_facets(user)
    search_col, sector_col, size_col, region_col = st.columns([3, 2, 2, 2])
    search = search_col.text_input("Search by name", key=f"{prefix}_search", max_chars=100)
    chosen = {}
    for column, name, label in ((sector_col, "sector", "Sector"),
                                (size_col, "size_band", "Size band"),
                                (region_col, "region", "Region")):
        options = ["", *facets[name]]
        value = column.selectbox(label, options, key=f"{prefix}_{name}",
                                 format_func=lambda v: v or "Any")
        chosen[name] = offered(value, options, "")
    return search or "", chosen


def client_address() -> str:
    """The address of this browser session (for slowing down guessers), as Streamlit sees it."""
    try:
        return st.context.ip_address or "unknown"
    except Exception:  # noqa: BLE001 - outside a browser session (AppTest) there is none
        return "unknown"


# Streamlit renders the text of st.markdown, st.write, captions, titles, headers, alerts, metric
# labels, radio options, expander and tab labels as Markdown: CommonMark, GFM, and its own
# extensions (selectbox and multiselect options, st.text, st.code and table cells are plain text,
# so user text goes there as it is). Part of that works on the parsed text, where backslash
# escapes are already gone: GFM's literal autolinks (http://…, www.…, a@b.c), :material/…:
# icons, :emoji: shortcodes, :streamlit: and "->" arrows. An invisible WORD JOINER (U+2060)
# breaks those patterns (checked in Chromium: escaping alone still links http://…).
_JOINER = "\u2060"
_ESCAPED = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")  # all ASCII punctuation
_LINE_BREAK = re.compile(r"[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")
_BROKEN = re.compile(r"(?<=[:@])"                   # scheme:, :shortcode:, :color[…], a@b.c
                     r"|(?i:(?<=www)(?=\.))"         # www.host
                     r"|(?<=[-<>~])(?=[-<>=])")      # ->, <-, --, >=, <=, ~= turned into arrows


def plain(text: object) -> str:
    """User text made safe to embed in any Streamlit call that renders Markdown, on one line.

    The reader sees exactly the characters typed, never formatting, links, images, icons or
    math: every ASCII punctuation character is backslash-escaped (CommonMark shows it
    literally), an invisible word joiner breaks what Streamlit matches after parsing, and line
    breaks become spaces. For text on several lines use st.text instead.
    """
    text = _LINE_BREAK.sub(" ", "" if text is None else str(text))
    return _ESCAPED.sub(r"\\\1", _BROKEN.sub(_JOINER, text))


def offered(value, options, default=None):
    """The value if the page offered it, else the default: Streamlit passes on whatever a
    client sends for a radio, selectbox or multiselect (a list is filtered)."""
    options = list(options)
    if isinstance(value, list):
        return [v for v in value if v in options]
    return value if value in options else default


def sentence(message: object) -> str:
    """An error message for st.error: its first letter capitalised, the rest (ids, codes, and
    whatever a user typed that it quotes) shown exactly as it is, through plain()."""
    message = str(message)
    return plain(message[:1].upper() + message[1:])


PUBLIC_URL = "PUBLIC_URL"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}
_FALLBACK = "http://localhost:8501"  # when the browser's address is unknown (AppTest)


def configured_public_url() -> tuple[str | None, str | None]:
    """PUBLIC_URL, checked: (the address without a trailing slash, None), or (None, why it
    is not used). (None, None) when it is not set."""
    raw = os.environ.get(PUBLIC_URL, "").strip()
    if not raw:
        return None, None
    try:
        parts = urlsplit(raw)
        valid_port = parts.port is None or parts.port > 0  # ValueError: not a number to 65535
    except ValueError:
        parts, valid_port = None, False
    if (parts is None or not valid_port or parts.scheme not in ("http", "https")
            or not parts.hostname or parts.query or parts.fragment or parts.username or parts.password
            or any(c.isspace() for c in raw)):
        return None, (f"{PUBLIC_URL} is set to '{raw}', which is not an http:// or https:// "
                      "address (such as http://192.168.1.20:8501 or "
                      "https://workshop.example.com): it is ignored, and links use the address "
                      "this page was opened on.")
    return raw.rstrip("/"), None


def _opened_root() -> str | None:
    """The address this app was opened on in the browser, without a page path or query."""
    try:
        base = (st.context.url or "").split("?")[0].split("#")[0].rstrip("/")
    except Exception:  # noqa: BLE001 - outside a browser session there is none
        base = ""
    for suffix in ("/facilitator", "/results", "/answer", "/plan", "/projector"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base or None


def _app_root() -> str:
    """The address participants reach the app on: PUBLIC_URL when it is set and valid,
    else the address this page was opened on."""
    public, _ = configured_public_url()
    return public or _opened_root() or _FALLBACK


def address_warning() -> str | None:
    """What the facilitator must know before sharing links: PUBLIC_URL is not valid, or it is
    not set and this page was opened on this machine's own name (localhost), which no
    participant's device can reach. None when the links are fine."""
    public, problem = configured_public_url()
    if public:
        return None
    host = urlsplit(_opened_root() or _FALLBACK).hostname or ""
    if not (host in _LOCAL_HOSTS or host.startswith("127.")):
        return problem
    return (f"{problem} " if problem else "") + (
            "This app was opened on localhost, so the join link and QR code point to "
            "\"localhost\": participants' phones and laptops cannot reach that address. "
            f"Set {PUBLIC_URL} to the address they can reach (for a laptop on the venue's "
            "Wi-Fi its network address, such as http://192.168.1.20:8501, which "
            "'streamlit run' prints as the Network URL; for a server its public https:// "
            "address) and restart the app, or open this page on the network address instead "
            "of localhost.")


def show_address_warning() -> None:
    """The warning above, if any, for the facilitator's pages."""
    message = address_warning()
    if message:  # plain(): it quotes the environment's text; links stay text to read
        st.warning(plain(message), icon=":material/wifi_off:")


def join_link(code: str) -> str:
    """The link participants open to join (PUBLIC_URL, else the address this page was opened
    on)."""
    return f"{_app_root()}/?join={code}"


def personal_link(token: str) -> str:
    """A participant's own link. It opens the app's root: with ?p= the Answer page is the
    default page there, and /answer would not be a known address then."""
    return f"{_app_root()}/?p={token}"


QR_PIXELS = 600  # about the width of a QR code on the projector


@st.cache_data(max_entries=64, show_spinner=False)
def qr_image(text: str) -> tuple[str, int]:
    """A QR code of the text, made here (segno, no web service): a PNG as a data: URI, which
    st.image passes to the browser as it is, and its width in pixels. Whole pixels per module
    and shown at that width, so the browser never blurs it; error correction M (15%) for a
    projector's glare."""
    code = segno.make(text, error="m", micro=False)
    modules = code.symbol_size(border=4)[0]
    scale = max(4, QR_PIXELS // modules)
    png = io.BytesIO()
    code.save(png, kind="png", scale=scale, border=4)
    return f"data:image/png;base64,{b64encode(png.getvalue()).decode('ascii')}", modules * scale
