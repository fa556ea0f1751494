"""Planning sessions: the lab publishes free blocks, the clinician books one (see README)."""
