"""One module per CLI command; `options` holds the options they share."""
