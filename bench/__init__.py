"""CaseRoom's on-demand benchmark harness: cold start, DynamoDB capacity and local load.

Run everything with `python -m bench` (or one part: `python -m bench cold-start|capacity|load`).
See bench/README.md for what each number means and the targets.
"""
