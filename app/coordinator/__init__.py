"""The care coordinators' dashboard and JSON API: accounts, sign-in, alert queue, transcripts."""
