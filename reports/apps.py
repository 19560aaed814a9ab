from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Fact-check reports"

    def ready(self):
        # Keep the role groups in step with reports.roles on every migrate.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="reports.sync_roles")
        # Cached public pages go stale when verdicts, topics, sources… are edited.
        from reports import caching

        caching.connect_signals()
        # Stored report articles are emptied when the verdicts and topics they show change.
        from reports import rendering

        rendering.connect_signals()


def _sync_roles(using="default", **kwargs):
    from reports.roles import sync_roles

    sync_roles(using=using)
