"""English as written in Europe (settings.FORMAT_MODULE_PATH): day-month-year and the 24-hour
clock, like Django's en_GB formats but for the time. ISO input is always accepted too."""

DATE_FORMAT = "j M Y"  # 26 Nov 2026
TIME_FORMAT = "H:i"  # 14:35
DATETIME_FORMAT = "j M Y, H:i"  # 26 Nov 2026, 14:35
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
