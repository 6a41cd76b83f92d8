"""The integrated safety control centre: hazards, ISA-18.2 alarms, incidents, CCTV,
water and traffic."""
