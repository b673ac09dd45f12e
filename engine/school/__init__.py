"""School data: the roster, calendar, phone numbers, the files a school edits."""
