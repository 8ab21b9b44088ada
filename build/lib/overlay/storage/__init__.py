"""The SQLite file: commits of the running service, and read-only history for pages and export."""
