"""Large samples as citation managers write them: a Zotero CSL-JSON export and a .bib file
of about 200 entries each, of mixed types, built in code (deterministic, no network).

Most items of real bibliographies are books and articles without URL; some have DOIs (a
few short ones), some only a journal; dates come as seasons, ranges, literals or are
missing; Zotero leaves `accessed` out for most items. A few entries repeat others (the same
DOI, the same URL with tracking parameters) and a few are broken the ways real files are.
"""

from __future__ import annotations

import json

FAMILIES = [
    ("Smith", "John"),
    ("d'Jones", "Bob"),
    ("Müller", "Jörg"),
    ("van Gogh", "Vincent"),
    ("O'Brien", "Flann"),
    ("García Márquez", "Gabriel"),
    ("de la Cruz", "Juana Inés"),
    ("Nguyen", "Thi Minh"),
    ("Okonkwo", "Chidi"),
    ("Kowalski", "Anna"),
    ("Tanaka", "Hiroshi"),
    ("Dubois", "Élise"),
]
JOURNALS = [
    "Nature Energy",
    "The Lancet",
    "Journal of Human Evolution",
    "Science",
    "PLOS ONE",
    "Climatic Change",
]
PUBLISHERS = ["Oxford University Press", "Penguin", "MIT Press", "Routledge", "Springer"]
NEWS = [("The Guardian", "theguardian.com"), ("BBC News", "bbc.co.uk"), ("Le Monde", "lemonde.fr")]
TOPICS = [
    "sea level rise",
    "heat mortality",
    "vaccine uptake",
    "crop yields",
    "<i>Aedes aegypti</i> range",
    "CO<sub>2</sub> budgets",
    'the <span class="nocase">mRNA</span> platform',
    "migration statistics",
]
LATEX_TOPICS = [
    "sea level rise",
    "heat mortality",
    "vaccine uptake",
    "crop yields",
    "\\emph{Aedes aegypti} range",
    "CO\\textsubscript{2} budgets",
    "the {mRNA} platform",
    "migration statistics",
]
# Items that repeat earlier ones, refused ones: how many each sample holds (see the tests).
CSL_ITEMS = 200
BIB_ENTRIES = 200


def _csl_names(n: int, count: int) -> list[dict]:
    names = []
    for i in range(count):
        family, given = FAMILIES[(n + i) % len(FAMILIES)]
        if family.startswith("van "):
            names.append({"family": "Gogh", "given": given, "non-dropping-particle": "van"})
        else:
            names.append({"family": family, "given": given})
    return names


