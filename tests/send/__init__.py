"""Tests of `segment-inspector send`: the generated corpus and the sender."""
