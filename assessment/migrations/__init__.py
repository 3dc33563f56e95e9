"""Schema migrations (Alembic): bring any database of this app to the latest revision."""
