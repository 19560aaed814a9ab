"""Link previews: the Open Graph and Twitter card tags of every public page, and share cards.

`page_tags` says what a page looks like when a link to it is shared, from what its view
put in the template context: a report's version, a list's heading, a source, a flat page,
or a page's own `share` dict; else the site's name and tagline. A report page's image is
its share card, a PNG drawn from the published version (`card_png`) at an address that
names the version, so a correction gets a new address; every other page's is the site
image (`site_image`): the default uploaded in the admin, else a card drawn with the site's
name. Both are kept in the shared cache: a card is drawn once, not per request.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.text import Truncator
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from reports import citations

CARD_SIZE = (1200, 630)
# Raised when the drawing changes, so cards drawn the old way are not served again.
CARD_DESIGN = 1
# Cards are drawn from immutable versions: kept a month in the shared cache, and a year
# by browsers and CDNs (the address names the version; see `reports.public.sharing_views`).
CARD_CACHE_SECONDS = 30 * 24 * 3600
TAGLINE = "Independent fact-checks, every claim cited to its sources."
DESCRIPTION_LENGTH = 200

# Pages whose title is fixed, by URL name: what a preview of them says.
PAGE_TITLES = {
    "reports:home": "Latest fact-checks",
    "reports:rating_scale": "Rating scale",
    "reports:suggest_claim": "Suggest a claim to check",
}

_MARGIN = 72
_BACKGROUND = "#111827"
_INK = "#f9fafb"
_MUTED = "#9ca3af"


# The tags -----------------------------------------------------------------------------------


def page_tags(context) -> dict | None:
    """The link-preview tags of the page rendered with `context`; None for staff previews.

    A view may set `share` in its context (`title`, `description`, `type`, `image`) to
    say what the page is; what it leaves out is taken from the page's other context.
    """
    request = context.get("request")
    if request is None or context.get("is_preview"):
        return None
    site = settings.FACTUALLY_SITE_NAME
    tags = {"site_name": site, "type": "website", "title": site, "description": TAGLINE}
    tags.update(_from_context(context, request, site))
    tags.update({k: v for k, v in (context.get("share") or {}).items() if v})
    tags["url"] = context.get("canonical_url") or canonical_address(request)
    if not tags.get("image"):
        tags["image"] = request.build_absolute_uri(reverse("reports:share_site_image"))
        tags["image_alt"] = site
    tags["description"] = Truncator(" ".join(tags["description"].split())).chars(DESCRIPTION_LENGTH)
    return tags


def _from_context(context, request, site: str) -> dict:
    version = context.get("version")
    if version is not None and context.get("live") is not None and "entries" not in context:
        return _report_tags(request, version, context["live"])
    if context.get("entries") is not None and context.get("live") is not None:
        return {"title": f"Version history: {context['live'].claim}"}
    if context.get("source") is not None:
        source = context["source"]
        return {"title": source.title, "description": f"A source cited by {site}."}
    if context.get("flatpage") is not None:
        page = context["flatpage"]
        # Django's flat page view marks the title safe: "" + makes it plain text again.
        return {"title": "" + str(page.title), "description": citations.plain_text(page.content)}
    if context.get("heading"):
        return {"title": context["heading"], "description": context.get("description") or ""}
    match = getattr(request, "resolver_match", None)
    title = PAGE_TITLES.get(match.view_name) if match else None
    return {"title": title} if title else {}


def _report_tags(request, version, live) -> dict:
    verdict = version.verdict
    card = reverse("reports:share_card", kwargs={"slug": live.slug, "number": version.number})
    return {
        "type": "article",
        "title": version.claim,
        "description": f"Verdict: {verdict.name}. {version.summary_text}",
        "image": request.build_absolute_uri(card),
        "image_alt": f"{verdict.name}: {version.claim}",
        "image_width": CARD_SIZE[0],
        "image_height": CARD_SIZE[1],
    }


def canonical_address(request) -> str:
    """This page's absolute address, keeping only a `page` parameter above 1.

    Filters, sorting and tracking parameters do not make another page for search engines.
    """
    url = request.build_absolute_uri(request.path)
    page = request.GET.get("page", "")
    # ASCII digits only ("²".isdigit() but int() refuses it), and few: int() refuses 5000.
    if page.isascii() and page.isdigit() and len(page) <= 9 and int(page) > 1:
        url += f"?page={int(page)}"
    return url


# The cards ----------------------------------------------------------------------------------


def card_png(version) -> bytes:
    """The share card of a published `version` (with its verdict): drawn once, then cached."""
    verdict = version.verdict
    lines = {
        "kicker": "Fact-check",
        "label": verdict.name,
        "colour": verdict.colour,
        "label_ink": verdict.text_colour,
        "text": f"“{version.claim}”",
        "footer": settings.FACTUALLY_SITE_NAME,
    }
    # Keyed by what is drawn: a renamed verdict or site gets a fresh card.
    return _cached(f"version-{version.pk}", lines)


def site_card_png() -> bytes:
    """The site's own card, for pages with no image of their own and no default uploaded."""
    site = settings.FACTUALLY_SITE_NAME
    lines = {
        "kicker": "Fact-checks",
        "label": site,
        "colour": "#2563eb",
        "label_ink": "#ffffff",
        "text": TAGLINE,
        "footer": site,
    }
    return _cached("site", lines)


