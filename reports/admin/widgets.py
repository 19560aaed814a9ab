"""Widgets of the report admin: inline autocompletes that cost one query per field."""

from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.functional import cached_property


class _SelectedLabels:
    """The labels of the options selected in every row of one inline, read in one query."""

    def __init__(self, queryset, label):
        self.queryset, self.label = queryset, label

    @cached_property
    def labels(self) -> dict[str, str]:
        return {str(obj.pk): self.label(obj) for obj in self.queryset}


class RowAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that shows its selected option without a query per inline row."""

    # Set per request by `OneQueryAutocompleteMixin`; the copies made for each row share it.
    selected: _SelectedLabels | None = None

    def optgroups(self, name, value, attr=None):
        chosen = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if self.selected is None or not chosen <= self.selected.labels.keys():
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for pk in sorted(chosen):
            options.append(
                self.create_option(name, pk, self.selected.labels[pk], chosen, len(options))
            )
        return [(None, options, 0)]


class OneQueryAutocompleteMixin:
    """Inline autocompletes cost one query per field, not one per row, on the change form."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                RowAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for name in self.get_autocomplete_fields(request):
            field = formset.form.base_fields.get(name)
            widget = getattr(getattr(field, "widget", None), "widget", None)
            if obj is not None and isinstance(widget, RowAutocompleteSelect):
                rows = self.model._default_manager.filter(**{formset.fk.name: obj})
                widget.selected = _SelectedLabels(
                    field.queryset.filter(pk__in=rows.values(name)), field.label_from_instance
                )
        return formset
