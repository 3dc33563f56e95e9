"""Consultants' accounts: passwords, server-side sessions, and who may see which client."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from assessment.errors import StoreError
from assessment.schema import account_sessions, client_access, clients, users, workshops
from assessment.text import clean_name, visible

from .security import now, token_hash
from .workshops import Client, Workshop

# OWASP's password storage cheat sheet (2025): scrypt with N=2^17, r=8, p=1. 128 MiB and about
# a third of a second per hash: slow for a guesser, fine for a sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # scrypt reads all of it; a megabyte "password" is an attack, not a secret
SESSION_IDLE = timedelta(hours=12)
SESSION_LIFETIME = timedelta(days=7)
_SEEN_EVERY = timedelta(minutes=5)  # how often a session's last use is written back
# 128 MiB per hash: twenty sign-ins at once took 2.8 GB in one process (measured), a guesser
# with a hundred sessions would take the server down. At most this many hashes run at once in
# a process; the others queue (a sign-in that waits longer than AccountStore.hashing_wait is
# told the server is busy).
HASHES_AT_ONCE = 2
_hashing = threading.BoundedSemaphore(HASHES_AT_ONCE)


class Busy(StoreError):
    """Every hashing slot of this process stayed taken for longer than a sign-in may wait."""

    def __init__(self):
        super().__init__("the server is busy checking other sign-ins: try again in a minute")


class Forbidden(StoreError):
    """A signed-in consultant asked for a client or workshop they may not see."""

    def __init__(self, what: str):
        # One message whether the thing exists or not, so that ids cannot be probed.
        super().__init__(f"no {what} of yours has that id")
        self.what = what


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool = False
    disabled: bool = False


def _password_bytes(password: str) -> bytes:
    # NFKC, as NIST SP 800-63B asks: the same password typed on two keyboards is the same.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def hash_password(password: str, salt: bytes | None = None,
                  n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P,
                  wait: float | None = None) -> str:
    """scrypt hash of a password, stored with its parameters: scrypt$n$r$p$salt$hash (hex).
    Waits for one of the process's HASHES_AT_ONCE slots (at most `wait` seconds, else Busy)."""
    salt = salt or secrets.token_bytes(16)
    if not _hashing.acquire(timeout=wait):
        raise Busy()
    try:
        digest = hashlib.scrypt(_password_bytes(password), salt=salt, n=n, r=r, p=p, dklen=32,
                                maxmem=256 * 1024 * 1024)
    finally:
        _hashing.release()
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str, wait: float | None = None) -> bool:
    """Compare a password with its stored hash in constant time."""
    try:
        kind, n, r, p, salt_hex, _ = stored.split("$")
        if kind != "scrypt":
            return False
        expected = hash_password(password, bytes.fromhex(salt_hex), int(n), int(r), int(p),
                                 wait)
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


# A hash to check against when the username does not exist, so that an unknown name takes as
# long as a wrong password (no probing for usernames by timing).
_DECOY = hash_password("decoy password", b"\0" * 16)


def username_key(username: str) -> str:
    # Characters drawn as nothing do not tell two usernames apart: "admin\u200b" is "admin".
    return visible(unicodedata.normalize("NFKC", username)).casefold()


def check_new_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise StoreError(f"a password has at most {MAX_PASSWORD} characters")
    return password


