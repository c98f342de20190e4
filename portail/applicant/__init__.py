"""The applicant's side (/demande): the deposit form, the prefill from open data, the receipt."""
