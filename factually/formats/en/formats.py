"""How dates read everywhere people look: pages, feeds, the newsroom, messages.

"February 12, 2026", as fact-checks have always written "Checked on". Templates use
`|date` and `|date:"DATETIME_FORMAT"`; Python uses `django.utils.formats.date_format`.
Whatever is not set here falls back to Django's own English formats.
"""

DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, H:i"
