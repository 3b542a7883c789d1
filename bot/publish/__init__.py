"""From kb files to the index the bot serves: build, publish per agency, watch for changes, record the kb's commit."""