def zotero_export(existing_urls: list[str], existing_dois: list[str]) -> str:
    """A Zotero CSL-JSON export of CSL_ITEMS items; some match `existing_*` records."""
    items = []
    for n in range(CSL_ITEMS):
        key = f"http://zotero.org/users/4711/items/{n:08X}"
        topic = TOPICS[n % len(TOPICS)]
        kind = n % 10
        item: dict = {"id": key, "title": f"On {topic}: study {n}"}
        if kind in (0, 1, 2):  # journal articles: DOI, sometimes no URL, seasons, short DOIs
            item |= {
                "type": "article-journal",
                "container-title": JOURNALS[n % len(JOURNALS)],
                "author": _csl_names(n, 1 + n % 3),
                "DOI": f"10/{n:x}ab" if n % 7 == 0 else f"10.1000/journal.{n}",
                "issued": {"date-parts": [[str(2000 + n % 24), 13 + n % 4]]}
                if n % 4 == 0
                else {"date-parts": [[2000 + n % 24, 1 + n % 12]]},
                "volume": str(n % 40),
                "page": f"{n}-{n + 9}",
            }
            if kind == 2:
                item["URL"] = f"https://journals.example/{n}"
        elif kind == 3:  # books: ISBN-less, no URL, a range or a circa now and then
            item |= {
                "type": "book",
                "publisher": PUBLISHERS[n % len(PUBLISHERS)],
                "publisher-place": "London",
                "author": _csl_names(n, 1),
                "issued": {"date-parts": [[1829 + n], [1830 + n]]}
                if n % 3 == 0
                else {"date-parts": [[1900 + n % 100]], "circa": n % 2},
            }
        elif kind == 4:  # chapters
            item |= {
                "type": "chapter",
                "container-title": f"Handbook of {topic}",
                "publisher": PUBLISHERS[n % len(PUBLISHERS)],
                "author": _csl_names(n, 2),
                "issued": {"date-parts": [[2010 + n % 10]]},
            }
        elif kind == 5:  # newspapers with URL and access date
            name, domain = NEWS[n % len(NEWS)]
            item |= {
                "type": "article-newspaper",
                "container-title": name,
                "URL": f"https://www.{domain}/2023/{n}/story?utm_source=zotero",
                "accessed": {"date-parts": [[2024, 1 + n % 12, 1 + n % 28]]},
                "issued": f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}",
            }
        elif kind == 6:  # reports on government and NGO sites
            host = "gov.uk" if n % 2 else "oxfam.org"
            item |= {
                "type": "report",
                "publisher": "UK Government" if n % 2 else "Oxfam",
                "URL": f"https://www.{host}/reports/{n}",
                "issued": {"raw": f"{2015 + n % 9}-05-25"},
            }
        elif kind == 7:  # theses on repositories
            item |= {
                "type": "thesis",
                "publisher": "University of Leiden",
                "URL": f"https://hdl.handle.net/1887/{n}",
                "author": _csl_names(n, 1),
                "issued": "2019/2020",
            }
        elif kind == 8:  # web pages: accessed, a datetime, in press
            item |= {
                "type": "webpage",
                "container-title": "Our World in Data",
                "URL": f"https://ourworldindata.org/{n}",
                "issued": "2020-03-05T10:00:00Z" if n % 2 else {"literal": "(in press)"},
            }
        else:  # interviews and manuscripts: neither URL nor identifier
            item |= {
                "type": "interview",
                "author": _csl_names(n, 1),
                "issued": {"date-parts": [[]], "literal": "spring 2021"},
            }
        items.append(item)
    # Repeats of earlier items (the same DOI; the same URL with other tracking).
    items += [
        {**items[0], "id": "repeat-doi-0"},
        {**items[10], "id": "repeat-doi-10"},
        {**items[5], "id": "repeat-url-5", "URL": items[5]["URL"].replace("zotero", "mail")},
    ]
    # Records the library holds already.
    items += [
        {"id": f"known-url-{i}", "type": "webpage", "title": f"Known {i}", "URL": url}
        for i, url in enumerate(existing_urls)
    ]
    items += [
        {"id": f"known-doi-{i}", "type": "article-journal", "title": f"Known {i}", "DOI": doi}
        for i, doi in enumerate(existing_dois)
    ]
    # Broken the ways real exports are.
    items += [
        {"id": "no-title", "type": "webpage", "URL": "https://example.org/untitled"},
        {"id": "bad-doi", "type": "article-journal", "title": "Bad DOI", "DOI": "n/a"},
        {"id": "bad-date", "type": "book", "title": "Bad date", "issued": "someday"},
    ]
    return json.dumps(items, ensure_ascii=False, indent=2)


def _bib_names(n: int, count: int) -> str:
    names = []
    for i in range(count):
        family, given = FAMILIES[(n + i) % len(FAMILIES)]
        if (n + i) % 5 == 0:
            names.append(f"{given} {family}")
        elif family == "van Gogh":
            names.append(f"family=Gogh, given={given}, prefix=van, useprefix=true")
        else:
            names.append(f"{family}, {given}")
    names = " and ".join(names).replace("ü", '{\\"u}').replace("ö", '{\\"o}')
    return f"{{{names}}}"


def bib(entry_type: str, key: str, **fields: str) -> str:
    """One entry; values are written as given (braced, quoted or a macro name)."""
    lines = "".join(f"  {name} = {value},\n" for name, value in fields.items())
    return f"@{entry_type}{{{key},\n{lines}}}"


