"""The application layer: the CLI, the service, demo and scenarios — the only importer of drivers."""
