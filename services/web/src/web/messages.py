"""What the pages say about a rule an input broke, by the API's field and rule, to be translated (`N_` marks them for
the catalogue; the templates translate them)."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


RULES: dict[str, str] = {
    "format": N_("Enter the personal code as 11 digits, like 010203-12345"),
    "length": N_("A personal code has 11 digits"),
    "check_digit": N_("This personal code's check digit does not match: check the digits"),
    "birth_date": N_("The birth date in this personal code is not a real date"),
    "matches_personal_code": N_("The birth date differs from the one in the personal code"),
    "required_for_new_form_code": N_(
        "A personal code that starts with 32 carries no birth date: enter your birth date"
    ),
    "not_in_future": N_("The birth date must be in the past"),
    "adult": N_("A learning account is for adults: you can open one when you are 18"),
    "missing": N_("This field is required"),
    "date": N_("Enter a real date"),
    "exists": N_("You already have a learning account"),
    "too_long": N_("Use 500 characters or fewer"),
    "application_window": N_("This funding project does not accept applications now"),
    "minimum_age": N_("This funding project is for older learners"),
    "project_condition": N_("This funding project is for learners in another employment situation"),
    "known_learning_need": N_("Choose one of the learning needs listed"),
    "open_application": N_("You already have an open application to this funding project"),
    "budget_exhausted": N_("This funding project's budget is used up: new applications wait for money freed by others"),
    "not_a_credential": N_("This is not a credential: paste the whole text of the file you downloaded"),
    "range_1_8": N_("Choose a level from 1 to 8"),
    "level_range": N_("Choose a level from 1 to 8"),
    "stars_range": N_("Choose from 1 to 5 stars"),
    "bool_type": N_("Choose yes or no"),
    "unknown_option": N_("Choose one or more of the options listed"),
    "too_short": N_("Choose one or more of the options listed"),
    "string_too_long": N_("Use 2,000 characters or fewer"),
    "not_applicable": N_("Answer this only when you chose the option it is asked with"),
    "email": N_("Enter an e-mail address like anna@example.lv"),
    "phone": N_("Enter a phone number like +371 2000 0000"),
    "scheduled_group": N_("This group no longer takes learners: choose another group"),
    "published_programme": N_("This programme is no longer in the catalogue"),
    "group_of_programme": N_("Choose one of this programme's groups"),
    "free_place": N_("This group has no free place left: choose another group"),
    # the institution's registration, users, locations, programmes and groups (catalog's rules)
    # the institution's offers: the three steps and their checks (calls' rules)
    # the institution's enrolments and study record (accounts' rules)
    # the agency's applications, allocation and funding projects (accounts' rules)
    # the agency's evaluation, decisions and agreements (calls' rules)
    # the agency's registrations, quality flags and statistics
}
OTHER = N_("Check this field")


def rule_message(rule: str) -> str:
    return RULES.get(rule, OTHER)
