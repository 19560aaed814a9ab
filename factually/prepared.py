"""Statements prepared once per database connection, for the hottest public reads.

Django's psycopg cursors bind parameters on the client and prepare nothing: every query is
parsed and planned anew. For a search or the filter choices that cost more than running
them (1.5 to 2 ms against 0.3 ms for a word found nowhere at 100,000 reports), so these few
statements go through `rows`: bound on the server, prepared the first time a connection runs
them, logged and their errors raised as Django's own queries are. Behind PgBouncer in
transaction mode, give it max_prepared_statements (1.21 and later).
"""

from __future__ import annotations

from contextlib import nullcontext

import psycopg
from django.db.backends.utils import CursorDebugWrapper


class _PreparedCursor(psycopg.Cursor):
    """Parameters bound on the server; each statement prepared the first time a connection
    runs it (psycopg keeps the names, PostgreSQL the plans, per connection)."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def rows(connection, sql: str, params: dict | None = None, *, before: str = "", after: str = ""):
    """The rows of `sql` run on the Django `connection` as a prepared statement, between
    the statements `before` and `after` if given (setting planner options and setting them
    back): all in one pipeline, so one round trip and, outside an atomic block, one
    transaction. Logged as one query, timed from sending to the last row."""
    # As Django's connection.cursor(): a connection that failed its health check (the
    # database restarted) is replaced before use, not used and found broken.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    with (
        _PreparedCursor(raw) as options,
        _PreparedCursor(raw) as cursor,
        connection.wrap_database_errors,
        _logged(connection, cursor, sql, params),
    ):
        with raw.pipeline():
            if before:
                options.execute(before)
            cursor.execute(sql, params)
            if after:
                options.execute(after)
        return cursor.fetchall()


def _logged(connection, cursor, sql: str, params):
    """Where Django logs its queries (DEBUG, tests' query counts): this one too, with the
    time the pipeline took (its statements run when it ends, not when they are queued)."""
    if not connection.queries_logged:
        return nullcontext()
    return CursorDebugWrapper(cursor, connection).debug_sql(
        sql, params, use_last_executed_query=True
    )
