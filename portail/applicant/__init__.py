"""applicant."""