class AccountStore:
    """Users, sessions and client access (part of Store)."""

    # scrypt's cost for new hashes; each stored hash keeps its own, so a test store may lower it
    # to make accounts cheaply without changing how any password is checked.
    scrypt_n = SCRYPT_N
    # How long a sign-in waits for a hashing slot before it is told the server is busy.
    hashing_wait = 20.0

    # ---------------------------------------------------------------- users

    @staticmethod
    def _user(row) -> User:
        return User(row["id"], row["username"], bool(row["is_admin"]), bool(row["disabled"]))

    def add_user(self, username: str, password: str, admin: bool = False) -> User:
        """A new account. The first admin is given every client that nobody has yet."""
        username = clean_name(username, "username", 80)
        if any(c.isspace() for c in username):
            raise StoreError(f"a username has no spaces: {username!r}")
        hashed = hash_password(check_new_password(password), n=self.scrypt_n)
        stamp = now()
        try:
            with self.writer.begin() as db:
                first_admin = admin and not db.execute(
                    sa.select(users.c.id).where(users.c.is_admin.is_(True))).first()
                uid = db.execute(users.insert().values(
                    username=username, username_key=username_key(username),
                    password_hash=hashed, is_admin=admin, created_at=stamp,
                    password_changed_at=stamp)).inserted_primary_key[0]
                if first_admin:
                    # Workshops made before accounts existed belong to the first admin.
                    owned = sa.select(client_access.c.client_id)
                    orphans = db.execute(sa.select(clients.c.id).where(
                        clients.c.id.not_in(owned), clients.c.is_demo.is_(False))).scalars()
                    rows = [dict(client_id=c, user_id=uid, created_at=stamp) for c in orphans]
                    if rows:
                        db.execute(client_access.insert(), rows)
        except sa.exc.IntegrityError:
            raise StoreError(f"the username {username!r} is taken") from None
        return User(uid, username, admin)

    def has_users(self) -> bool:
        with self.engine.connect() as db:
            return db.execute(sa.select(users.c.id).limit(1)).first() is not None

    def init_admin(self, username: str = "admin") -> tuple[User, str] | None:
        """On a database without any account: an admin with a random password, returned once
        (there is never a default password). None when an account exists already."""
        if self.has_users():
            return None
        password = secrets.token_urlsafe(15)  # 20 characters, 120 random bits
        try:
            return self.add_user(username, password, admin=True), password
        except StoreError:
            return None  # another process made it first

    def users(self) -> list[User]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(users).order_by(users.c.username_key)).mappings().all()
        return [self._user(r) for r in rows]

    def user(self, username: str) -> User:
        with self.engine.connect() as db:
            row = db.execute(sa.select(users).where(
                users.c.username_key == username_key(str(username)))).mappings().first()
        if row is None:
            raise StoreError(f"no user named {username!r}")
        return self._user(row)

    def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends."""
        user = self.user(username)
        hashed = hash_password(check_new_password(password), n=self.scrypt_n)
        with self.writer.begin() as db:
            db.execute(users.update().where(users.c.id == user.id).values(
                password_hash=hashed, password_changed_at=now()))
            self._end_sessions(db, user.id)

    def change_password(self, user: User, current: str, new: str, address: str = "") -> None:
        """A user's own change: the current password first (through the guarded door), then
        the new one; every session of the user ends (the page starts a new one)."""
        check_new_password(new)
        if self.authenticate(user.username, current, address) is None:
            raise StoreError("the current password is not right")
        self.set_password(user.username, new)

    def set_disabled(self, username: str, disabled: bool = True) -> None:
        """Disable (or enable again) an account; disabling ends its sessions at once. The last
        enabled admin cannot be disabled (nobody could manage the accounts then)."""
        user = self.user(username)
        with self.writer.begin() as db:
            if disabled and user.is_admin:
                admins = db.execute(sa.select(sa.func.count()).select_from(users).where(
                    users.c.is_admin.is_(True), users.c.disabled.is_(False),
                    users.c.id != user.id)).scalar()
                if not admins:
                    raise StoreError(f"{user.username!r} is the last admin: add another admin "
                                     "before disabling this one")
            db.execute(users.update().where(users.c.id == user.id).values(disabled=disabled))
            if disabled:
                self._end_sessions(db, user.id)

    def _end_sessions(self, db, user_id: int) -> None:
        db.execute(account_sessions.update().where(
            account_sessions.c.user_id == user_id, account_sessions.c.ended_at.is_(None)
        ).values(ended_at=now()))

    # ---------------------------------------------------------------- signing in

    def authenticate(self, username: str, password: str, address: str = "") -> User | None:
        """The user these credentials open, or None. Failures are slowed down and then refused
        per username and per client address (Refused), even with the right password."""
        key = username_key(clean_name(str(username or "-"), "username", 80))
        subjects = {"username": key, "address": address or "unknown"}
        # Counted as a failure before the password is checked (guesses sent at the same
        # moment would otherwise all pass the lockout), and forgiven if it is right.
        counted = self._admit("password", subjects)
        try:
            with self.engine.connect() as db:
                row = db.execute(sa.select(users).where(users.c.username_key == key)
                                 ).mappings().first()
            password = str(password or "")[:MAX_PASSWORD]
            good = check_password(password, row["password_hash"] if row else _DECOY,
                                  self.hashing_wait)
        except Busy:
            self._forgive(counted)  # never checked: not a failure
            raise
        if row is not None and good and not row["disabled"]:
            self._forgive(counted)
            return self._user(row)
        return None

    def identity_user(self, email: str | None, verified: bool | None = None) -> User | None:
        """The account an identity provider's sign-in (OIDC, st.login) opens: the enabled
        account whose username is the email address, created by an admin beforehand. An email
        the provider says is not verified opens nothing."""
        if not email or not isinstance(email, str) or verified is False or len(email) > 80:
            return None
        with self.engine.connect() as db:
            row = db.execute(sa.select(users).where(
                users.c.username_key == username_key(email.strip()))).mappings().first()
        if row is None or row["disabled"]:
            return None
        return self._user(row)

    def start_session(self, user: User) -> str:
        """A new session for a signed-in user; returns its token (the browser keeps it)."""
        token = secrets.token_urlsafe(32)
        stamp = now()
        with self.writer.begin() as db:
            db.execute(account_sessions.insert().values(
                token_hash=token_hash(token), user_id=user.id, created_at=stamp,
                last_seen_at=stamp, expires_at=stamp + SESSION_LIFETIME))
            # Ended and expired sessions say nothing any more; keep the table small.
            db.execute(account_sessions.delete().where(
                account_sessions.c.expires_at < stamp - timedelta(days=1)))
        return token

    def session_user(self, token: str | None) -> User | None:
        """The user of a live session: not ended, not expired, not idle too long, not disabled."""
        if not token or not isinstance(token, str) or len(token) > 200:
            return None
        stamp = now()
        with self.engine.connect() as db:
            row = db.execute(sa.select(account_sessions, users.c.username, users.c.is_admin,
                                       users.c.disabled)
                             .join(users).where(account_sessions.c.token_hash == token_hash(token))
                             ).mappings().first()
        if row is None or row["ended_at"] is not None or row["disabled"]:
            return None
        seen, expires = _aware(row["last_seen_at"]), _aware(row["expires_at"])
        if stamp >= expires or stamp - seen >= SESSION_IDLE:
            return None
        if stamp - seen >= _SEEN_EVERY:
            with self.writer.begin() as db:
                db.execute(account_sessions.update().where(
                    account_sessions.c.id == row["id"]).values(last_seen_at=stamp))
        return User(row["user_id"], row["username"], bool(row["is_admin"]), False)

    def end_session(self, token: str | None) -> None:
        """Sign out: the session can never be used again."""
        if not token:
            return
        with self.writer.begin() as db:
            db.execute(account_sessions.update().where(
                account_sessions.c.token_hash == token_hash(str(token)),
                account_sessions.c.ended_at.is_(None)).values(ended_at=now()))

    # ---------------------------------------------------------------- who sees what

    def _visible(self, user: User):
        """A condition on clients: the ones this user may see (admins: all; others: their own,
        the ones given to them, and the demo)."""
        if user.is_admin:
            return sa.true()
        granted = sa.select(client_access.c.client_id).where(client_access.c.user_id == user.id)
        return sa.or_(clients.c.id.in_(granted), clients.c.is_demo.is_(True))

    def visible_clients(self, user: User, search: str = "", sector: str = "",
                        size_band: str = "", region: str = "", limit: int | None = None
                        ) -> list[Client]:
        """The clients this user may see, by name, optionally filtered."""
        query = sa.select(clients).where(self._visible(user)).order_by(
            clients.c.is_demo, sa.func.lower(clients.c.name), clients.c.id)
        if search:
            query = query.where(clients.c.name.ilike(f"%{_like(search)}%", escape="\\"))
        for column, value in ((clients.c.sector, sector), (clients.c.size_band, size_band),
                              (clients.c.region, region)):
            if value:
                query = query.where(column == value)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as db:
            rows = db.execute(query).mappings().all()
        return [Client(r["id"], r["name"], r["sector"], r["size_band"], r["region"],
                       r["is_demo"]) for r in rows]

    def client_for(self, user: User, client_id: int) -> Client:
        """A client this user may see (Forbidden otherwise, whether it exists or not)."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(clients).where(
                clients.c.id == _int(client_id, "client"), self._visible(user))).mappings().first()
        if row is None:
            raise Forbidden("client")
        return Client(row["id"], row["name"], row["sector"], row["size_band"], row["region"],
                      row["is_demo"])

    def workshop_for(self, user: User, workshop_id: int) -> Workshop:
        """A workshop of a client this user may see (Forbidden otherwise)."""
        with self.engine.connect() as db:
            row = db.execute(self._workshops_query().where(
                workshops.c.id == _int(workshop_id, "workshop"), self._visible(user))).mappings().first()
        if row is None:
            raise Forbidden("workshop")
        return self._workshop(row)

    def workshops_of(self, user: User, client_id: int) -> list[Workshop]:
        """A visible client's workshops, newest first."""
        client = self.client_for(user, client_id)
        with self.engine.connect() as db:
            rows = db.execute(self._workshops_query().where(
                workshops.c.client_id == client.id).order_by(
                workshops.c.created_at.desc(), workshops.c.id.desc())).mappings().all()
        return [self._workshop(r) for r in rows]

    def create_workshop_for(self, user: User, client_id: int, title: str,
                            questionnaire_ids: list[str] | tuple[str, ...], address: str = ""
                            ) -> Workshop:
        """A new workshop for a client this user may see (not the read-only demo)."""
        client = self.client_for(user, client_id)
        if client.is_demo:
            raise StoreError("the demo client is read-only: choose or create a client of your "
                             "own")
        return self.create_workshop(client.id, title, questionnaire_ids, address=address)

    def create_client_for(self, user: User, name: str, sector: str = "", size_band: str = "",
                          region: str = "") -> Client:
        """A new client, visible to the consultant who creates it."""
        client = self.create_client(name, sector, size_band, region)
        with self.writer.begin() as db:
            db.execute(client_access.insert().values(client_id=client.id, user_id=user.id,
                                                     created_at=now()))
        return client

    def grant(self, user: User, client_id: int, username: str) -> None:
        """Give another consultant access to a client this user may see."""
        client = self.client_for(user, client_id)
        if client.is_demo:
            raise StoreError("the demo client is visible to everyone already")
        other = self.user(username)
        try:
            with self.writer.begin() as db:
                db.execute(client_access.insert().values(client_id=client.id, user_id=other.id,
                                                         created_at=now()))
        except sa.exc.IntegrityError:
            pass  # already given: nothing to do

    def revoke(self, user: User, client_id: int, username: str) -> None:
        """Take a consultant's access to a client away."""
        client = self.client_for(user, client_id)
        other = self.user(username)
        with self.writer.begin() as db:
            db.execute(client_access.delete().where(client_access.c.client_id == client.id,
                                                    client_access.c.user_id == other.id))

    def client_users(self, client_id: int) -> list[str]:
        """The usernames a client was given to (admins see it anyway)."""
        with self.engine.connect() as db:
            return list(db.execute(sa.select(users.c.username).join(
                client_access, client_access.c.user_id == users.c.id).where(
                client_access.c.client_id == client_id).order_by(users.c.username_key)
            ).scalars())


def _aware(stamp):
    # SQLite hands back naive datetimes for what was stored in UTC.
    from datetime import UTC

    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _int(value, what: str) -> int:
    """An id as a number, or Forbidden with the same message as for someone else's."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise Forbidden(what) from None
    if not 0 < number < 2**31:  # beyond any id; PostgreSQL would refuse to compare it
        raise Forbidden(what)
    return number


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
