"""The school's second record (SPEC §10): fingerprint punches at the gate — the machines' files read
(`files.py`), stored once and mapped to students (`punches.py`), and cross-checked with the officers'
reports (`checks.py`)."""
