"""Consultants' workspace and the plan's decisions: accounts, sessions, client access, cached
dimension scores, imported workshops, plan tiers and stop-doing decisions.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workshops") as batch:
        batch.add_column(sa.Column("imported_on", sa.Date))
    with op.batch_alter_table("plan_items") as batch:
        batch.add_column(sa.Column("tier", sa.String(20)))
        batch.add_column(sa.Column("tier_reason", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_decisions_workshop_id", "decisions", ["workshop_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("username_key", sa.String(400), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False))
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)))
    op.create_index("ix_account_sessions_user_id", "account_sessions", ["user_id"])
    op.create_table(
        "client_access",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("client_id", "user_id", name="one_grant_per_client_user"))
    op.create_index("ix_client_access_user_id", "client_access", ["user_id"])
    op.create_table(
        "dimension_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
        sa.Column("questionnaire_id", sa.String(100), nullable=False),
        sa.Column("questionnaire_version", sa.String(50), nullable=False, server_default=""),
        sa.Column("dimension_id", sa.String(100), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("agreed_score", sa.Float),
        sa.Column("spread", sa.Float),
        sa.Column("respondents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workshop_id", "questionnaire_id", "dimension_id",
                            name="one_score_per_workshop_dimension"))
    op.create_index("ix_dimension_scores_workshop_id", "dimension_scores", ["workshop_id"])
    # Existing workshops need no owner row: admins see every client, and the first admin
    # created (python -m assessment user add NAME --admin) is given every client that nobody
    # has yet (assessment.store.accounts).


def downgrade() -> None:
    for table in ("dimension_scores", "client_access", "account_sessions", "users",
                  "decisions"):
        op.drop_table(table)
    with op.batch_alter_table("plan_items") as batch:
        batch.drop_column("tier_reason")
        batch.drop_column("tier")
    with op.batch_alter_table("workshops") as batch:
        batch.drop_column("imported_on")
