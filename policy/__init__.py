"""The project's Pulumi policy pack (see __main__.py); a package so that tests can import it."""
