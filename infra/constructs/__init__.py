"""CaseRoom's constructs, one module per concern; infra/stack.py wires them from the manifest."""
