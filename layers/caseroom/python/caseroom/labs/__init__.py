"""Labs and clinics: who makes what, on which calendar, in which time zone, for whom."""