def bibliography(existing_urls: list[str], existing_dois: list[str]) -> str:
    """A .bib of BIB_ENTRIES entries of mixed types, as a researcher's file holds them."""
    parts = [
        "% Exported and merged by hand.",
        '@string{jhe = "Journal of " # "Human Evolution"}',
        "@string{oup = {Oxford University Press}}",
    ]
    for p in range(4):
        parts.append(
            bib(
                "proceedings",
                f"proc{p}",
                title=f"{{Proceedings of Workshop {p}}}",
                publisher="{ACM}",
                year=f"{{{2010 + p}}}",
                month="jun",
            )
        )
    for n in range(BIB_ENTRIES - 4):
        title = f"{{On {LATEX_TOPICS[n % len(LATEX_TOPICS)]}: study {n}}}"
        kind, key = n % 10, f"entry{n}"
        if kind in (0, 1):
            journal = "jhe" if n % 3 == 0 else f"{{{JOURNALS[n % len(JOURNALS)]}}}"
            doi = {"doi": f"{{10.2000/bib.{n}}}"} if kind == 0 else {}
            year = f"{{{2000 + n % 24}}}"
            entry = bib(
                "article",
                key,
                author=_bib_names(n, 2),
                title=title,
                journal=journal,
                year=year,
                **doi,
            )
        elif kind == 2:
            year = f"{{{1829 + n % 50}--{1830 + n % 50}}}"
            entry = bib(
                "book", key, author=_bib_names(n, 1), title=title, publisher="oup", year=year
            )
        elif kind == 3:
            url = f"{{https://www.oecd.org/reports/{n}.pdf}}"
            entry = bib("techreport", key, title=title, institution="{OECD}", year="2015", url=url)
        elif kind == 4:
            url = f"{{https://hdl.handle.net/1887/b{n}}}"
            entry = bib(
                "phdthesis",
                key,
                author=_bib_names(n, 1),
                title=title,
                school="{University of Leiden}",
                date="{2019/2020}",
                url=url,
            )
        elif kind == 5:
            howpublished = f"{{\\url{{https://data.example.org/{n}}}}}"
            note = "{Accessed via the portal}"
            entry = bib("misc", key, title=title, howpublished=howpublished, note=note)
        elif kind == 6:
            entry = bib(
                "online",
                key,
                title=f"{title[:-1]} \\href{{https://x.example/{n}}}{{(slides)}}}}",
                url=f"{{https://blog.example.net/{n}}}",
                date=f"{{2011-05-{1 + n % 28:02d}~}}",
                urldate="{2024-02-03}",
            )
        elif kind == 7:
            entry = bib(
                "inproceedings",
                key,
                author=_bib_names(n, 3),
                title=title,
                crossref=f"{{proc{n % 4}}}",
                pages=f"{{{n}--{n + 5}}}",
            )
        elif kind == 8:
            publisher = f"{{{PUBLISHERS[n % len(PUBLISHERS)]}}}"
            year = f"{{circa {1850 + n % 40}}}"
            entry = bib(
                "book", key, author=_bib_names(n, 1), title=title, publisher=publisher, year=year
            )
        else:
            entry = bib(
                "article",
                key,
                author=_bib_names(n, 1),
                title=title,
                journal="{Le Monde}",
                entrysubtype="{newspaper}",
                year="{2022}",
                month=f"{{{1 + n % 12}}}",
            )
        parts.append(entry)
    # A repeated key with another entry, and a repeat of an earlier entry under its key.
    parts.append(
        bib("book", "entry2", title="{Another book under a repeated key}", publisher="oup")
    )
    parts.append(bib("article", "entry0", title="{Again}", journal="jhe", doi="{10.2000/bib.0}"))
    for i, url in enumerate(existing_urls):
        parts.append(bib("misc", f"known-url-{i}", title=f"{{Known {i}}}", url=f"{{{url}}}"))
    for i, doi in enumerate(existing_dois):
        parts.append(bib("article", f"known-doi-{i}", title=f"{{Known {i}}}", doi=f"{{{doi}}}"))
    parts += [
        bib("misc", "no-title", url="{https://example.org/untitled}"),
        bib("article", "undefined", title="{Uses an undefined macro}", journal="nosuch"),
        bib("book", "bad-month", title="{Bad month}", year="2020", month="{Smarch}"),
    ]
    return "\n\n".join(parts) + "\n"
