"""Ticket printing on the server: job table, in-process spooler, print agents, printer status."""
