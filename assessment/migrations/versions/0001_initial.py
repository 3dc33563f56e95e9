"""The schema of release 0.1.0, the first one.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _stamps():
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(100), nullable=False, server_default=""),
        sa.Column("size_band", sa.String(50), nullable=False, server_default=""),
        sa.Column("region", sa.String(100), nullable=False, server_default=""),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        _stamps())
    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("questionnaires", sa.String(500), nullable=False),
        sa.Column("facilitator_key_hash", sa.String(200), nullable=False),
        sa.Column("answering_open", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("results_revealed", sa.Boolean, nullable=False, server_default=sa.false()),
        _stamps(),
        sa.Column("closed_at", sa.DateTime(timezone=True)))
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
                  index=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _stamps())
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id"),
                  nullable=False),
        sa.Column("questionnaire_id", sa.String(100), nullable=False),
        sa.Column("question_id", sa.String(100), nullable=False),
        sa.Column("option_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("value", sa.Text, nullable=False),
        _stamps(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("participant_id", "questionnaire_id", "question_id", "option_id",
                            name="one_answer_per_question_option"))
    op.create_table(
        "agreed_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
                  index=True),
        sa.Column("questionnaire_id", sa.String(100), nullable=False),
        sa.Column("dimension_id", sa.String(100), nullable=False),
        sa.Column("computed_score", sa.Float),
        sa.Column("agreed_score", sa.Float, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        _stamps())
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False,
                  index=True),
        sa.Column("questionnaire_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("dimension_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
        _stamps())
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
        sa.Column("dimension_id", sa.String(100), nullable=False),
        sa.Column("target", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workshop_id", "dimension_id", name="one_target_per_dimension"))
    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workshop_id", sa.Integer, sa.ForeignKey("workshops.id"), nullable=False),
        sa.Column("action_id", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("due", sa.Date),
        sa.Column("status", sa.String(20), nullable=False, server_default="Not started"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("workshop_id", "action_id", name="one_edit_per_action"))


def downgrade() -> None:
    for table in ("plan_items", "targets", "notes", "agreed_scores", "answers", "participants",
                  "workshops", "clients"):
        op.drop_table(table)
