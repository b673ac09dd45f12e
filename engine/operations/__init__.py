"""Operations (SPEC §9): what the admin sees of the running service and is warned about.

The running service publishes what its drivers know into the database (`facts.publish`, called by the
application layer, the only part that talks to drivers); everything here reads the database only:

- `facts`: the service's health as one snapshot (devices, Telegram, engine, queues, database size);
- `conditions`: what needs attention in a snapshot, with the rules' thresholds (`settings.alerts`);
- `alerts`: incidents told to the admin once when they open and once when they clear, the daily summary;
- `views`: `/status` and `/sms` in Telegram; `sms_sheet`: SMS usage and cost as a table (text, xlsx).
"""
