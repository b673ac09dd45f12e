"""What the engine can do, by name: the vocabulary the rules compiler checks a rule set against.

transitions accepts unknown callback names silently until they fire, so every trigger, condition,
action and template field a rule set may name is listed here, and the compiler refuses anything
else before a Machine is built. Each condition/action name is a method of the flow's context class
(`engine/flows/absences.py`, `engine/flows/registration.py`); a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowVocabulary:
    triggers: frozenset[str]
    conditions: frozenset[str]
    actions: frozenset[str]
    # Fired only at records in a state that only these transitions lead out of (a held alfa SMS): a flow
    # without that state needs no transition for them.
    optional_triggers: frozenset[str] = frozenset()


FLOWS: dict[str, FlowVocabulary] = {
    "absence": FlowVocabulary(
        triggers=frozenset({"officer_report", "withdraw", "parent_report", "correct"}),
        conditions=frozenset({"reason_notifies_parents", "reported_by_parent", "same_reason", "correction_clears",
                              "school_decision_recorded", "finger_holds_parents_sms"}),
        actions=frozenset(
            {
                "record",
                "erase",
                "notify_parents",
                "push_homeroom",
                "forward_parent_message",
                "confirm_parent",
                "tell_parent_reason_stands",
                "tell_parent_decision_stands",
                "hold_parents_sms",
                "tell_reporter_denied",
            }
        ),
        # the wali kelas's buttons on a held alfa SMS, and its cutoff (rules/finger.yaml `alfa_sms`)
        optional_triggers=frozenset({"confirm_alfa", "deny_alfa", "hold_expired"}),
    ),
    "registration": FlowVocabulary(
        triggers=frozenset({"reg_valid", "reg_invalid", "stop"}),
        conditions=frozenset(
            {"already_linked", "student_has_room", "wrong_code_limit_reached", "registration_blocked"}
        ),
        actions=frozenset(
            {
                "link_child",
                "reply_registered",
                "reply_student_full",
                "count_wrong_code",
                "reply_wrong_code",
                "block_registration",
                "unlink_all",
                "reply_stopped",
                "reply_not_registered",
            }
        ),
    ),
}

_STUDENT = frozenset({"student", "class", "school", "date", "nis"})

# Template name → the fields it may use. SMS templates are checked for length and alphabet.
SMS_TEMPLATES: dict[str, frozenset[str]] = {
    "reg_ok": _STUDENT,
    "reg_wrong_code": frozenset({"code", "school"}),
    "reg_student_full": _STUDENT | {"max"},
    "stop_ok": frozenset({"school"}),
    "not_registered": frozenset({"school"}),
    "parent_report_ok": _STUDENT | {"reason", "note"},
    "parent_choose_child": frozenset({"children", "example", "school"}),
    "parent_example_note": frozenset(),  # parent_choose_child's example note when the SMS had none
    "info_ok": frozenset({"school"}),
    "help": frozenset({"school"}),
    "alfa_parent": _STUDENT | {"reason"},
    "reason_parent": _STUDENT | {"reason"},
    "parent_report_stands": _STUDENT | {"reason"},
    "bridge_sms": frozenset({"role", "text", "name", "school"}),
    # operations (SPEC §9): to the admin's phone when Telegram is the part that is down
    "sms_alert": frozenset({"problem", "school"}),
    "sms_alert_cleared": frozenset({"problem", "school"}),
}
TELEGRAM_TEMPLATES: dict[str, frozenset[str]] = {
    "tg_welcome": frozenset({"school", "button"}),  # `button`: tg_contact_button, the keyboard's label
    "tg_not_linked": frozenset({"school", "button"}),
    "tg_contact_not_own": frozenset({"school", "button"}),
    "tg_contact_button": frozenset({"school"}),  # the share-contact button's label
    "tg_press_not_stored": frozenset({"school"}),  # said by the Telegram driver itself (engine/ports.DRIVER_TEXTS)
    "tg_contact_unknown": frozenset({"phone", "school"}),
    "tg_linked": frozenset({"name", "roles", "school"}),
    "tg_already_linked": frozenset({"name", "roles", "school"}),
    "tg_help": frozenset({"commands", "reporting", "school"}),
    "tg_help_report": frozenset({"reasons", "example"}),
    "tg_help_report_example": frozenset(),  # tg_help_report's `example`
    "tg_not_allowed": frozenset({"command"}),
    "tg_unknown_text": frozenset({"school"}),
    "tg_not_school_day": frozenset({"date"}),
    "tg_unknown_refs": frozenset({"refs", "class"}),
    "tg_report_needs_refs": frozenset({"example"}),
    "tg_class_list": frozenset({"class", "date", "list"}),
    "tg_class_list_empty": frozenset({"class", "date"}),
    "tg_parent_stands": _STUDENT | {"reason", "reported"},  # the officer's reason would have sent parents an SMS
    "tg_parent_stands_kept": _STUDENT | {"reason"},  # the officer's entry sends none (S, I, D, BATAL…)
    "tg_parent_forward": _STUDENT | {"reason", "note", "phone"},
    "tg_parent_forward_officer": _STUDENT | {"reason", "note", "phone"},
    "tg_info_forward": frozenset({"phone", "sender", "text", "date"}),
    "tg_alfa_push": _STUDENT | {"reason", "reporter", "parents"},
    "tg_bridge_sent": frozenset({"to"}),
    "tg_bridge_unknown": frozenset(),
    "tg_bridge_too_long": frozenset({"parts", "max", "cost", "over", "hint"}),
    "tg_bridge_emoji_hint": frozenset(),
    "tg_button_stale": frozenset({"date"}),
    "tg_buttons_intro": frozenset({"class", "date"}),
    "tg_buttons_pick_first": frozenset({"class", "date"}),  # a reason pressed with no student selected
    "tg_buttons_no_reason": frozenset({"class", "date", "students"}),  # Kirim with selected students left without a reason
    "tg_buttons_empty": frozenset(),
    "tg_buttons_cancelled": frozenset(),
    "tg_no_data": frozenset({"what"}),
    # … and what it has no data for (its `what`)
    "tg_what_scope": frozenset(),
    "tg_what_semester": frozenset({"semester"}),
    "tg_what_current_semester": frozenset(),
    "tg_what_nis": frozenset({"nis"}),
    "tg_what_nis_example": frozenset({"command"}),
    "tg_what_student": frozenset({"ref"}),
    # words inside other texts
    "tg_class_list_by_parent": frozenset(),  # after a class list's line the parent reported
    "tg_other_day": frozenset(),  # tg_button_stale's `date` when the button's day is unknown
    "tg_present": frozenset(),  # tg_corrected's `old`/`new` for present
    "tg_no_parent_phone": frozenset(),  # tg_alfa_push's `parents` when none is registered
    "tg_info_sender": frozenset({"children"}),  # tg_info_forward's `sender` when the number has children
    "tg_delivery_failed": frozenset({"to", "reason", "text"}),
    "tg_reply_cap": frozenset({"limit", "until", "school"}),
    "tg_cap_per_day": frozenset({"limit"}),  # tg_reply_cap's `limit` …
    "tg_cap_per_hour": frozenset({"limit"}),
    "tg_cap_until_hour": frozenset({"hour"}),  # … and `until`
    "tg_cap_until_tomorrow": frozenset(),
    "tg_reload_failed": frozenset({"count", "errors", "school"}),
    "tg_reload_done": frozenset({"changes", "school"}),
    "tg_corrected": _STUDENT | {"old", "new", "note"},
    "tg_correct_usage": frozenset({"example"}),
    "tg_correct_future": frozenset({"date"}),
    # operations (SPEC §9): what needs attention, in words the alerts, /status and the summary share …
    "ops_no_engine": frozenset(),
    "ops_modem_down": frozenset({"device", "state", "since"}),
    "ops_sim_full": frozenset({"device", "used", "total"}),
    "ops_pulsa_low": frozenset({"device", "pulsa", "threshold"}),
    "ops_outbox_waiting": frozenset({"count", "channel", "minutes"}),
    "ops_inbox_error": frozenset({"count"}),
    "ops_telegram_down": frozenset({"since", "error"}),
    "ops_finger_down": frozenset({"device", "since", "error"}),  # a fingerprint machine not pulled (SPEC §10)
    "ops_finger_error": frozenset({"error"}),  # ops_finger_down's `error`
    "ops_finger_full": frozenset({"device", "percent", "count", "capacity"}),
    # … the alerts, /status, the pulsa answer, the daily summary, /sms
    "tg_alert": frozenset({"problem", "since", "school"}),
    "tg_alert_cleared": frozenset({"problem", "since", "duration", "school"}),
    "tg_service_status": frozenset({"school", "time", "engine", "devices", "telegram", "queues", "inbox", "database",
                                    "problems", "pulsa"}),
    # … /status's lines (engine_line, device_line, telegram_line, queue_line; the web console's Status page too)
    "ops_engine_here": frozenset(),
    "ops_engine": frozenset({"holder", "since", "version", "standby"}),
    "ops_engine_since": frozenset({"time", "duration"}),
    "ops_engine_version": frozenset({"version"}),
    "ops_engine_standby": frozenset({"names"}),
    "ops_no_devices": frozenset(),
    "ops_device_modem": frozenset({"port"}),
    "ops_device_gateway": frozenset({"port"}),
    "ops_device_silent": frozenset({"device", "time"}),
    "ops_device_signal": frozenset({"bars", "dbm"}),
    "ops_device_last_send": frozenset({"time"}),
    "ops_device_last_receive": frozenset({"time"}),
    "ops_device_failed_today": frozenset({"count"}),
    "ops_telegram_unknown": frozenset(),
    "ops_telegram_off": frozenset(),
    "ops_telegram_lost": frozenset({"since", "error"}),
    "ops_telegram_flood": frozenset({"until"}),
    "ops_telegram_up": frozenset(),
    "ops_finger_device": frozenset({"port"}),  # a fingerprint machine's line: its name, …
    "ops_finger_failing": frozenset({"error"}),  # … its state when pulls fail, …
    "ops_finger_last_pull": frozenset({"time"}),
    "ops_finger_records": frozenset({"count", "capacity", "percent"}),
    "ops_finger_clock_ahead": frozenset({"minutes"}),
    "ops_finger_clock_behind": frozenset({"minutes"}),
    "ops_queues": frozenset({"queues", "sent", "parts", "cost", "failed"}),
    "ops_queue_oldest": frozenset({"age"}),
    "ops_inbox": frozenset({"waiting", "errors"}),
    "ops_problems": frozenset({"problems"}),
    "ops_all_normal": frozenset(),
    "tg_pulsa_checking": frozenset(),
    "tg_pulsa_result": frozenset({"time", "lines"}),
    "ops_pulsa_gateway": frozenset(),  # a device's pulsa, after its name
    "ops_pulsa_failed": frozenset({"error"}),
    "ops_pulsa_stale": frozenset(),
    "ops_pulsa_unknown": frozenset(),
    "ops_pulsa_unanswered": frozenset(),
    "ops_pulsa_no_modem": frozenset(),  # tg_pulsa_result's `lines` without a modem
    "ops_summary_missing": frozenset({"classes"}),  # tg_daily_summary's `missing` …
    "ops_summary_more": frozenset({"count"}),
    "ops_summary_problems": frozenset({"problems"}),  # … and `problems`
    "ops_summary_normal": frozenset(),
    "tg_daily_summary": frozenset({"school", "date", "reported", "classes", "missing", "alfa", "failed", "sms",
                                   "parts", "cost", "problems"}),
    "tg_sms_usage": frozenset({"school", "month", "kinds", "count", "parts", "failed", "cost", "price", "days"}),
    "tg_month_format": frozenset({"command", "example"}),
    # the web console (issue 13): the one-time login link, or why there is none
    "tg_web_link": frozenset({"school", "link", "minutes"}),
    "tg_web_off": frozenset({"school"}),
}
# fingerprint cross-checks (SPEC §10, rules/finger.yaml)
TELEGRAM_TEMPLATES.update({
    "tg_finger_absent": _STUDENT | {"reason", "time", "reporter"},
    "tg_finger_absent_reporter": _STUDENT | {"reason", "time"},
    "tg_finger_late": frozenset({"date", "bell", "count", "list"}),
    "tg_finger_nihil": frozenset({"class", "date", "time", "count", "list"}),
    "tg_finger_hold": frozenset({"until"}),  # added to the flag when the alfa SMS waits for the buttons
    "tg_alfa_held": frozenset({"time", "until"}),  # the alfa push's "SMS ke ortu" when it waits
    "tg_finger_confirmed": _STUDENT | {"reason", "parents"},
    "tg_finger_denied": _STUDENT | {"reason", "reporter"},
    "tg_finger_denied_reporter": _STUDENT | {"reason", "time", "by"},
    "tg_finger_hold_over": _STUDENT | {"reason", "what"},
})
# Reminder templates are named by settings.reminders; they may use these fields.
REMINDER_FIELDS = frozenset({"class", "date", "school"})
# A reason's parent notice (reasons.*.parent_sms) may use these fields.
PARENT_NOTICE_FIELDS = _STUDENT | {"reason"}

# Typical longest values, to judge whether an SMS template can outgrow one segment.
FIELD_SIZES: dict[str, int] = {
    "student": 30, "class": 10, "school": 24, "date": 17, "nis": 10, "code": 8, "max": 1,
    "reason": 10, "note": 40, "children": 60, "example": 20, "role": 22, "text": 60, "name": 30,
    "problem": 60,
}
