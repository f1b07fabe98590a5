"""Layer `sources`: one asset per raw extract (Salesforce, Marketo, LinkedIn), loaded from landing files."""
