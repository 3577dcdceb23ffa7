"""The seed story (November 2024: did Hamas's leadership move from Qatar to Turkey?) as data."""
