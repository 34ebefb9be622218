"""The gateway's durable state in SQLite: API keys (hashed), session budgets, and the spend ledger.

Every answered or refused request writes one spend row, one row per charge its turn made (the
same charges a session's in-memory Ledger takes) and its session's new totals in one
transaction, keyed by the request id, so a restart loses nothing and a record is never written
twice. WAL mode keeps readers off the writer's back; one connection, guarded by a lock, serves
the event loop (each statement takes microseconds).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tierlink.core.errors import TierlinkError
from tierlink.core.ledger import CHARGE_COLUMNS, Charge, charge_row
from tierlink.serve.keys import KeyRecord, hash_secret, new_secret

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, hash TEXT UNIQUE NOT NULL, hint TEXT NOT NULL,
    created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, dollars_limit REAL, requests_per_minute INTEGER,
    spent_dollars REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, key_id TEXT, dollars_left REAL, spent_dollars REAL NOT NULL,
    spent_seconds REAL NOT NULL, turns INTEGER NOT NULL, last_endpoint TEXT, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS spend (
    request_id TEXT PRIMARY KEY, created REAL NOT NULL, session_id TEXT, key_id TEXT, model TEXT NOT NULL,
    endpoint TEXT, outcome TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL, dollars REAL NOT NULL, seconds REAL NOT NULL);
CREATE INDEX IF NOT EXISTS spend_session ON spend(session_id);
CREATE TABLE IF NOT EXISTS charges (
    request_id TEXT NOT NULL, seq INTEGER NOT NULL, session_id TEXT, round INTEGER NOT NULL, kind TEXT NOT NULL,
    endpoint TEXT NOT NULL, caller TEXT NOT NULL, callee TEXT NOT NULL, input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, dollars REAL NOT NULL, seconds REAL NOT NULL,
    joules REAL NOT NULL, origin TEXT NOT NULL, PRIMARY KEY (request_id, seq));
CREATE INDEX IF NOT EXISTS charges_session ON charges(session_id);
"""
KEY_COLUMNS = "key_id, name, hint, created, revoked, dollars_limit, requests_per_minute, spent_dollars, private, zones"  # _key's order
# columns added after a database may have been created: (table, column, declaration)
ADDED_COLUMNS = (("keys", "private", "INTEGER NOT NULL DEFAULT 0"), ("keys", "zones", "TEXT NOT NULL DEFAULT ''"))


class SessionRecord(BaseModel):
    """A session's budget state between requests."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    key_id: str | None
    dollars_left: float | None
    spent_dollars: float = 0.0
    spent_seconds: float = 0.0
    turns: int = 0
    last_endpoint: str | None = None


class SpendRecord(BaseModel):
    """One request's cost, as the client was told."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    session_id: str | None
    key_id: str | None
    model: str
    endpoint: str | None
    outcome: str  # answered | fallback | refused
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    dollars: float
    seconds: float


