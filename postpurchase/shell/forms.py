from django import forms


def read_only(*forms_: forms.BaseForm | forms.BaseFormSet) -> None:
    """Show the forms' current values without letting them be changed: what a staff member
    whose role may not edit a setting sees of it."""
    for form in forms_:
        for each in form.forms if isinstance(form, forms.BaseFormSet) else [form]:
            for field in each.fields.values():
                field.disabled = True
