"""Newsroom roles: the groups editors, reviewers and source curators belong to.

`sync_roles` makes each group hold exactly the permissions listed here; a data migration
and every `migrate` (post_migrate) call it, so the groups follow this file.
"""

from __future__ import annotations

EDITOR = "Editor"
REVIEWER = "Reviewer"
SOURCE_CURATOR = "Source curator"

# Role names as `createuser --role` spells them.
ROLE_CHOICES = {"editor": EDITOR, "reviewer": REVIEWER, "curator": SOURCE_CURATOR}

_EDITOR_PERMISSIONS = {
    "reports": [
        "add_report",
        "change_report",
        "view_report",
        "add_section",
        "change_section",
        "delete_section",
        "view_section",
        "add_reference",
        "change_reference",
        "delete_reference",
        "view_reference",
        "add_followupquestion",
        "change_followupquestion",
        "delete_followupquestion",
        "view_followupquestion",
        "view_verdict",
        "add_topic",
        "view_topic",
        "view_publishedversion",
        "view_transition",
        # Readers' error reports and claim suggestions: the queue editors work through.
        "view_readermessage",
        "change_readermessage",
    ],
    "sources": ["add_source", "change_source", "view_source", "add_publisher", "view_publisher"],
}

_REVIEWER_PERMISSIONS = {
    "reports": [
        *_EDITOR_PERMISSIONS["reports"],
        "delete_report",
        "change_topic",
        "review_report",
        "publish_report",
        "withdraw_report",
    ],
    "sources": _EDITOR_PERMISSIONS["sources"],
}

_CURATOR_PERMISSIONS = {
    "sources": [
        *(
            f"{action}_{model}"
            for model in ("source", "publisher", "publisherdomain")
            for action in ("add", "change", "delete", "view")
        ),
        "merge_source",
        "retire_source",
        "view_sourcemerge",
    ],
}

ROLES: dict[str, dict[str, list[str]]] = {
    EDITOR: _EDITOR_PERMISSIONS,
    REVIEWER: _REVIEWER_PERMISSIONS,
    SOURCE_CURATOR: _CURATOR_PERMISSIONS,
}


def sync_roles(apps=None, *, using: str = "default") -> None:
    """Create the role groups and set each one's permissions to exactly those in `ROLES`."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in ROLES.items():
        wanted = [(app, codename) for app, codenames in by_app.items() for codename in codenames]
        permissions = list(
            Permission.objects.using(using)
            .select_related("content_type")
            .filter(
                content_type__app_label__in=by_app.keys(),
                codename__in=[codename for _, codename in wanted],
            )
        )
        found = {(p.content_type.app_label, p.codename): p for p in permissions}
        if set(wanted) - found.keys():
            # Permissions appear after their models' migrations; post_migrate will finish.
            continue
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([found[key] for key in wanted])


def create_roles_migration(apps, schema_editor) -> None:
    """For data migrations: create the permissions now (Django makes them after migrating)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps, using=schema_editor.connection.alias)
