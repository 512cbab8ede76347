"""Dead-letter queue triage: read without consuming, and replay what may be replayed."""
