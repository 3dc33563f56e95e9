"""One person, one row (a folded name per participant, unique per workshop); failed attempts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from assessment.text import name_key

    op.add_column("participants", sa.Column("name_key", sa.String(400), nullable=False,
                                            server_default=""))
    db = op.get_bind()
    table = sa.table("participants", sa.column("id"), sa.column("workshop_id"),
                     sa.column("name"), sa.column("name_key"))
    seen = set()
    for pid, wid, name in db.execute(sa.select(table.c.id, table.c.workshop_id, table.c.name)
                                     .order_by(table.c.id)).all():
        key = name_key(name)
        if (wid, key) in seen:
            key = f"{key}#{pid}"  # a look-alike that joined before this check: kept, apart
        seen.add((wid, key))
        db.execute(table.update().where(table.c.id == pid).values(name_key=key))
    op.create_index("uq_participants_workshop_name_key", "participants",
                    ["workshop_id", "name_key"], unique=True)
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("door", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_attempts_door_subject_created_at", "attempts",
                    ["door", "subject", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_door_subject_created_at", "attempts")
    op.drop_table("attempts")
    op.drop_index("uq_participants_workshop_name_key", "participants")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("name_key")
