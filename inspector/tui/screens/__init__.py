"""Modal screens: choose a response, hold requests, manage rules, help."""
