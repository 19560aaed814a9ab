"""The public forms readers send error reports and claim suggestions with."""

from __future__ import annotations

from django import forms

from reports.models import ReaderMessage


class FeedbackForm(forms.ModelForm):
    """Common to both forms: the optional email address and the honeypot."""

    # Hidden from sight by CSS (`.visually-hidden`), skipped by the keyboard, labelled for
    # screen readers: people leave it empty, form-filling bots do not.
    leave_empty = forms.CharField(
        label="Leave this empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "Your email address (optional)"
        email.help_text = "Only if you would like a reply. We never publish it."
        email.widget.attrs.update({"autocomplete": "email", "spellcheck": "false"})
        for field in self.fields.values():
            # A `maxlength` would cut a pasted text short without a word; the limit is
            # checked on the server, which says by how much, and keeps the text to trim.
            field.widget.attrs.pop("maxlength", None)

    @property
    def is_bot(self) -> bool:
        """Whether the honeypot was filled in (read after validation)."""
        return bool(self.cleaned_data.get("leave_empty"))

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != "leave_empty"]


class ErrorReportForm(FeedbackForm):
    # The version the reader was reading; anything else falls back to the live one.
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ReaderMessage
        fields = ["message", "location", "email"]
        labels = {
            "message": "What is wrong?",
            "location": "Where in the report? (optional)",
        }
        help_texts = {
            "message": "Tell us what you think is wrong and, if you can, how you know. "
            "Up to 2,000 characters.",
            "location": "A section heading, a paragraph or a short quote. Up to 500 characters.",
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 8, "autocomplete": "off"}),
            "location": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].required = True
        self.fields["message"].error_messages["required"] = "Tell us what is wrong."


class ClaimSuggestionForm(FeedbackForm):
    class Meta:
        model = ReaderMessage
        fields = ["claim", "claim_url", "message", "email"]
        labels = {
            "claim": "The claim",
            "claim_url": "Where did it appear? (optional)",
            "message": "Why does it matter? (optional)",
        }
        help_texts = {
            "claim": "The statement as it was made. Up to 500 characters.",
            "claim_url": "The address of the page, post or video, starting with https://.",
            "message": "Who is spreading it, or why it should be checked. Up to 2,000 characters.",
        }
        widgets = {
            "claim": forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
            "claim_url": forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
            "message": forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        }
        error_messages = {
            "claim": {"required": "Tell us the claim you would like checked."},
            "claim_url": {"invalid": "Enter the full address, such as https://example.com/page."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claim"].required = True
