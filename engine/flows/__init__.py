"""The workflows the rules compile to: absences, registration, routing, the schedule."""
