"""Incident command: an incident opened from alarms, with a commander, a timeline, tasks,
the companies around it from the hazard register, and a closing report."""
