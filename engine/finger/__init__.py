"""The school's second record (SPEC §10): fingerprint punches at the gate — the machines' files read
(`files.py`), stored once and mapped to students (`punches.py`), cross-checked with the officers' reports
(`checks.py`), and the parents' alfa SMS of a student who clocked in held for the wali kelas (`hold.py`)."""
