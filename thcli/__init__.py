"""thcli: a command-line tool for district sanctuary-scheme coordinators."""

__version__ = "0.1.0"
