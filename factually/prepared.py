"""Statements prepared once per database connection, for the hottest public reads.

Django's psycopg cursors bind parameters on the client and prepare nothing: every query is
parsed and planned anew. For a search or the filter choices that cost more than running
them (1.5 to 2 ms against 0.3 ms for a word found nowhere at 100,000 reports), so these few
statements go through `rows`: bound on the server, prepared the first time a connection runs
them, logged and their errors raised as Django's own queries are. Behind PgBouncer in
transaction mode, give it max_prepared_statements (1.21 and later).
"""

from __future__ import annotations

import psycopg


class _PreparedCursor(psycopg.Cursor):
    """Parameters bound on the server; each statement prepared the first time a connection
    runs it (psycopg keeps the names, PostgreSQL the plans, per connection)."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def rows(connection, sql: str, params: dict | None = None, *, before: str = "", after: str = ""):
    """The rows of `sql` run on the Django `connection` as a prepared statement, between
    the statements `before` and `after` if given (setting planner options and setting them
    back): all in one pipeline, so one round trip and, outside an atomic block, one
    transaction. Logged as one query."""
    # As Django's connection.cursor(): a connection that failed its health check (the
    # database restarted) is replaced before use, not used and found broken.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with (
        _PreparedCursor(raw) as options,
        wrap(_PreparedCursor(raw)) as cursor,
        connection.wrap_database_errors,
    ):
        with raw.pipeline():
            if before:
                options.execute(before)
            cursor.execute(sql, params)
            if after:
                options.execute(after)
        return cursor.fetchall()
