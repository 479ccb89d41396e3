"""Tracking plans: read one (`plan`), check events against it (`checking`), infer one from the
history (`infer`). Protocols' Schema Configuration acting on a verdict is the local Segment's."""

from .checking import Checking, Verdict
from .infer import Inferred, infer, samples_of
from .plan import Plan, PlanError, Rule, load_plan, parse_plan

__all__ = ["Checking", "Inferred", "Plan", "PlanError", "Rule", "Verdict", "infer", "load_plan", "parse_plan",
           "samples_of"]
