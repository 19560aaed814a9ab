"""Search results' marked claims and snippets (reports.public.snippets)."""

from reports.public import snippets


def test_forms_are_marked_as_whole_words_whatever_their_case():
    found = snippets.pattern(["vaccine", "vaccines"], whole_words=True)

    html = snippets.marked("Vaccines, a vaccine-led plan; antivaccine VACCINE", found)

    assert html == (
        "<mark>Vaccines</mark>, a <mark>vaccine</mark>-led plan; antivaccine <mark>VACCINE</mark>"
    )


def test_words_as_typed_are_marked_inside_others_as_sqlite_finds_them():
    found = snippets.pattern(["vaccin"], whole_words=False)

    assert snippets.marked("antivaccine", found) == "anti<mark>vaccin</mark>e"


def test_everything_but_the_marks_is_escaped():
    found = snippets.pattern(["<b>", "x"], whole_words=False)

    html = snippets.marked('<b> & "x" <script>', found)

    assert html == "<mark>&lt;b&gt;</mark> &amp; &quot;<mark>x</mark>&quot; &lt;script&gt;"


def test_without_words_the_text_is_only_escaped():
    assert snippets.pattern([], whole_words=True) is None
    assert snippets.marked("a < b\x00c", None) == "a &lt; b c"


def test_a_snippet_starts_a_few_words_before_the_first_word_found():
    words = [f"w{n}" for n in range(100)]
    words[50] = "Narwhals"
    found = snippets.pattern(["narwhals"], whole_words=True)

    html = snippets.snippet(" ".join(words), found)

    shown = html.removeprefix("… ").removesuffix(" …").split()
    assert html.startswith("… w42 ")
    assert html.endswith(" …")
    assert len(shown) == snippets.SNIPPET_WORDS
    assert shown[snippets.LEAD_WORDS] == "<mark>Narwhals</mark>"


def test_a_snippet_counts_a_word_found_inside_another_as_that_word():
    text = " ".join(["pad"] * 20 + ["antivaccine"] + ["end"] * 5)

    html = snippets.snippet(text, snippets.pattern(["vaccin"], whole_words=False))

    assert html.startswith("… pad pad pad pad pad pad pad pad anti<mark>vaccin</mark>e end")


def test_a_snippet_of_text_without_the_words_is_its_start():
    text = "First words of the summary.\n\nAnd the body." + " more" * 60

    html = snippets.snippet(text, snippets.pattern(["absent"], whole_words=True))

    assert html.startswith("First words of the summary. And the body. more")
    assert html.endswith(" …")
    assert "<mark>" not in html