class Store:
    """Keys, sessions and spend in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.DatabaseError as exc:
            raise TierlinkError(f"cannot open the gateway database {path}: {exc} "
                                "(give another path with serve.database or --database)") from exc

    def _add_missing_columns(self) -> None:
        """Bring a database made by an earlier tierlink up to this schema (nothing is lost)."""
        for table, column, declaration in ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Close the database under the lock, so no query in flight is cut off."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys -------------------------------------------------------------------------------

    def create_key(self, name: str, dollars_limit: float | None = None,
                   requests_per_minute: int | None = None, private: bool = False,
                   zones: tuple[str, ...] = ()) -> tuple[str, KeyRecord]:
        """A new key; the secret is returned once and never stored. A private key's requests all
        stay in the device's privacy zones; a key with `zones` reaches only those."""
        secret = new_secret()
        record = KeyRecord(key_id=uuid.uuid4().hex[:12], name=name, hint=secret[:7], created=time.time(),
                           dollars_limit=dollars_limit, requests_per_minute=requests_per_minute, private=private, zones=zones)
        with self._lock:
            try:
                self._db.execute("INSERT INTO keys (key_id, name, hash, hint, created, dollars_limit, requests_per_minute, "
                                 "private, zones) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (record.key_id, name, hash_secret(secret), record.hint, record.created, dollars_limit,
                                  requests_per_minute, int(private), ",".join(zones)))
            except sqlite3.IntegrityError as exc:
                raise TierlinkError(f"a key named '{name}' already exists (choose another --name, or revoke it)") from exc
        return secret, record

    def keys(self) -> list[tuple[KeyRecord, float]]:
        """Every key with its spend so far."""
        with self._lock:
            rows = self._db.execute(f"SELECT {KEY_COLUMNS} FROM keys ORDER BY created").fetchall()
        return [(_key(row), float(row[7])) for row in rows]

    def revoke(self, name_or_id: str) -> KeyRecord:
        """Mark a key revoked by name or id (it stops working at once) and return it."""
        with self._lock:
            updated = self._db.execute("UPDATE keys SET revoked = 1 WHERE name = ? OR key_id = ?", (name_or_id, name_or_id))
        if updated.rowcount == 0:
            raise TierlinkError(f"no key named or with id '{name_or_id}' (see `tierlink keys list`)")
        return next(k for k, _ in self.keys() if name_or_id in (k.name, k.key_id))

    def key_for(self, secret: str) -> tuple[KeyRecord, float] | None:
        """The active key with this secret and its spend, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {KEY_COLUMNS} FROM keys WHERE hash = ? AND revoked = 0",
                                   (hash_secret(secret),)).fetchone()
        return (_key(row), float(row[7])) if row else None

    def key_spent(self, key_id: str) -> float:
        """What the key has spent so far (its running total)."""
        with self._lock:
            row = self._db.execute("SELECT spent_dollars FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        return float(row[0]) if row else 0.0

    def has_active_keys(self) -> bool:
        """True once any unrevoked key exists: from then on the gateway requires keys."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM keys WHERE revoked = 0 LIMIT 1").fetchone() is not None

    # -- sessions and spend -----------------------------------------------------------------

    def session(self, session_id: str) -> SessionRecord | None:
        """A session's stored budget state, or None for a session id not seen before."""
        with self._lock:
            row = self._db.execute("SELECT session_id, key_id, dollars_left, spent_dollars, spent_seconds, turns, "
                                   "last_endpoint FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        return SessionRecord(session_id=row[0], key_id=row[1], dollars_left=row[2], spent_dollars=row[3],
                             spent_seconds=row[4], turns=row[5], last_endpoint=row[6])

    def record(self, spend: SpendRecord, session: SessionRecord | None, charges: Sequence[Charge] = ()) -> None:
        """Write a request's spend, its charges, its session's new state and its key's total in
        one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT INTO spend VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                    spend.request_id, time.time(), spend.session_id, spend.key_id, spend.model, spend.endpoint,
                    spend.outcome, spend.input_tokens, spend.output_tokens, spend.cached_tokens, spend.dollars, spend.seconds))
                self._db.executemany(f"INSERT INTO charges (request_id, seq, session_id, {', '.join(CHARGE_COLUMNS)}) "
                                     f"VALUES ({', '.join('?' * (3 + len(CHARGE_COLUMNS)))})",
                                     [(spend.request_id, seq, spend.session_id, *charge_row(c).values())
                                      for seq, c in enumerate(charges)])
                if session is not None:
                    self._db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                        session.session_id, session.key_id, session.dollars_left, session.spent_dollars,
                        session.spent_seconds, session.turns, session.last_endpoint, time.time()))
                if spend.key_id is not None:
                    self._db.execute("UPDATE keys SET spent_dollars = spent_dollars + ? WHERE key_id = ?",
                                     (spend.dollars, spend.key_id))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def spend_totals(self, session_id: str | None = None) -> dict[str, float]:
        """Requests, tokens and dollars recorded (for one session, or all)."""
        where, args = ("WHERE session_id = ?", (session_id,)) if session_id is not None else ("", ())
        with self._lock:
            row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
                                   f"COALESCE(SUM(dollars), 0) FROM spend {where}", args).fetchone()
        return {"requests": row[0], "input_tokens": row[1], "output_tokens": row[2], "dollars": row[3]}

    def charge_totals(self, session_id: str | None = None) -> dict[str, float]:
        """Charges, dollars and tokens recorded call by call (for one session, or all)."""
        where, args = ("WHERE session_id = ?", (session_id,)) if session_id is not None else ("", ())
        with self._lock:
            row = self._db.execute(_charge_totals_sql(where), args).fetchone()
        return {"charges": row[0], "dollars": row[1], "input_tokens": row[2], "output_tokens": row[3]}


def _charge_totals_sql(where: str) -> str:
    return f"SELECT COUNT(*), COALESCE(SUM(dollars), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0) FROM charges {where}"


def _key(row: tuple) -> KeyRecord:  # type: ignore[type-arg]
    return KeyRecord(key_id=row[0], name=row[1], hint=row[2], created=row[3], revoked=bool(row[4]),
                     dollars_limit=row[5], requests_per_minute=row[6], private=bool(row[8]),
                     zones=tuple(zone for zone in row[9].split(",") if zone))
