"""The database tables, in one place: the store queries them and the migrations read them.

The migrations in assessment/migrations/versions are the history of this schema; a change
here needs a new revision there (tests/test_migrations.py compares the two).
"""

from __future__ import annotations

import sqlalchemy as sa

MAX_NAME = 80
MAX_TEXT = 5000

# Named constraints, so that migrations can refer to them on every database (SQLite needs names
# to alter a table in batch mode).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

clients = sa.Table(
    "clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("sector", sa.String(100), nullable=False, server_default=""),
    sa.Column("size_band", sa.String(50), nullable=False, server_default=""),
    sa.Column("region", sa.String(100), nullable=False, server_default=""),
    sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

workshops = sa.Table(
    "workshops", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("code", sa.String(16), nullable=False, unique=True),
    sa.Column("questionnaires", sa.String(500), nullable=False),  # ids, comma-separated
    sa.Column("facilitator_key_hash", sa.String(200), nullable=False),
    sa.Column("answering_open", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("results_revealed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    # A past assessment brought in from a file: the date it was held (None for live workshops).
    sa.Column("imported_on", sa.Date),
)

participants = sa.Table(
    "participants", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    # The name folded for comparison (NFKC, case, look-alike letters): one person, one row.
    sa.Column("name_key", sa.String(400), nullable=False, server_default=""),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("uq_participants_workshop_name_key", "workshop_id", "name_key", unique=True),
)

answers = sa.Table(
    "answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("question_id", sa.String(100), nullable=False),
    sa.Column("option_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("participant_id", "questionnaire_id", "question_id", "option_id",
                        name="one_answer_per_question_option"),
)

# A participant's optional comment on a question: a table of its own, so that a comment needs
# no answer (and an answer no comment), and answers keep one row per question and option.
comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("question_id", sa.String(100), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("participant_id", "questionnaire_id", "question_id",
                        name="one_comment_per_question"),
)

agreed_scores = sa.Table(
    "agreed_scores", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("dimension_id", sa.String(100), nullable=False),
    sa.Column("computed_score", sa.Float),
    sa.Column("agreed_score", sa.Float, nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

notes = sa.Table(
    "notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("questionnaire_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("dimension_id", sa.String(100), nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

targets = sa.Table(
    "targets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
    sa.Column("dimension_id", sa.String(100), nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("workshop_id", "dimension_id", name="one_target_per_dimension"),
)

plan_items = sa.Table(
    "plan_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
    sa.Column("action_id", sa.String(100), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False, server_default=""),
    sa.Column("due", sa.Date),
    sa.Column("status", sa.String(20), nullable=False, server_default="Not started"),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    # The facilitator's choice over the stated rules: "priority", "backlog" or "dropped" (None:
    # the rules decide), and why.
    sa.Column("tier", sa.String(20)),
    sa.Column("tier_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("workshop_id", "action_id", name="one_edit_per_action"),
)

# What the team decided to stop doing or give up: a facilitator's edit of participants' answers
# (which stay in the answers table as inputs), with an owner.
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("owner", sa.String(200), nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Consultants' accounts. username_key is the folded name (NFKC, case), unique.
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("username_key", sa.String(400), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Server-side sign-in sessions: the browser holds a random token, the database its hash, so
# that signing out, a password change or disabling a user ends a session at once.
account_sessions = sa.Table(
    "account_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)

# Which consultant may see which client: the one who created it and those it was given to.
# Admins see every client without a row here.
client_access = sa.Table(
    "client_access", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("client_id", "user_id", name="one_grant_per_client_user"),
)

# Team dimension scores per workshop, kept up to date when answers or agreed scores change, so
# that history, comparison and portfolio views never load answers (issue: 10,000 clients).
dimension_scores = sa.Table(
    "dimension_scores", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
              index=True),
    sa.Column("questionnaire_id", sa.String(100), nullable=False),
    sa.Column("questionnaire_version", sa.String(50), nullable=False, server_default=""),
    sa.Column("dimension_id", sa.String(100), nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("agreed_score", sa.Float),
    sa.Column("spread", sa.Float),
    sa.Column("respondents", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("workshop_id", "questionnaire_id", "dimension_id",
                        name="one_score_per_workshop_dimension"),
)

# Failed attempts at a guarded door (join code, password), per client address and per
# username, so that guessing is slowed down and then refused, across every app process.
attempts = sa.Table(
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("door", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_attempts_door_subject_created_at", "door", "subject", "created_at"),
)
