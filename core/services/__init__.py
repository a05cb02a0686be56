"""Services: each module answers the questions of one user job, for pages and the CLI alike."""
