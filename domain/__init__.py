"""The platform's rules in plain Python: no SQL, no GraphQL, so they are testable on their own."""
