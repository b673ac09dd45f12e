"""absensi engine: rules, school data, flows, store, reports, scenarios and the CLI."""
