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
    "known_user": N_("No user of the platform has this user name or e-mail address: check it"),
    "registered_in_viis": N_("This address is not registered in VIIS for your institution: enter one of its addresses"),
    "in_coefficient_table": N_("Choose a programme group of the coefficient table in force"),
    "sums_to_total": N_("The theory and practice hours must add up to the total hours"),
    "not_above_level": N_("The entry level cannot be above the programme's DigComp level"),
    "own_location": N_("Choose your institution's own implementation locations"),
    "digcomp_range": N_("Choose a level from 1 to 8"),
    "positive": N_("Enter a number above 0"),
    "max_hours": N_("Enter at most 10,000 hours"),
    "not_before_start": N_("The end date cannot be before the start date"),
    "within_agreement": N_("The group must end before the cooperation agreement ends"),
    "max_ahead": N_("A group is scheduled at most two years ahead"),
    "not_in_past": N_("The date cannot be in the past"),
    "programme_location": N_("Choose one of the programme's implementation locations"),
    "not_below_enrolled": N_("The capacity cannot be below the number of learners enrolled"),
    "signature_missing": N_("The document carries no electronic signature: sign it with a qualified e-signature"),
    "timestamp_missing": N_("The signature carries no time stamp: sign it again with a qualified time stamp"),
    "digest_mismatch": N_("The document was changed after it was signed: sign it again"),
    "file_type": N_("Upload a PDF or an ASiC-E container (.edoc or .asice)"),
    "extension": N_("The file name must end in .pdf, .edoc or .asice"),
    "matches_content": N_("The file's name or type does not match what it contains"),
    "entry_damaged": N_("The container is damaged: sign and save it again"),
    "asic_mimetype": N_("This is not a valid ASiC-E container: sign and save it again"),
    "signed_document_missing": N_("The container holds no signed document"),
    "signature_malformed": N_("The signature cannot be read: sign the document again"),
    "timestamp_malformed": N_("The time stamp cannot be read: sign the document again"),
    "signature_format": N_("This kind of PDF signature is not accepted: use a qualified e-signature (PAdES)"),
    "signature_algorithm": N_("The signature uses an algorithm that is not accepted"),
    "digest_algorithm": N_("The signature uses a digest algorithm that is not accepted (SHA-256 or stronger)"),
    "encrypted": N_("The PDF is encrypted: upload it without a password"),
    "max_size": N_("The file is too large: a document may be at most 8 MB"),
    "unused": N_("This statement already belongs to a registration: upload a new one"),
    # the institution's offers: the three steps and their checks (calls' rules)
    "offer:required": N_("This is missing: fill it in"),
    "offer:consistent": N_("This does not agree with another part of the offer"),
    "offer:matches_register": N_("This does not match the public register (VIIS or the register of institutions)"),
    "offer:matches_licence": N_("This does not match the licensed programme"),
    "offer:provision": N_("State the equipment and the operating systems a learner needs in full"),
    "offer:coefficient": N_("The cost is not the one the coefficient table in force gives"),
    "offer:hours_split": N_("The theory and practice hours differ from the licensed curriculum"),
    "offer:document_required": N_("This document is required: upload it"),
    "offer:confirmed": N_("Confirm this statement"),
    "offer:signature": N_("The statement needs a qualified electronic signature with a time stamp"),
    "offer:max_programmes": N_("More programmes are ticked than the call takes from an institution"),
    "offer:accredited": N_("The call requires an accredited institution"),
    "offer:registered_years": N_("The institution has not been registered long enough for this call"),
    "offer:vocational_programme_years": N_(
        "The call requires a licensed, accredited vocational programme delivered for enough years"
    ),
    "offer:delivered_programmes": N_("The platform has not seen enough programmes delivered with enough completers"),
    "offer:licensed": N_("The call takes licensed programmes only"),
    "offer:programme_kind": N_("The call takes another kind of programme"),
    "offer:form": N_("The call takes programmes in another form of studies"),
    "offer:digcomp_range": N_("The programme's DigComp level is outside the call's range"),
    "offer:digital_share": N_("The programme's share of digital skills is below the call's minimum"),
    "offer:qualifications": N_("The programme does not aim at a qualification the call names"),
    "offer:known_programme": N_("Choose one of your institution's programmes"),
    "offer:curriculum_only": N_("Choose the programme for a curriculum, and only for a curriculum"),
    "offer:media_type": N_("Upload a PDF or an ASiC-E container (.edoc or .asice)"),
    # the institution's enrolments and study record (accounts' rules)
    "study_record:not_before_group_start": N_("The date is before the group begins"),
    "study_record:not_before_start": N_("The date is before the studies started"),
    "study_record:not_before_enrolment": N_("The date is before the learner enrolled"),
    "study_record:not_after_group_end": N_("The date is after the group's last day"),
    "study_record:not_in_future": N_("The date is in the future: record only what has happened"),
    "study_record:max_programme_hours": N_("That is more hours than the programme has"),
    "study_record:hours": N_("Enter the hours attended as a whole number, like 120"),
    "study_record:less_than_equal": N_("Enter the hours attended as a whole number, like 120"),
    "study_record:string_too_long": N_("The text is too long"),
    # the agency's applications, allocation and funding projects (accounts' rules)
    "applications:decided": N_("This application was decided already: see its state below"),
    "applications:budget_exhausted": N_("The project's budget has no grant left for this application"),
    "applications:reason_code": N_("Choose why the application is rejected"),
    "applications:reason": N_("Write the reason the learner will read"),
    "applications:string_too_long": N_("The text is too long"),
    "applications:not_allocatable": N_("This window cannot be allocated now: it is open still, or allocated already"),
    "applications:not_before_from": N_("The last day cannot come before the first"),
    "applications:date_from_datetime_parsing": N_("Enter a date, like 2026-12-31"),
    "applications:date_parsing": N_("Enter a date, like 2026-12-31"),
    "applications:known_project": N_("There is no such funding project"),
    # the agency's evaluation, decisions and agreements (calls' rules)
    "evaluation:unknown_user": N_("No user of the platform has this user name: check it"),
    "evaluation:refused_evaluator": N_("Only an agency administrator assigns the evaluator"),
    "evaluation:refused_findings": N_("Only the offer's evaluator records its findings"),
    "evaluation:refused_clarifications": N_("Only the offer's evaluator asks the institution for clarifications"),
    "evaluation:refused_decision": N_(
        "You evaluated this offer, so you may not decide it: another agency administrator decides it (four eyes)"
    ),
    "evaluation:refused_agreement": N_("Only an agency administrator records the agreement"),
    "evaluation:refused_file": N_("Only an agency administrator uploads the signed agreement"),
    "evaluation:not_now_evaluator": N_(
        "An evaluator is assigned once the offer deadline has passed, to a submitted offer"
    ),
    "evaluation:not_now_findings": N_("Findings are recorded while the offer is under evaluation"),
    "evaluation:not_now_clarifications": N_("Clarifications are asked while the offer is under evaluation"),
    "evaluation:not_now_decision": N_(
        "The offer cannot be decided now: from the call's decision day, once its evaluation is complete, and once only"
    ),
    "evaluation:not_now_agreement": N_(
        "The agreement is recorded once, for an approved offer, from the call's agreements day"
    ),
    "evaluation:not_now_file": N_("The agreement is signed once, after it is recorded, from the call's agreements day"),
    "evaluation:no_finding": N_("Choose a result for at least one criterion"),
    "evaluation:choose_outcome": N_("Choose whether to approve or reject the offer"),
    "evaluation:reason_needed": N_("Write a reason for each criterion the offer is rejected on"),
    "evaluation:choose_file": N_("Choose the file of the signed agreement"),
    "evaluation:code_taken": N_("Another call has this code: choose another"),
    "evaluation:number_taken": N_("Another agreement has this number: choose another"),
    "evaluation:criterion_line": N_(
        "Write each criterion on a line of its own: its code, its rule, then its parameters as name=value"
    ),
    "evaluation:need_line": N_(
        "Write each learning need on a line of its own: code | title in Latvian | title in English"
    ),
    "evaluation:to_the_minute": N_("Enter the time to the minute, without seconds"),
    "evaluation:riga_time": N_(
        "This time happens twice or not at all in Riga (a daylight-saving change): choose another"
    ),
    "evaluation:order": N_("This date is out of order: check it against the timeline"),
    "evaluation:one_of": N_(
        "Use one of the rules calls knows (for example accredited, registered_years, licensed, form)"
    ),
    "evaluation:required": N_("This field is required"),
    "evaluation:unique": N_("Each code may be given once"),
    "evaluation:type": N_("A parameter of this rule has a value of the wrong kind"),
    "evaluation:extra_forbidden": N_("This rule takes other parameters"),
    "evaluation:known_criterion": N_("Choose a criterion of this call"),
    "evaluation:criteria_met": N_(
        "An offer is approved only when no criterion is found not met: reject it, with reasons"
    ),
    "evaluation:approval_without_reasons": N_("An approval gives no reasons: leave them empty"),
    "evaluation:media_type": N_("Upload a PDF or an ASiC-E container (.edoc or .asice)"),
    "evaluation:date_from_datetime_parsing": N_("Enter a real date"),
    "evaluation:date_parsing": N_("Enter a real date"),
    "evaluation:date_type": N_("Enter a real date"),
    "evaluation:datetime_from_date_parsing": N_("Enter a date and a time to the minute"),
    "evaluation:datetime_parsing": N_("Enter a date and a time to the minute"),
    "evaluation:datetime_type": N_("Enter a date and a time to the minute"),
    "evaluation:int_parsing": N_("Enter a whole number"),
    "evaluation:int_type": N_("Enter a whole number"),
    "evaluation:greater_than_equal": N_("Enter a number from 1 to 50"),
    "evaluation:less_than_equal": N_("Enter a number from 1 to 50"),
    "evaluation:string_too_short": N_("This field is required"),
    "evaluation:value_error": N_("Enter years from 2000 to 2100"),
    # the agency's registrations, quality flags and statistics
    "registrations:choose_reason": N_("Choose why the registration is rejected"),
    "registrations:known": N_("Choose why the registration is rejected"),
    "registrations:enum": N_("Choose why the registration is rejected"),
    "registrations:reason_needed": N_("Write what the institution should correct"),
    "registrations:required": N_("Write what the institution should correct"),
    "registrations:too_long_2000": N_("Use 2,000 characters or fewer"),
    "registrations:string_too_long": N_("Use 2,000 characters or fewer"),
    "registrations:decided": N_("This registration was decided already: see its state below"),
}
OTHER = N_("Check this field")


def rule_message(rule: str) -> str:
    return RULES.get(rule, OTHER)
