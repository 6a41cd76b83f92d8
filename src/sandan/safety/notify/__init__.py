"""Notifications of alarms and incidents: in-app live alerts, email (SMTP) and a generic
webhook for SMS gateways, with escalation of alarms left unacknowledged."""