def _cached(name: str, lines: dict) -> bytes:
    digest = hashlib.sha256(repr(sorted(lines.items())).encode()).hexdigest()[:16]
    key = f"factually:share-card:{CARD_DESIGN}:{name}:{digest}"
    store = caches[settings.FACTUALLY_PAGE_CACHE]
    png = store.get(key)
    if png is None:
        png = draw_card(**lines)
        store.set(key, png, timeout=CARD_CACHE_SECONDS)
    return png


def draw_card(
    *, kicker: str, label: str, colour: str, label_ink: str, text: str, footer: str
) -> bytes:
    """A 1200×630 PNG: a small kicker, a coloured label (the verdict), the text, a footer.

    The text is wrapped to the card and cut with "…" when it does not fit, in the smallest
    of the sizes tried. The font is Pillow's own (`load_default`): no system font needed.
    """
    width, height = CARD_SIZE
    image = Image.new("RGB", CARD_SIZE, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = width - 2 * _MARGIN

    draw.text((_MARGIN, _MARGIN), kicker.upper(), font=_font(30), fill=_MUTED)

    label_font = _font(48)
    label = _fit(label, label_font, inner - 48)
    box_width = int(label_font.getlength(label)) + 48
    top = _MARGIN + 56
    draw.rounded_rectangle((_MARGIN, top, _MARGIN + box_width, top + 80), 12, fill=colour)
    draw.text((_MARGIN + 24, top + 40), label, font=label_font, fill=label_ink, anchor="lm")

    text_top, text_bottom = top + 120, height - _MARGIN - 60
    for size, spacing in ((60, 14), (50, 12), (42, 10)):
        font = _font(size)
        most = (text_bottom - text_top) // (size + spacing)
        lines = wrap(text, font, inner)
        if len(lines) <= most:
            break
    lines = _cut(lines, font, inner, most)
    for index, line in enumerate(lines):
        draw.text((_MARGIN, text_top + index * (size + spacing)), line, font=font, fill=_INK)

    draw.text((_MARGIN, height - _MARGIN), footer, font=_font(32), fill=_MUTED, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def wrap(text: str, font, width: int) -> list[str]:
    """`text` in lines no wider than `width`, broken between words (inside a word too long)."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = _longest_prefix(word, font, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _cut(lines: list[str], font, width: int, most: int) -> list[str]:
    if len(lines) <= most:
        return lines
    kept = lines[:most]
    kept[-1] = _fit(kept[-1] + " …", font, width, always=True)
    return kept


def _fit(text: str, font, width: int, *, always: bool = False) -> str:
    """`text`, or as much of it as fits in `width` followed by "…"."""
    if font.getlength(text) <= width and not always:
        return text
    text = text.removesuffix(" …")
    while text and font.getlength(text.rstrip() + "…") > width:
        # Whole words go first; a single word too long loses letters.
        text = text.rsplit(" ", 1)[0] if " " in text.strip() else text[:-1]
    return text.rstrip() + "…"


def _longest_prefix(word: str, font, width: int) -> int:
    cut = len(word)
    while cut > 1 and font.getlength(word[:cut]) > width:
        cut -= 1
    return cut


@cache
def _font(size: int):
    return ImageFont.load_default(size=size)


# The default image ---------------------------------------------------------------------------

# What link previews accept and show well: Facebook wants 200×200 at least, X at most
# 4096×4096 and 5 MB; a card's 1200×630 suits both. 3 MB also leaves the upload room in the
# admin's 4 MiB request body limit (factually/bodylimit.py).
IMAGE_MAX_BYTES = 3 * 1024 * 1024
IMAGE_MIN_SIDE = 200
IMAGE_MAX_SIDE = 4096
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def read_image(data: bytes) -> dict:
    """The `ShareImage` fields of an uploaded image; ValidationError saying what is wrong.

    Only a whole, decodable PNG or JPEG of sane dimensions passes: the format is read from
    the bytes, never from the file's name or the browser's word, and the dimensions are
    checked from the header before the image is decoded.
    """
    if len(data) > IMAGE_MAX_BYTES:
        raise ValidationError(
            f"The image is {len(data):,} bytes; the limit is {IMAGE_MAX_BYTES:,} (3 MB)."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise ValidationError("This is not an image: upload a PNG or JPEG file.") from None
    if kind not in IMAGE_FORMATS:
        raise ValidationError(f"This is a {kind} image: upload a PNG or JPEG file.")
    if min(width, height) < IMAGE_MIN_SIDE or max(width, height) > IMAGE_MAX_SIDE:
        raise ValidationError(
            f"The image is {width}×{height} pixels: each side must be between "
            f"{IMAGE_MIN_SIDE} and {IMAGE_MAX_SIDE} (1200×630 shows best)."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a cut-off or corrupt file fails here
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The image is damaged or incomplete: it cannot be read.") from None
    return {
        "image": data,
        "content_type": IMAGE_FORMATS[kind],
        "width": width,
        "height": height,
        "digest": hashlib.sha256(data).hexdigest(),
    }
