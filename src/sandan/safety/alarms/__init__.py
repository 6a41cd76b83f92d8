"""The ISA-18.2 alarm engine: definitions, evaluation on telemetry batches, alarm states,
operator actions, the journal and the alarm-system KPIs."""
