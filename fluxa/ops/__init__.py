"""Operations: the runbook's alarms and an event's or correlation id's trace."""
