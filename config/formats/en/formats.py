"""Every date and time the admin shows names its zone (TIME_ZONE), so no time on a page is ambiguous."""

DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
