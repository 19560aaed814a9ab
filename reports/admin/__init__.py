"""Admin for editors and reviewers: drafting, citing, reviewing and publishing reports.

One module per admin area; importing them here registers their admins (Django's admin
autodiscovery imports this package). The admin stays thin: it asks and shows, and the
modules of `reports` and `reports.newsroom` decide.

- `report`: the report change form, its inlines and filters, and the routes of its pages;
- `workflow` (with `workflow_forms`): each workflow step's page, the checklist, bulk publish;
- `review`: the preview with uncited sentences, similar published claims;
- `citing`: the "Cite a source" panel;
- `importing`: "Import from text";
- `messages`: the queue of reader messages;
- `published`, `verdicts`: published versions (read-only), verdicts and topics;
- `sharing`: the site's default image for link previews;
- `forms`, `widgets`, `pages`: what these share.
"""

from reports.admin import messages, published, report, sharing, verdicts  # noqa: F401 (registers)
