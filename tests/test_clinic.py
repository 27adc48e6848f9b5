"""Clinic hours: parsed from the setting with clear errors, open or closed at a moment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.clinic import ClinicHours, ClinicHoursError
from app.settings import Settings

# 2026-12-07 is a Monday.
MONDAY_9_UTC = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "zone", "moment", "open_"),
    [
        ("Mon-Fri 08:00-18:00", "UTC", MONDAY_9_UTC, True),
        ("Mon-Fri 08:00-18:00", "UTC", MONDAY_9_UTC.replace(hour=18), False),  # closes at 18
        ("Mon-Fri 08:00-18:00", "UTC", MONDAY_9_UTC.replace(day=6), False),  # Sunday
        ("Mon-Fri 08:00-18:00", "America/New_York", MONDAY_9_UTC, False),  # 04:00 there
        ("Mon-Fri 08:00-18:00", "Asia/Shanghai", MONDAY_9_UTC, True),  # 17:00 there
        ("Sat-Mon 10:00-12:00", "UTC", MONDAY_9_UTC.replace(hour=11), True),  # wraps the week
        ("Mon-Fri 08:00-12:00; Sun 09:00-10:00", "UTC", MONDAY_9_UTC.replace(day=6), True),
        ("Mon-Sun 00:00-24:00", "UTC", MONDAY_9_UTC.replace(hour=23, minute=59), True),
    ],
)
def test_open_or_closed(spec, zone, moment, open_):
    assert ClinicHours.parse(spec, zone).is_open(moment) is open_


@pytest.mark.parametrize(
    ("spec", "zone", "message"),
    [
        ("weekdays 9 to 5", "UTC", "write days and times like"),
        ("Mon-Fri 18:00-08:00", "UTC", "closes before it opens"),
        ("Mon-Fri 08:00-25:00", "UTC", "not a time of day"),
        ("Mon-Fry 08:00-18:00", "UTC", "days are mon"),
        ("Mon-Fri 08:00-18:00", "Mars/Olympus", "time zone 'Mars/Olympus' is unknown"),
    ],
)
def test_bad_settings_are_explained(spec, zone, message):
    with pytest.raises(ClinicHoursError, match=message):
        ClinicHours.parse(spec, zone)


def test_settings_refuse_bad_hours_at_start_up():
    with pytest.raises(ValueError, match="write days and times like"):
        Settings(clinic_hours="whenever")


def test_what_the_patient_is_told():
    notice = ClinicHours.parse("Mon-Fri 08:00-18:00", "Europe/London", 90).notice(MONDAY_9_UTC)
    assert notice.clinic_open
    assert notice.hours == "Mon-Fri 08:00-18:00 (Europe/London)"
    assert notice.reply_time == "90 minutes"
    assert ClinicHours.parse("Mon 08:00-09:00", "UTC", 120).reply_time() == "2 hours"
