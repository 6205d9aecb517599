"""Record validation: schema first, then the rules a schema cannot express."""
