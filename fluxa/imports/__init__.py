"""Broker imports: executions (fills) read from a trader's files, turned into trades."""
