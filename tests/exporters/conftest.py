"""The golden files include a generated test module: it is compared, not collected here."""

collect_ignore_glob = ["golden/*"]
