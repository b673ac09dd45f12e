"""The school's rule set: load `rules/*.yaml`, validate, cross-check and compile into state machines."""

from .compiler import CompiledRules, compile_rules, load_rules

__all__ = ["CompiledRules", "compile_rules", "load_rules"]
