"""The pure queue core: states, transitions, routing policy, numbering, ID numbers,
timing and wait estimates. Nothing in here does I/O or imports FastAPI/SQLAlchemy,
so the server, the simulator and the tests all run the same rules."""
