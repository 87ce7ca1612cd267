"""The forms of the semester evaluation (monev): a party's questionnaire, the ministry's conclusion, and the
``year``/``semester`` of the URL."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import evaluations
from .models import Recommendation


class SemesterParamsForm(forms.Form):
    """``?year=&semester=`` of the evaluation pages: anything malformed is refused (the views answer 404)."""

    year = forms.IntegerField(min_value=evaluations.YEAR_MIN, max_value=evaluations.YEAR_MAX)
    semester = forms.TypedChoiceField(choices=[("1", "1"), ("2", "2")], coerce=int)

    def semester_value(self) -> evaluations.Semester:
        return evaluations.Semester(self.cleaned_data["year"], self.cleaned_data["semester"])


SCORE_CHOICES = [(str(n), str(n)) for n in evaluations.SCORES]


class EvaluationForm(forms.Form):
    """One score 1–5 and a note per active question (``score_<code>``, ``note_<code>``), the recommendation, a
    note and an optional evidence file."""

    recommendation = forms.ChoiceField(
        label=_("Recommendation"), choices=Recommendation.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose a recommendation.")},
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=evaluations.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What went well, what did not, and why you recommend it."),
    )
    evidence = forms.FileField(
        label=_("Evidence (optional)"), required=False,
        help_text=_("A report, minutes or photos: PDF, JPEG or PNG, up to 10 MB."),
    )

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        fields = {}
        for question in questions:
            fields[f"score_{question.code}"] = forms.TypedChoiceField(
                label=evaluations.question_label(question), choices=SCORE_CHOICES, coerce=int,
                widget=forms.RadioSelect(attrs={"class": "score-choices"}),
                error_messages={"required": _("Choose a score from 1 to 5."),
                                "invalid_choice": _("Choose a score from 1 to 5.")},
            )
            fields[f"note_{question.code}"] = forms.CharField(
                label=_("Note on this question"), required=False, max_length=evaluations.ANSWER_NOTE_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        # The questions first, in their order; then the recommendation, the note and the evidence.
        self.fields = {**fields, **self.fields}

    def question_rows(self):
        """(question, its score field, its note field) for the template."""
        return [(q, self[f"score_{q.code}"], self[f"note_{q.code}"]) for q in self.questions]

    def answers(self) -> dict[str, tuple[int | None, str]]:
        data = self.cleaned_data
        return {q.code: (data.get(f"score_{q.code}"), data.get(f"note_{q.code}", "")) for q in self.questions}


class ConclusionForm(forms.Form):
    text = forms.CharField(
        label=_("Conclusion"), max_length=evaluations.CONCLUSION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The ministry's reading of the parties' evaluations and what should follow."),
        error_messages={"required": _("Write the conclusion.")},
    )
