"""The forms behind each workflow step in the admin; each calls one `reports.workflow` function."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from reports import publishing, workflow
from reports.models import ChangeKind, Report

LABELS = {
    "submit": "Submit for review",
    "return_to_editor": "Return to the editor",
    "publish": "Publish",
    "schedule": "Schedule",
    "withdraw": "Withdraw",
    "unpublish": "Unpublish",
}

# What each step's form asks of its user: the workflow's own table, not a copy.
PERMISSIONS = {name: step.permission for name, step in workflow.STEPS.items()}


class StepForm(forms.Form):
    def __init__(self, *args, report: Report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report

    def apply(self, *, by) -> str:
        """Make the step; returns the message for the editor and the admin history."""
        raise NotImplementedError


class SubmitForm(StepForm):
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="For the reviewer."
    )

    def apply(self, *, by):
        workflow.submit(self.report, by=by, comment=self.cleaned_data["comment"])
        return "Submitted for review."


class ReturnForm(StepForm):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="What the editor should change."
    )

    def apply(self, *, by):
        workflow.return_to_editor(self.report, by=by, comment=self.cleaned_data["comment"])
        return "Returned to the editor."


class ChangeNoteMixin(forms.Form):
    """A change note and its kind, asked for only when a report was published before."""

    note = forms.CharField(
        label="Change note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to readers under the report, e.g. “Corrected the date of the speech.”",
    )
    kind = forms.ChoiceField(label="Kind of change", choices=ChangeKind.choices, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.republishing = self.report.versions.exists()
        if self.republishing:
            self.fields["note"].required = True
            self.fields["kind"].required = True
        else:
            del self.fields["note"], self.fields["kind"]

    def change_note(self) -> dict:
        if not self.republishing:
            return {}
        return {"note": self.cleaned_data["note"], "kind": self.cleaned_data["kind"]}


class ApprovalMixin(forms.Form):
    """What the reviewer was shown, carried by the page: publishing is bound to exactly that."""

    _STALE = {"required": "This page is out of date: open it again.", "invalid": "Open it again."}
    seen_version = forms.IntegerField(widget=forms.HiddenInput, error_messages=_STALE)
    seen_sources = forms.CharField(
        widget=forms.HiddenInput, required=False, strip=False, error_messages=_STALE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.show_current()

    def show_current(self) -> None:
        """Carry the report as it is now: after a refusal, the page shows it again."""
        current = publishing.approval(self.report)
        self.initial.update(seen_version=current.edit_version, seen_sources=current.sources)
        if self.is_bound:
            self.data = self.data.copy()
            self.data[self.add_prefix("seen_version")] = current.edit_version
            self.data[self.add_prefix("seen_sources")] = current.sources

    def approved(self) -> publishing.Approval:
        return publishing.Approval(
            self.cleaned_data["seen_version"], self.cleaned_data["seen_sources"]
        )


class PublishForm(ApprovalMixin, ChangeNoteMixin, StepForm):
    def apply(self, *, by):
        version = workflow.publish(
            self.report, by=by, expected=self.approved(), **self.change_note()
        )
        return f"Published version {version.number}."


class ScheduleForm(ApprovalMixin, ChangeNoteMixin, StepForm):
    at = forms.DateTimeField(
        label="Go live at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="In the newsroom's time zone; `publish_scheduled` publishes it then.",
    )

    field_order = ["at", "note", "kind"]

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return at

    def apply(self, *, by):
        at = self.cleaned_data["at"]
        workflow.schedule(self.report, by=by, at=at, expected=self.approved(), **self.change_note())
        return f"Scheduled to go live on {date_format(timezone.localtime(at), 'DATETIME_FORMAT')}."


class WithdrawForm(StepForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Readers who follow a link to the report see this notice.",
    )

    def apply(self, *, by):
        workflow.withdraw(self.report, by=by, reason=self.cleaned_data["reason"])
        return "Withdrawn: the public page now shows the withdrawal notice."


class UnpublishForm(StepForm):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it comes down without a notice (for the newsroom, not readers).",
    )

    def apply(self, *, by):
        workflow.unpublish(self.report, by=by, comment=self.cleaned_data["comment"])
        return "Unpublished: the report is a draft again and its page is gone."


FORMS: dict[str, type[StepForm]] = {
    "submit": SubmitForm,
    "return_to_editor": ReturnForm,
    "publish": PublishForm,
    "schedule": ScheduleForm,
    "withdraw": WithdrawForm,
    "unpublish": UnpublishForm,
}
