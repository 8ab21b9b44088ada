"""Ways in: each door parses its own input into typed core commands and calls dispatch."""
