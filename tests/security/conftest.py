"""Fixtures for the security tests: a client per role, and a site with reports in every state.

Roles, in the order the tables of these tests list them:

- anonymous: no session;
- reader: a logged-in account that is not staff (no newsroom role);
- editor, reviewer, curator: staff in the Editor, Reviewer and Source curator groups;
- superuser.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest
import reversion
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, User
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.db import transaction
from django.test import Client
from django.utils import timezone

from reports import roles, workflow
from reports.models import PublishedVersion, ReaderMessage, Report, Section, Topic, Verdict
from sources.models import Publisher, Source, SourceMerge
from tests.conftest import make_publisher, make_report, make_source, make_user, publish_now

ANONYMOUS, READER, EDITOR, REVIEWER, CURATOR, SUPERUSER = ROLES = (
    "anonymous",
    "reader",
    "editor",
    "reviewer",
    "curator",
    "superuser",
)
STAFF_PASSWORD = "correct horse battery"  # what make_user sets

# Words that appear only in what readers must never see: each names the state it hides in.
# A word found in any public response is a leak.
SECRETS = {
    "draft": "Zanzibarquill draft claim",
    "returned": "Quokkavelvet returned claim",
    "in review": "Marzipanorbit claim in review",
    "scheduled": "Tamarindglacier scheduled claim",
    "unpublished": "Obsidianwhisk unpublished claim",
    "withdrawn body": "Pelicanmosaic withdrawn text",
    "unpublished edit": "Heliotropefjord edited claim",
    "unpublished section": "Saffronlattice section text",
}


@dataclasses.dataclass
class World:
    """One of everything the URL table needs, and the hidden reports whose text must not leak."""

    live: Report  # published twice: version 1 superseded, version 2 live, then edited again
    live_version: PublishedVersion
    draft: Report
    returned: Report
    in_review: Report
    scheduled: Report
    unpublished: Report
    withdrawn: Report
    topic: Topic
    verdict: Verdict
    source: Source  # cited by the live report
    hidden_source: Source  # cited only by the hidden reports
    duplicate: Source
    retired: Source
    publisher: Publisher
    merge: SourceMerge
    message: ReaderMessage
    flatpage: FlatPage
    group: Group
    user: User
    site: Site
    revision_id: int  # a reversion Version of the live report
    deleted_version_id: int  # a reversion Version of a deleted report
    attempt: AccessAttempt
    access_log: AccessLog
    failure_log: AccessFailureLog
    users: dict

    @property
    def hidden_slugs(self) -> list[str]:
        return [
            r.slug
            for r in (
                self.draft,
                self.returned,
                self.in_review,
                self.scheduled,
                self.unpublished,
                self.withdrawn,
            )
        ]


def _hidden(claim: str, topic: Topic, source: Source, **fields) -> Report:
    report = make_report(claim=claim, references=1, **fields)
    report.topics.add(topic)
    reference = report.references.get()
    reference.source = source
    reference.save()
    return report


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once per test module inside a transaction rolled back after it.

    As TestCase.setUpTestData does: each test runs in a savepoint of that transaction (its
    own `db` fixture), so what a test writes goes, and the world stays as built.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _build_world() -> World:
    topic = Topic.objects.create(name="Elections", slug="elections")
    verdict = Verdict.objects.get(slug="false")
    users = {
        READER: make_user("a-reader", is_staff=False),
        EDITOR: make_user("an-editor", roles.EDITOR),
        REVIEWER: make_user("a-reviewer", roles.REVIEWER),
        CURATOR: make_user("a-curator", roles.SOURCE_CURATOR),
        SUPERUSER: make_user("the-boss", is_superuser=True),
    }

    live = make_report(claim="The live claim everyone may read.", slug="the-live-claim")
    live.topics.add(topic)
    with reversion.create_revision():
        live.save()
    publish_now(live)
    live.summary += " A correction [1]."
    live.save()
    live_version = publish_now(live, note="Corrected.", kind="correction")
    # Edits after publishing stay in the working copy until reviewed again.
    live.claim = SECRETS["unpublished edit"]
    live.save()
    Section.objects.filter(report=live, position=1).update(body=SECRETS["unpublished section"])
    source = live.references.get(number=1).source

    hidden_source = make_source(title="A source only hidden reports cite")
    draft = _hidden(SECRETS["draft"], topic, hidden_source)
    returned = _hidden(SECRETS["returned"], topic, hidden_source)
    workflow.submit(returned, by=None)
    workflow.return_to_editor(returned, by=None, comment="Not yet.")
    in_review = _hidden(SECRETS["in review"], topic, hidden_source)
    workflow.submit(in_review, by=None)
    scheduled = _hidden(SECRETS["scheduled"], topic, hidden_source)
    workflow.submit(scheduled, by=None)
    workflow.schedule(scheduled, by=None, at=timezone.now() + datetime.timedelta(days=2))
    unpublished = _hidden(SECRETS["unpublished"], topic, hidden_source)
    publish_now(unpublished)
    workflow.unpublish(unpublished, by=None, comment="Published by mistake.")
    withdrawn = _hidden("A withdrawn claim.", topic, hidden_source)
    Section.objects.filter(report=withdrawn, position=1).update(
        body=SECRETS["withdrawn body"] + " [1]."
    )
    publish_now(withdrawn)
    workflow.withdraw(withdrawn, by=None, reason="The evidence was wrong.")

    doomed = make_report(claim="A report deleted later.")
    with reversion.create_revision():
        doomed.save()
    doomed.delete()
    versions = reversion.models.Version.objects
    kept = make_source(title="Kept source")
    return World(
        live=live,
        live_version=live_version,
        draft=draft,
        returned=returned,
        in_review=in_review,
        scheduled=scheduled,
        unpublished=unpublished,
        withdrawn=withdrawn,
        topic=topic,
        verdict=verdict,
        source=source,
        hidden_source=hidden_source,
        duplicate=make_source(title="Kept source (copy)"),
        retired=make_source(title="A retired source", status=Source.Status.RETIRED),
        publisher=make_publisher(),
        merge=SourceMerge.objects.create(
            kept=kept,
            merged_id=10_000_000,
            merged_title="Merged away",
            merged_url="https://merged.example/",
            merged_data={},
        ),
        message=ReaderMessage.objects.create(
            kind=ReaderMessage.Kind.ERROR, report=live, version_number=2, message="A typo."
        ),
        flatpage=FlatPage.objects.get(url="/methodology/"),
        group=Group.objects.get(name=roles.EDITOR),
        user=users[EDITOR],
        site=Site.objects.get_current(),
        revision_id=versions.get_for_object(live).first().pk,
        deleted_version_id=versions.get_deleted(Report).first().pk,
        attempt=AccessAttempt.objects.create(
            username="someone", ip_address="192.0.2.1", failures_since_start=1
        ),
        access_log=AccessLog.objects.create(username="someone", ip_address="192.0.2.1"),
        failure_log=AccessFailureLog.objects.create(username="someone", ip_address="192.0.2.1"),
        users=users,
    )


@pytest.fixture
def clients(db, world) -> dict[str, Client]:
    """A test client per role (each its own session), in ROLES order."""
    result = {ANONYMOUS: Client()}
    for role in ROLES[1:]:
        result[role] = Client()
        result[role].force_login(world.users[role])
    return result
